#!/usr/bin/env bash
# keelson's controller against its peers, in one run, on the same engine:
#
#   converge   N fresh containers (N=50): raw Engine API calls with curl (one
#              by one, 4, 8 and 16 at a time: the engine's floor is the
#              fastest), docker-compose up -d of N services, keelson with one
#              RunnerPool of N, keelson with N Runners
#   no-op      OBJECTS (500) converged Runners: engine calls and time of one
#              full resync pass
#   repair     docker rm -f of a managed container until its replacement runs
#              (TRIALS=20): p50, p99
#   idle       controller CPU and peak RSS over IDLE_SECONDS (60) with OBJECTS converged
#
# Prints each figure and keelson's ratio to the best baseline. Never run by
# the tests. Uses DOCKER_HOST if set, else the isolated test engine (root),
# restarted first so every run starts from a fresh engine (KEEP_ENGINE=1:
# as it is). Refuses to run while another keelson controller runs (its
# engine calls would be counted), and refuses figures that cannot be true
# (zero or negative).
#
#   scripts/bench/controller.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-50} OBJECTS=${OBJECTS:-500} TRIALS=${TRIALS:-20} IDLE_SECONDS=${IDLE_SECONDS:-60}
scripts/deps.sh engine
command -v docker-compose >/dev/null || { apt-get install -y -q --no-install-recommends docker-compose >/dev/null; }
[[ -f build/build.ninja ]] || meson setup build --buildtype=debugoptimized >/dev/null
ninja -C build >/dev/null
if pgrep -a -f '(^|/)keelson( .*)? controller( |$)' >/dev/null; then
  echo "bench: another keelson controller is running; its engine calls and CPU would be measured too:" >&2
  pgrep -a -f '(^|/)keelson( .*)? controller( |$)' >&2
  exit 1
fi
ENGINE_STATE="as found (DOCKER_HOST)"
if [[ -z ${DOCKER_HOST:-} ]]; then
  ENGINE_STATE="the isolated test engine, as found (KEEP_ENGINE=1)"
  if [[ ${KEEP_ENGINE:-0} != 1 ]]; then
    scripts/test-engine.sh stop >/dev/null 2>&1 || true
    ENGINE_STATE="the isolated test engine, freshly started"
  fi
  eval "$(scripts/test-engine.sh start)"
fi
export DOCKER_HOST
SOCK=${DOCKER_HOST#unix://}
K=$PWD/build/src/keelson
IMAGE=keelson-test/busybox:1
API=v1.41
W=$(mktemp -d /tmp/keelson-bench.XXXXXX)
NS=bench
CTL_PID=

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
now() { date +%s.%N; }
# sane NAME VALUE: a duration, count or size that is zero or negative is a bug here, not a result.
sane() { python3 -c "import sys; v = float(sys.argv[2]); sys.exit(0 if v > 0 else f'bench: {sys.argv[1]} = {v}: impossible, refusing the run')" "$1" "$2"; }
secs() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$1" "$2"; }
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}x')" "$1" "$2"; }
clean() {
  [[ -n $CTL_PID ]] && kill "$CTL_PID" 2>/dev/null && wait "$CTL_PID" 2>/dev/null
  CTL_PID=
  docker ps -aq --filter label=dev.keelson.bench=1 | xargs -r docker rm -f >/dev/null
  docker ps -aq --filter label=dev.keelson.namespace=$NS | xargs -r docker rm -f >/dev/null
  (cd "$W" && docker-compose -p kbench down -t 0 >/dev/null 2>&1) || true
}
trap 'clean; rm -rf "$W"' EXIT
clean

# --- converge -----------------------------------------------------------------
raw_config() {  # raw_config FIRST LAST: create + start, one curl process reusing its connection
  for i in $(seq "$1" "$2"); do
    printf 'unix-socket = "%s"\nrequest = "POST"\nheader = "Content-Type: application/json"\n' "$SOCK"
    printf 'data = "{\\"Image\\":\\"%s\\",\\"Cmd\\":[\\"sleep\\",\\"3600\\"],\\"Labels\\":{\\"dev.keelson.bench\\":\\"1\\"}}"\n' "$IMAGE"
    printf 'url = "http://x/%s/containers/create?name=kbench-%s"\noutput = "/dev/null"\nnext\n' "$API" "$i"
    printf 'unix-socket = "%s"\nrequest = "POST"\nurl = "http://x/%s/containers/kbench-%s/start"\noutput = "/dev/null"\nnext\n' "$SOCK" "$API" "$i"
  done
  printf 'unix-socket = "%s"\nurl = "http://x/_ping"\n' "$SOCK"
}
raw_at() {  # raw_at P: N creates + starts, P curl processes side by side
  local p q t0 t1
  q=$(((N + $1 - 1) / $1))
  for ((p = 0; p < $1; p++)); do
    ((p * q + 1 <= N)) && raw_config $((p * q + 1)) $(((p + 1) * q < N ? (p + 1) * q : N)) >"$W/raw-$1-$p.cfg"
  done
  t0=$(now)
  for f in "$W"/raw-"$1"-*.cfg; do curl -s -K "$f" >/dev/null & done
  wait
  t1=$(now)
  [[ $(docker ps -q --filter label=dev.keelson.bench=1 | wc -l) -eq $N ]] || { echo "bench: raw $1: not $N running" >&2; exit 1; }
  rm -f "$W"/raw-"$1"-*.cfg
  secs "$t0" "$t1"
}
declare -A RAW
for p in 1 4 8 16; do RAW[$p]=$(raw_at "$p"); sane "raw $p at a time" "${RAW[$p]}"; clean; done
RAW1=${RAW[1]}

