#!/usr/bin/env bash
# The Kubernetes-compatible API against its peers, in one run, on one store
# of N Runners (default 10000), served by `keelson serve` (the API without
# the reconcile loop, so nothing else writes meanwhile):
#   - list all N: kubectl (JSON, and the server-side printed table), curl
#     (JSON), and keelson's own CLI reading the file (JSON, table); medians
#     of REPEAT (default 3) runs;
#   - watch latency: from a write (a merge patch) sent to its event arriving
#     on an open watch, p50 and p99 of WATCHES (default 200), beside the
#     write's own round trip;
#   - requests a second for get and for apply (a merge patch) from 4
#     clients on kept-alive connections for SECONDS (default 5), beside
#     keelson's CLI doing the same one process at a time.
# Prints the figures and the ratios; never asserts.
#
#   scripts/bench/api.sh [N]        (KEELSON=path/to/keelson to pick a binary)
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-10000}
REPEAT=${REPEAT:-3}
if [[ -z ${KEELSON:-} ]]; then
  [[ -d build ]] || meson setup build --buildtype=debugoptimized >/dev/null
  ninja -C build src/keelson >/dev/null
  KEELSON=build/src/keelson
fi
KEELSON=$(realpath "$KEELSON")
KUBECTL=$(scripts/kubectl.sh)
command -v curl >/dev/null || apt-get install -y -q --no-install-recommends curl >/dev/null

work=$(mktemp -d)
serve_pid=""
cleanup() {
  [[ -n $serve_pid ]] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "api.sh: failed at line $LINENO: $BASH_COMMAND" >&2' ERR
export KEELSON_DB=$work/state.db

python3 - "$N" "$work/runners.yaml" <<'PY'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, 'w') as f:
    for i in range(n):
        f.write(f'---\napiVersion: keelson.dev/v1alpha1\nkind: Runner\nmetadata:\n  name: obj-{i}\n'
                f'  labels: {{bench: api, shard: s{i % 16}}}\nspec:\n  image: keelson-test/busybox:1\n'
                f'  command: [sleep, "3600"]\n  resources: {{cpus: "0.5", memory: 64Mi}}\n')
PY
"$KEELSON" apply -f "$work/runners.yaml" >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$KEELSON" serve --api-listen "127.0.0.1:$port" --api-rate 0 2>"$work/serve.log" &
serve_pid=$!
for _ in $(seq 100); do
  curl -s --cacert "$KEELSON_DB.api-ca.crt" "https://127.0.0.1:$port/version" >/dev/null 2>&1 && break
  sleep 0.1
done
"$KEELSON" kubeconfig >"$work/kubeconfig"
token=$(sed -n 's/^ *token: "\(.*\)"$/\1/p' "$work/kubeconfig")
url="https://127.0.0.1:$port/apis/keelson.dev/v1alpha1/namespaces/default/runners"

# median CMD...: seconds, the median of REPEAT runs.
median() {
  local times=()
  for _ in $(seq "$REPEAT"); do
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s.%N)
    times+=("$(echo "$t1 - $t0" | bc -l)")
  done
  printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
command -v bc >/dev/null || apt-get install -y -q --no-install-recommends bc >/dev/null
kube=("$KUBECTL" --kubeconfig "$work/kubeconfig" --cache-dir "$work/kube-cache")
"${kube[@]}" get runners obj-0 >/dev/null  # discovery cached, as for a user's second command

echo "== list $N Runners (median of $REPEAT, seconds)"
kubectl_json=$(median "${kube[@]}" get runners -o json)
kubectl_table=$(median "${kube[@]}" get runners)
curl_json=$(median curl -sf --cacert "$KEELSON_DB.api-ca.crt" -H "Authorization: Bearer $token" "$url" -o /dev/null)
cli_json=$(median "$KEELSON" get runners -o json)
cli_table=$(median "$KEELSON" get runners)
printf '  %-34s %8.3f\n' "kubectl get -o json (API)" "$kubectl_json" "kubectl get (API, server table)" "$kubectl_table" \
  "curl (API, JSON)" "$curl_json" "keelson get -o json (file)" "$cli_json" "keelson get (file)" "$cli_table"
awk -v a="$curl_json" -v b="$cli_json" -v c="$kubectl_json" 'BEGIN {
  printf "  curl over the API / keelson CLI on the file: %.2fx; kubectl / curl: %.2fx\n", a / b, c / a }'

echo "== watch latency and requests a second"
python3 - "$port" "$token" "$KEELSON_DB.api-ca.crt" "${WATCHES:-200}" "${SECONDS_EACH:-5}" "$KEELSON" <<'PY'
import http.client, json, os, ssl, statistics, subprocess, sys, tempfile, threading, time
port, token, ca, watches, seconds, keelson = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), \
    float(sys.argv[5]), sys.argv[6]
ctx = ssl.create_default_context(cafile=ca)
base = '/apis/keelson.dev/v1alpha1/namespaces/default/runners'
headers = {'Authorization': 'Bearer ' + token}

