#!/usr/bin/env bash
# Store throughput: apply one file of N objects (default 10000) to a fresh
# store, re-apply it unchanged, then `get -o json` all of them.
# Prints objects per second for each step; never asserts.
#
#   scripts/bench/store.sh [N]        (KEELSON=path/to/keelson to pick a binary)
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-10000}
if [[ -z ${KEELSON:-} ]]; then
  [[ -d build ]] || meson setup build --buildtype=debugoptimized >/dev/null
  ninja -C build src/keelson >/dev/null
  KEELSON=build/src/keelson
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 - "$N" >"$work/objects.yaml" <<'PY'
import sys
n = int(sys.argv[1])
kinds = ['Runner', 'Volume', 'Network']
for i in range(n):
    kind = kinds[i % 3]
    print('---\napiVersion: keelson.dev/v1alpha1')
    print(f'kind: {kind}\nmetadata:\n  name: obj-{i}\n  labels: {{bench: store, shard: s{i % 16}}}')
    if kind == 'Runner':
        print('spec:\n  image: keelson-test/busybox:1\n  command: [sleep, "3600"]')
        print(f'  env: [{{name: INDEX, value: "{i}"}}]\n  resources: {{cpus: "0.5", memory: 64Mi}}')
    elif kind == 'Volume':
        print('spec:\n  driver: local')
    else:
        print('spec:\n  internal: true')
PY

now() { date +%s.%N; }
# rate N START END
rate() { python3 -c "import sys; n,s=int(sys.argv[1]),float(sys.argv[3])-float(sys.argv[2]); print(f'{n/s:>10.0f} objects/s  ({s:.3f} s)')" "$@"; }

db="$work/state.db"
t0=$(now); "$KEELSON" --db "$db" apply -f "$work/objects.yaml" >/dev/null; t1=$(now)
"$KEELSON" --db "$db" apply -f "$work/objects.yaml" >/dev/null; t2=$(now)
"$KEELSON" --db "$db" get all -o json >"$work/all.json"; t3=$(now)
"$KEELSON" --db "$db" get runners -l shard=s3 -o name >/dev/null; t4=$(now)

got=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['items']))" "$work/all.json")
[[ $got == "$N" ]] || { echo "store.sh: get returned $got objects, expected $N" >&2; exit 1; }

size=$(stat -c %s "$db")
echo "keelson store benchmark: $N objects, $(nproc) cores, db $((size / 1024)) KiB"
printf 'apply (create)      %s\n' "$(rate "$N" "$t0" "$t1")"
printf 'apply (unchanged)   %s\n' "$(rate "$N" "$t1" "$t2")"
printf 'get all -o json     %s\n' "$(rate "$N" "$t2" "$t3")"
printf 'get -l shard=s3     %s\n' "$(rate "$N" "$t3" "$t4")"
echo "aims: apply >= 10000 objects/s, get >= 50000 objects/s"
