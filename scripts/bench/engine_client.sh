#!/usr/bin/env bash
# keelson's Engine API client against curl --unix-socket, on the same calls:
# inspect one container N times, list 500 labelled containers, and create +
# remove containers. curl gets its best case: one process per sequence, so it
# reuses one connection, as keelson does. Prints each time and the ratio.
#
#   scripts/bench/engine_client.sh          (uses the isolated test engine; root)
set -euo pipefail
cd "$(dirname "$0")/../.."
[[ -d build ]] || meson setup build --buildtype=debugoptimized >/dev/null
ninja -C build tests/engine_bench >/dev/null
eval "$(scripts/test-engine.sh start)"
SOCK=${DOCKER_HOST#unix://}
B=build/tests/engine_bench
API=v1.41
IMAGE=keelson-test/busybox:1
LABEL=dev.keelson.bench=client
N_INSPECT=${N_INSPECT:-500} N_LIST=${N_LIST:-20} N_CREATE=${N_CREATE:-50} N_CONTAINERS=${N_CONTAINERS:-500}

cleanup() { docker ps -aq --filter "label=$LABEL" | xargs -r docker rm -f >/dev/null; }
trap cleanup EXIT
cleanup
echo "creating $N_CONTAINERS labelled containers..." >&2
for i in $(seq 1 "$N_CONTAINERS"); do
  echo "unix-socket = \"$SOCK\""  # --next resets every option
  echo 'request = "POST"'; echo 'header = "Content-Type: application/json"'
  echo "data = \"{\\\"Image\\\":\\\"$IMAGE\\\",\\\"Labels\\\":{\\\"dev.keelson.bench\\\":\\\"client\\\"}}\""
  echo "url = \"http://x/$API/containers/create?name=kb-$i\""; echo 'output = "/dev/null"'; echo 'next'
done >/tmp/kb-create.cfg
echo "unix-socket = \"$SOCK\"" >>/tmp/kb-create.cfg
echo 'url = "http://x/_ping"' >>/tmp/kb-create.cfg
curl -s --unix-socket "$SOCK" -K /tmp/kb-create.cfg >/dev/null

now() { date +%s.%N; }
curl_time() {  # curl_time CONFIG: one curl process running every request of CONFIG
  local t0 t1
  t0=$(now); curl -s --unix-socket "$SOCK" -K "$1" >/dev/null; t1=$(now)
  python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$t0" "$t1"
}

cfg=$(mktemp)
for _ in $(seq 1 "$N_INSPECT"); do echo "url = \"http://x/$API/containers/kb-1/json\""; echo 'output = "/dev/null"'; done >"$cfg"
c_inspect=$(curl_time "$cfg")
k_inspect=$($B inspect kb-1 "$N_INSPECT")

filters=$(python3 -c 'import json,urllib.parse,sys; print(urllib.parse.quote(json.dumps({"label":[sys.argv[1]]})))' "$LABEL")
for _ in $(seq 1 "$N_LIST"); do echo "url = \"http://x/$API/containers/json?all=1&filters=$filters\""; echo 'output = "/dev/null"'; done >"$cfg"
c_list=$(curl_time "$cfg")
k_list=$($B list "$LABEL" "$N_LIST")

: >"$cfg"
for i in $(seq 1 "$N_CREATE"); do
  { echo "unix-socket = \"$SOCK\""; echo 'request = "POST"'; echo 'header = "Content-Type: application/json"'
    echo "data = \"{\\\"Image\\\":\\\"$IMAGE\\\",\\\"Labels\\\":{}}\""
    echo "url = \"http://x/$API/containers/create?name=kbc-$i\""; echo 'output = "/dev/null"'; echo 'next'
    echo "unix-socket = \"$SOCK\""; echo 'request = "DELETE"'; echo "url = \"http://x/$API/containers/kbc-$i\""; echo 'output = "/dev/null"'; echo 'next'
  } >>"$cfg"
done
echo "unix-socket = \"$SOCK\"" >>"$cfg"
echo 'url = "http://x/_ping"' >>"$cfg"
c_create=$(curl_time "$cfg")
k_create=$($B create-remove "$IMAGE" kbk- "$N_CREATE")
rm -f "$cfg" /tmp/kb-create.cfg

python3 - "$c_inspect" "$k_inspect" "$c_list" "$k_list" "$c_create" "$k_create" \
  "$N_INSPECT" "$N_LIST" "$N_CREATE" "$N_CONTAINERS" <<'PY'
import sys
ci, ki, cl, kl, cc, kc = map(float, sys.argv[1:7])
ni, nl, nc, nn = map(int, sys.argv[7:11])
print(f"engine client benchmark ({nn} containers on the engine)")
print(f"{'sequence':34} {'curl':>10} {'keelson':>10} {'ratio':>7}")
for name, c, k, n in [(f'inspect x{ni}', ci, ki, ni), (f'list {nn} by label x{nl}', cl, kl, nl),
                      (f'create + remove x{nc}', cc, kc, nc)]:
    print(f"{name:34} {c*1000/n:8.2f}ms {k*1000/n:8.2f}ms {k/c:6.2f}x   (per call)")
print("aim: keelson's per-call overhead no more than 10% above curl's (ratio <= 1.10)")
PY