def conn():
    return http.client.HTTPSConnection('127.0.0.1', port, context=ctx, timeout=30)

def patch(c, name, value):
    body = json.dumps({'metadata': {'labels': {'bench-step': value}}})
    c.request('PATCH', f'{base}/{name}', body=body,
              headers=dict(headers, **{'Content-Type': 'application/merge-patch+json'}))
    r = c.getresponse()
    r.read()
    assert r.status == 200, r.status

def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]

# Watch latency: one watch on obj-0, a patch at a time, timed to its event.
w = conn()
w.request('GET', f'{base}?watch=1&fieldSelector=metadata.name%3Dobj-0&timeoutSeconds=600', headers=headers)
stream = w.getresponse()
assert stream.status == 200, stream.status
first = json.loads(stream.readline())  # the ADDED of obj-0
writer = conn()
lat, rtt = [], []
for i in range(watches):
    value = f'v{i}'
    t0 = time.perf_counter()
    patch(writer, 'obj-0', value)
    t1 = time.perf_counter()
    while True:
        event = json.loads(stream.readline())
        if event['object']['metadata'].get('labels', {}).get('bench-step') == value:
            break
    t2 = time.perf_counter()
    lat.append((t2 - t0) * 1000)
    rtt.append((t1 - t0) * 1000)
print(f'  watch, writes over the API: write to event p50 {statistics.median(lat):.1f} ms, p99 {pct(lat, 99):.1f} ms '
      f'(the write alone: p50 {statistics.median(rtt):.1f} ms; {watches} writes)')
# Writes by another process (keelson apply on the file): seen at the hub's next look (every 20 ms).
one = os.path.join(tempfile.mkdtemp(), 'obj-0.yaml')
cli_lat, cli_own = [], []
for i in range(max(10, watches // 4)):
    with open(one, 'w') as f:
        f.write('apiVersion: keelson.dev/v1alpha1\nkind: Runner\nmetadata:\n  name: obj-0\n'
                f'  labels: {{bench: api, shard: s0, bench-step: c{i}}}\n'
                'spec: {image: keelson-test/busybox:1, command: [sleep, "3600"], resources: {cpus: "0.5", memory: 64Mi}}\n')
    t0 = time.perf_counter()
    subprocess.run([keelson, 'apply', '-f', one], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t1 = time.perf_counter()
    while True:
        event = json.loads(stream.readline())
        if event['object']['metadata'].get('labels', {}).get('bench-step') == f'c{i}':
            break
    t2 = time.perf_counter()
    cli_lat.append((t2 - t0) * 1000)
    cli_own.append((t1 - t0) * 1000)
w.close()
print(f'  watch, keelson apply -f (another process): start to event p50 {statistics.median(cli_lat):.1f} ms, '
      f'p99 {pct(cli_lat, 99):.1f} ms (the apply alone: p50 {statistics.median(cli_own):.1f} ms)')

def rate(work):
    count = [0] * 4
    stop = time.perf_counter() + seconds
    def run(k):
        c = conn()
        i = 0
        while time.perf_counter() < stop:
            work(c, k, i)
            i += 1
        count[k] = i
    threads = [threading.Thread(target=run, args=(k,)) for k in range(4)]
    for t in threads: t.start()
    for t in threads: t.join()
    return sum(count) / seconds

def get(c, k, i):
    c.request('GET', f'{base}/obj-{(k * 1000 + i) % 100}', headers=headers)
    r = c.getresponse()
    r.read()
    assert r.status == 200, r.status

def apply(c, k, i):
    patch(c, f'obj-{k + 1}', f'r{i}')

def cli_rate(args):
    n, stop = 0, time.perf_counter() + seconds
    while time.perf_counter() < stop:
        subprocess.run([keelson, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        n += 1
    return n / seconds

get_rps, apply_rps = rate(get), rate(apply)
cli_get = cli_rate(['get', 'runner', 'obj-5', '-o', 'json'])
one = os.path.join(tempfile.mkdtemp(), 'one.yaml')
with open(one, 'w') as f:
    f.write('apiVersion: keelson.dev/v1alpha1\nkind: Runner\nmetadata: {name: obj-9, labels: {bench: api}}\n'
            'spec: {image: keelson-test/busybox:1, command: [sleep, "3600"], resources: {cpus: "0.5", memory: 64Mi}}\n')
cli_apply = cli_rate(['apply', '-f', one])
print(f'  get:   {get_rps:8.0f} requests/s over the API (4 clients)   {cli_get:6.0f}/s keelson get (one process each)'
      f'   {get_rps / cli_get:.1f}x')
print(f'  apply: {apply_rps:8.0f} merge patches/s over the API         {cli_apply:6.0f}/s keelson apply -f (one each)'
      f'   {apply_rps / cli_apply:.1f}x')
PY
rss=$(awk '/VmRSS/ {print $2}' "/proc/$serve_pid/status")
echo "  keelson serve RSS after the run: $((rss / 1024)) MB"