{
  echo "version: '2.4'"; echo "services:"
  for i in $(seq 1 "$N"); do
    printf '  s%s:\n    image: %s\n    command: [sleep, "3600"]\n    network_mode: none\n    labels: {dev.keelson.bench: "1"}\n' "$i" "$IMAGE"
  done
} >"$W/docker-compose.yml"
t0=$(now); (cd "$W" && docker-compose -p kbench up -d >/dev/null 2>&1); t1=$(now); COMPOSE=$(secs "$t0" "$t1")
t0=$(now); (cd "$W" && docker-compose -p kbench up -d >/dev/null 2>&1); t1=$(now); COMPOSE_NOOP=$(secs "$t0" "$t1")
clean

runner() { printf -- '---\napiVersion: keelson.dev/v1alpha1\nkind: Runner\nmetadata: {name: r%s, namespace: %s}\nspec: {image: %s, command: [sleep, "3600"], stopTimeout: 1s}\n' "$1" "$NS" "$IMAGE"; }
printf 'apiVersion: keelson.dev/v1alpha1\nkind: RunnerPool\nmetadata: {name: pool, namespace: %s}\nspec:\n  replicas: %s\n  template: {image: %s, command: [sleep, "3600"], stopTimeout: 1s}\n' "$NS" "$N" "$IMAGE" >"$W/pool.yaml"
for i in $(seq 1 "$N"); do runner "$i"; done >"$W/runners.yaml"
keelson_converge() {  # keelson_converge FILE: fresh store, apply, controller --once
  rm -f "$W"/state.db*
  "$K" --db "$W/state.db" apply -f "$1" >/dev/null
  local t0 t1
  t0=$(now); "$K" --db "$W/state.db" --log-level warn controller --once --timeout 10m --listen off >/dev/null; t1=$(now)
  secs "$t0" "$t1"
}
POOL=$(keelson_converge "$W/pool.yaml"); clean
RUNNERS=$(keelson_converge "$W/runners.yaml"); clean

for v in COMPOSE POOL RUNNERS; do sane "$v" "${!v}"; done
BEST=$(python3 -c "print(min(${RAW[1]}, ${RAW[4]}, ${RAW[8]}, ${RAW[16]}))")
FLOOR_AT=$(for p in 1 4 8 16; do echo "${RAW[$p]} $p"; done | sort -g | head -1 | cut -d' ' -f2)
echo "engine: $(docker version --format 'dockerd {{.Server.Version}}, API {{.Server.APIVersion}}'), $ENGINE_STATE"
echo "converge: $N containers created and started"
printf '  %-34s %8ss\n' "raw API, one by one (curl)" "${RAW[1]}" "raw API, 4 at a time (curl)" "${RAW[4]}" \
  "raw API, 8 at a time (curl)" "${RAW[8]}" "raw API, 16 at a time (curl)" "${RAW[16]}" \
  "docker-compose up -d" "$COMPOSE" "keelson, 1 RunnerPool of $N" "$POOL" "keelson, $N Runners" "$RUNNERS"
echo "  engine floor: ${BEST}s ($FLOOR_AT at a time), $(python3 -c "print(f'{$BEST / $N * 1000:.1f}')") ms a container"
echo "  keelson pool / best raw:    $(ratio "$POOL" "$BEST")     keelson pool / compose:    $(ratio "$POOL" "$COMPOSE")"
echo "  keelson runners / best raw: $(ratio "$RUNNERS" "$BEST")     keelson runners / compose: $(ratio "$RUNNERS" "$COMPOSE")"
echo "  above the floor, per container: pool $(python3 -c "print(f'{($POOL - $BEST) / $N * 1000:.1f}')") ms, runners $(python3 -c "print(f'{($RUNNERS - $BEST) / $N * 1000:.1f}')") ms"
echo "  docker-compose no-op up -d of $N services: ${COMPOSE_NOOP}s"

