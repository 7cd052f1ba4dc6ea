#!/usr/bin/env bash
# Store throughput: apply one file of N objects (default 10000) to a fresh
# store, re-apply it unchanged, then `get -o json` all of them; each step
# REPEAT times (default 5), the median shown. Two peers doing part of the
# work put the figures in scale, on the same data, in the same run:
#   - parse: PyYAML's C loader (libyaml) reading every document, no validation;
#   - store: the sqlite3 CLI inserting the same N objects as JSON rows in one
#     transaction, into a table with keelson's keys, no revisions or events.
# Prints objects per second and keelson's time over the peers' (apply
# (create) against parse + store, apply (unchanged) against parse); never
# asserts.
#
#   scripts/bench/store.sh [N]        (KEELSON=path/to/keelson to pick a binary)
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-10000}
REPEAT=${REPEAT:-5}
if [[ -z ${KEELSON:-} ]]; then
  [[ -d build ]] || meson setup build --buildtype=debugoptimized >/dev/null
  ninja -C build src/keelson >/dev/null
  KEELSON=build/src/keelson
fi
missing=()
command -v sqlite3 >/dev/null || missing+=(sqlite3)
python3 -c 'import yaml' 2>/dev/null || missing+=(python3-yaml)
if ((${#missing[@]})); then apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 - "$N" "$work/objects.yaml" "$work/rows.sql" <<'PY'
import json, sys, uuid
n, yaml_path, sql_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
kinds = ['Runner', 'Volume', 'Network']
with open(yaml_path, 'w') as y, open(sql_path, 'w') as s:
    s.write('CREATE TABLE objects (uid TEXT PRIMARY KEY, kind TEXT, namespace TEXT, name TEXT, '
            'labels TEXT, spec TEXT, UNIQUE (kind, namespace, name));\nBEGIN;\n')
    for i in range(n):
        kind = kinds[i % 3]
        labels = {'bench': 'store', 'shard': f's{i % 16}'}
        y.write(f'---\napiVersion: keelson.dev/v1alpha1\nkind: {kind}\nmetadata:\n  name: obj-{i}\n')
        y.write(f'  labels: {{bench: store, shard: s{i % 16}}}\n')
        if kind == 'Runner':
            spec = {'image': 'keelson-test/busybox:1', 'command': ['sleep', '3600'],
                    'env': [{'name': 'INDEX', 'value': str(i)}], 'resources': {'cpus': '0.5', 'memory': '64Mi'}}
            y.write('spec:\n  image: keelson-test/busybox:1\n  command: [sleep, "3600"]\n')
            y.write(f'  env: [{{name: INDEX, value: "{i}"}}]\n  resources: {{cpus: "0.5", memory: 64Mi}}\n')
        elif kind == 'Volume':
            spec = {'driver': 'local'}
            y.write('spec:\n  driver: local\n')
        else:
            spec = {'internal': True}
            y.write('spec:\n  internal: true\n')
        s.write(f"INSERT INTO objects VALUES ('{uuid.uuid4()}', '{kind}', 'default', 'obj-{i}', "
                f"'{json.dumps(labels)}', '{json.dumps(spec)}');\n")
    s.write('COMMIT;\n')
PY

# median_seconds CMD...: runs CMD (after $BEFORE, untimed) REPEAT times.
median_seconds() {
  local times=()
  for _ in $(seq "$REPEAT"); do
    eval "${BEFORE:-:}"
    local t0 t1
    t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N)
    times+=("$(python3 -c "print(${t1} - ${t0})")")
  done
  printf '%s\n' "${times[@]}" | sort -g | sed -n "$(((REPEAT + 1) / 2))p"
}
line() {  # LABEL SECONDS [PEER_SECONDS]
  python3 - "$N" "$@" <<'PY'
import sys
n, label, s = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
peer = f'   {s / float(sys.argv[4]):5.2f}x the peers' if len(sys.argv) > 4 else ''
print(f'{label:<32} {n / s:>9.0f} objects/s  ({s:.3f} s){peer}')
PY
}

db="$work/state.db"
fresh() { rm -f "$db" "$db-wal" "$db-shm" "$work/peer.db"; }
BEFORE=fresh apply_create=$(median_seconds "$KEELSON" --db "$db" apply -f "$work/objects.yaml")
BEFORE='' apply_same=$(median_seconds "$KEELSON" --db "$db" apply -f "$work/objects.yaml")
get_json=$(median_seconds "$KEELSON" --db "$db" get all -o json)
get_sel=$(median_seconds "$KEELSON" --db "$db" get runners -l shard=s3 -o name)
"$KEELSON" --db "$db" get all -o json >"$work/all.json"
got=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['items']))" "$work/all.json")
[[ $got == "$N" ]] || { echo "store.sh: get returned $got objects, expected $N" >&2; exit 1; }
size=$(stat -c %s "$db")

parse_peer=$(median_seconds python3 -c "
import sys, yaml
for _ in yaml.load_all(open(sys.argv[1]), Loader=yaml.CSafeLoader): pass" "$work/objects.yaml")
BEFORE=fresh store_peer=$(median_seconds sh -c "sqlite3 '$work/peer.db' <'$work/rows.sql'")
both=$(python3 -c "print($parse_peer + $store_peer)")

echo "keelson store benchmark: $N objects, $(nproc) cores, db $((size / 1024)) KiB, median of $REPEAT"
line "keelson apply (create)" "$apply_create" "$both"
line "keelson apply (unchanged)" "$apply_same" "$parse_peer"
line "keelson get all -o json" "$get_json"
line "keelson get -l shard=s3 -o name" "$get_sel"
line "peer: parse (PyYAML CLoader)" "$parse_peer"
line "peer: store (sqlite3 CLI)" "$store_peer"
echo "aims: apply >= 10000 objects/s, get >= 50000 objects/s"
