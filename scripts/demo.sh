#!/usr/bin/env bash
# The demo: install what is needed, build, apply samples/ to a fresh store and
# show the result. The store lives in .keelson/ of this checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
[[ -f build/build.ninja ]] || meson setup build --buildtype=debugoptimized >/dev/null
ninja -C build >/dev/null
k() { echo "\$ keelson $*" >&2; ./build/src/keelson "$@"; }

export KEELSON_DB=$PWD/.keelson/demo.db
rm -f "$KEELSON_DB" "$KEELSON_DB-wal" "$KEELSON_DB-shm"

k apply -f samples/
echo
k get all
echo
k diff -f samples/ && echo "(no differences: the store matches samples/)"
echo
k scale runnerpool ci-runners --replicas 5
k history runnerpool ci-runners
echo
k describe runnerpool ci-runners