# --- no-op, repair, idle ----------------------------------------------------------
rm -f "$W"/state.db*
for i in $(seq 1 "$OBJECTS"); do runner "$i"; done >"$W/many.yaml"
"$K" --db "$W/state.db" apply -f "$W/many.yaml" >/dev/null
metric() { curl -s "http://127.0.0.1:$PORT/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
metric_sum() { curl -s "http://127.0.0.1:$PORT/metrics" | awk -v m="$1" 'index($1, m) == 1 {s += $2} END {print s + 0}'; }
"$K" --db "$W/state.db" controller --resync 2s --listen 127.0.0.1:$PORT >"$W/controller.log" 2>&1 &
CTL_PID=$!
t0=$(now)
"$K" --db "$W/state.db" -n $NS wait runners --all --for=condition=Ready --timeout 20m >/dev/null
t1=$(now)
echo
echo "converge of $OBJECTS Runners (4 workers): $(secs "$t0" "$t1")s"
sleep 3
# keelson_engine_requests_total leaves out the readiness pings (they are in
# keelson_engine_calls_total{operation="ping"}): nothing to subtract here.
r0=$(metric keelson_resyncs_total) q0=$(metric keelson_engine_requests_total) d0=$(metric_sum keelson_reconcile_duration_seconds_sum)
sleep 10
r1=$(metric keelson_resyncs_total) q1=$(metric keelson_engine_requests_total) d1=$(metric_sum keelson_reconcile_duration_seconds_sum)
python3 - "$r0" "$r1" "$q0" "$q1" "$d0" "$d1" "$(metric keelson_last_resync_seconds)" "$OBJECTS" <<'PY'
import sys
r0, r1, q0, q1, d0, d1, last, n = map(float, sys.argv[1:])
if r1 - r0 < 1 or q1 - q0 < 0 or last <= 0:
    sys.exit(f"bench: no-op figures impossible (resyncs {r1 - r0:.0f}, engine calls {q1 - q0:.0f}, "
             f"listing {last * 1000:.0f} ms): is the metrics port this controller's?")
passes = r1 - r0
print(f"no-op resync pass over {int(n)} converged objects: {(q1 - q0) / passes:.1f} engine calls, "
      f"{last * 1000:.0f} ms listing + {(d1 - d0) / passes * 1000:.0f} ms reconciling (summed over workers)")
PY

python3 - "$SOCK" "$NS" "$TRIALS" <<'PY'
import http.client, json, socket, sys, time
sock, ns, trials = sys.argv[1], sys.argv[2], int(sys.argv[3])
class Conn(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX); self.sock.connect(sock)
def call(method, path):
    c = Conn('x'); c.request(method, '/v1.41' + path); r = c.getresponse(); body = r.read(); c.close()
    return r.status, body
times = []
for t in range(trials):
    name = f'{ns}.r{t + 1}'
    old = json.loads(call('GET', f'/containers/{name}/json')[1])['Id']
    t0 = time.monotonic()
    call('DELETE', f'/containers/{name}?force=1')
    while True:
        status, body = call('GET', f'/containers/{name}/json')
        if status == 200:
            j = json.loads(body)
            if j['Id'] != old and j['State']['Running']:
                break
        if time.monotonic() - t0 > 30:
            raise SystemExit(f'{name} not repaired in 30 s')
        time.sleep(0.01)
    times.append(time.monotonic() - t0)
    time.sleep(0.5)
times.sort()
p = lambda q: times[min(len(times) - 1, int(q * len(times)))]
print(f"repair (docker rm -f until the replacement runs), {trials} trials: p50 {p(0.5) * 1000:.0f} ms, p99 {p(0.99) * 1000:.0f} ms")
PY

kill "$CTL_PID"; wait "$CTL_PID" 2>/dev/null || true
"$K" --db "$W/state.db" controller --listen off >"$W/idle.log" 2>&1 &
CTL_PID=$!
sleep 15
ticks() { awk '{print $14 + $15}' "/proc/$CTL_PID/stat"; }
c0=$(ticks); sleep "$IDLE_SECONDS"; c1=$(ticks)
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$CTL_PID/status")
python3 - "$c0" "$c1" "$(getconf CLK_TCK)" "$IDLE_SECONDS" "$hwm" "$OBJECTS" <<'PY'
import sys
c0, c1, hz, secs, hwm, n = map(float, sys.argv[1:])
print(f"idle with {int(n)} converged objects (resync 30s), {int(secs)} s: CPU {(c1 - c0) / hz / secs * 100:.2f}% of one core, "
      f"peak RSS {hwm / 1024:.1f} MB")
PY
