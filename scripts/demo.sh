#!/usr/bin/env bash
# The demo: install what is needed, build, connect to an engine (DOCKER_HOST
# if set, else the isolated one of scripts/test-engine.sh), apply samples/ to
# a fresh store and show the result. The store lives in .keelson/ of this checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
[[ -f build/build.ninja ]] || meson setup build --buildtype=debugoptimized >/dev/null
ninja -C build >/dev/null
k() { echo "\$ keelson $*" >&2; ./build/src/keelson "$@"; }

if [[ -z ${DOCKER_HOST:-} ]]; then
  echo "demo: starting the isolated engine (scripts/test-engine.sh start; stop it with scripts/test-engine.sh stop)" >&2
  eval "$(scripts/test-engine.sh start)"
  export DOCKER_HOST
fi
k version
echo

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
