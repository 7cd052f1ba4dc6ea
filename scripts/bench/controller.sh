#!/usr/bin/env bash
# keelson's controller against its peers, in one run, on the same engine:
#
#   converge   N fresh containers for each N of SIZES ("50 500"): raw Engine
#              API calls with curl (one by one, 4, 8 and 16 at a time: the
#              engine's floor is the fastest), docker-compose up -d of N
#              services (the first size only), keelson with one RunnerPool
#              of N, keelson with N Runners; each REPEAT (3) times, the
#              median shown
#   scale      a converged pool of 50 to 100 and back to 50, against the
#              same creates and removes with curl at the floor's parallelism
#   no-op      OBJECTS (5000) converged Runners: engine calls of a resync
#              pass, its listing against curl listing the same containers,
#              and keelson's own work
#   repair     docker rm -f of a managed container until its replacement
#              runs (TRIALS=20): p50, p99, against the engine's own
#              create + start of one container
#   idle       controller CPU and peak RSS over IDLE_SECONDS (60) with OBJECTS converged
#
# The OBJECTS Runners run `true` once (restartPolicy Never): converged with
# their containers exited, since 5,000 running containers would need ~35 GB
# of containerd shims (~7 MB each) on a 24 GB machine.
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
SIZES=${SIZES-50 500} REPEAT=${REPEAT:-3} OBJECTS=${OBJECTS:-5000} TRIALS=${TRIALS:-20} IDLE_SECONDS=${IDLE_SECONDS:-60}
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
secs() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.3f}')" "$1" "$2"; }
median() { python3 -c "import statistics, sys; print(f'{statistics.median(map(float, sys.argv[1:])):.3f}')" "$@"; }
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}x')" "$1" "$2"; }
clean() {
  [[ -n $CTL_PID ]] && kill "$CTL_PID" 2>/dev/null && wait "$CTL_PID" 2>/dev/null
  CTL_PID=
  docker ps -aq --filter label=dev.keelson.bench=1 | xargs -r -n 200 docker rm -f >/dev/null
  docker ps -aq --filter label=dev.keelson.namespace=$NS | xargs -r -n 200 docker rm -f >/dev/null
  (cd "$W" && docker-compose -p kbench down -t 0 >/dev/null 2>&1) || true
}
trap 'clean; rm -rf "$W"' EXIT
# A command that fails stops the run (set -e): say which, never end silently.
trap 'echo "bench: failed at line $LINENO: $BASH_COMMAND (exit $?)" >&2' ERR
clean

# --- converge -----------------------------------------------------------------
raw_config() {  # raw_config FIRST LAST: create + start, one curl process reusing its connection
  local i
  for i in $(seq "$1" "$2"); do
    printf 'unix-socket = "%s"\nrequest = "POST"\nheader = "Content-Type: application/json"\n' "$SOCK"
    printf 'data = "{\\"Image\\":\\"%s\\",\\"Cmd\\":[\\"sleep\\",\\"3600\\"],\\"Labels\\":{\\"dev.keelson.bench\\":\\"1\\"}}"\n' "$IMAGE"
    printf 'url = "http://x/%s/containers/create?name=kbench-%s"\noutput = "/dev/null"\nnext\n' "$API" "$i"
    printf 'unix-socket = "%s"\nrequest = "POST"\nurl = "http://x/%s/containers/kbench-%s/start"\noutput = "/dev/null"\nnext\n' "$SOCK" "$API" "$i"
  done
  printf 'unix-socket = "%s"\nurl = "http://x/_ping"\n' "$SOCK"
}
raw_rm_config() {  # raw_rm_config FIRST LAST: stop (1 s, as keelson's stopTimeout) + remove
  local i
  for i in $(seq "$1" "$2"); do
    printf 'unix-socket = "%s"\nrequest = "POST"\nurl = "http://x/%s/containers/kbench-%s/stop?t=1"\noutput = "/dev/null"\nnext\n' "$SOCK" "$API" "$i"
    printf 'unix-socket = "%s"\nrequest = "DELETE"\nurl = "http://x/%s/containers/kbench-%s?v=1&force=1"\noutput = "/dev/null"\nnext\n' "$SOCK" "$API" "$i"
  done
  printf 'unix-socket = "%s"\nurl = "http://x/_ping"\n' "$SOCK"
}
raw_run() {  # raw_run MAKER FIRST LAST P: the calls MAKER writes for FIRST..LAST, P curl processes side by side
  local maker=$1 first=$2 last=$3 p=$4 n q i t0 t1
  n=$((last - first + 1)) q=$(((n + p - 1) / p))
  for ((i = 0; i < p; i++)); do
    ((i * q < n)) && "$maker" $((first + i * q)) $((first + (i + 1) * q - 1 < last ? first + (i + 1) * q - 1 : last)) >"$W/raw-$i.cfg"
  done
  t0=$(now)
  for f in "$W"/raw-*.cfg; do curl -s -K "$f" >/dev/null & done
  wait
  t1=$(now)
  rm -f "$W"/raw-*.cfg
  secs "$t0" "$t1"
}
raw_at() {  # raw_at N P: N creates + starts, P at a time, checked
  local t
  t=$(raw_run raw_config 1 "$1" "$2")
  [[ $(docker ps -q --filter label=dev.keelson.bench=1 | wc -l) -eq $1 ]] || { echo "bench: raw $2: not $1 running" >&2; exit 1; }
  echo "$t"
}

runner() { printf -- '---\napiVersion: keelson.dev/v1alpha1\nkind: Runner\nmetadata: {name: r%s, namespace: %s}\nspec: {image: %s, command: [sleep, "3600"], stopTimeout: 1s}\n' "$1" "$NS" "$IMAGE"; }
pool() { printf 'apiVersion: keelson.dev/v1alpha1\nkind: RunnerPool\nmetadata: {name: pool, namespace: %s}\nspec:\n  replicas: %s\n  template: {image: %s, command: [sleep, "3600"], stopTimeout: 1s}\n' "$NS" "$1" "$IMAGE"; }
keelson_converge() {  # keelson_converge FILE: fresh store, apply, controller --once
  rm -f "$W"/state.db*
  "$K" --db "$W/state.db" apply -f "$1" >/dev/null
  local t0 t1
  t0=$(now); "$K" --db "$W/state.db" --log-level warn controller --once --timeout 20m --listen off >/dev/null; t1=$(now)
  secs "$t0" "$t1"
}

echo "engine: $(docker version --format 'dockerd {{.Server.Version}}, API {{.Server.APIVersion}}'), $ENGINE_STATE"
echo "each converge figure is the median of $REPEAT runs"
FIRST=1 FLOOR_AT=16  # (SIZES="" skips the converge runs; scale then runs 16 at a time)
for N in $SIZES; do
  pool "$N" >"$W/pool.yaml"
  for i in $(seq 1 "$N"); do runner "$i"; done >"$W/runners.yaml"
  declare -A RAWS=() RAW=()
  POOLS=() RUNNERSS=()
  for ((r = 0; r < REPEAT; r++)); do
    for p in 1 4 8 16; do t=$(raw_at "$N" "$p"); sane "raw $p at a time" "$t"; RAWS[$p]+="$t "; clean; done
    t=$(keelson_converge "$W/pool.yaml"); sane pool "$t"; POOLS+=("$t"); clean
    t=$(keelson_converge "$W/runners.yaml"); sane runners "$t"; RUNNERSS+=("$t"); clean
  done
  for p in 1 4 8 16; do RAW[$p]=$(median ${RAWS[$p]}); done
  POOL=$(median "${POOLS[@]}") RUNNERS=$(median "${RUNNERSS[@]}")
  BEST=$(python3 -c "print(min(${RAW[1]}, ${RAW[4]}, ${RAW[8]}, ${RAW[16]}))")
  FLOOR_AT=$(for p in 1 4 8 16; do echo "${RAW[$p]} $p"; done | sort -g | head -1 | cut -d' ' -f2)
  echo "converge: $N containers created and started"
  printf '  %-34s %8ss\n' "raw API, one by one (curl)" "${RAW[1]}" "raw API, 4 at a time (curl)" "${RAW[4]}" \
    "raw API, 8 at a time (curl)" "${RAW[8]}" "raw API, 16 at a time (curl)" "${RAW[16]}"
  if ((FIRST)); then
    {
      echo "version: '2.4'"; echo "services:"
      for i in $(seq 1 "$N"); do
        printf '  s%s:\n    image: %s\n    command: [sleep, "3600"]\n    network_mode: none\n    labels: {dev.keelson.bench: "1"}\n' "$i" "$IMAGE"
      done
    } >"$W/docker-compose.yml"
    t0=$(now); (cd "$W" && docker-compose -p kbench up -d >/dev/null 2>&1); t1=$(now); COMPOSE=$(secs "$t0" "$t1")
    t0=$(now); (cd "$W" && docker-compose -p kbench up -d >/dev/null 2>&1); t1=$(now); COMPOSE_NOOP=$(secs "$t0" "$t1")
    clean
    sane compose "$COMPOSE"
    printf '  %-34s %8ss (once; no-op up -d: %ss)\n' "docker-compose up -d" "$COMPOSE" "$COMPOSE_NOOP"
  fi
  printf '  %-34s %8ss\n' "keelson, 1 RunnerPool of $N" "$POOL" "keelson, $N Runners" "$RUNNERS"
  echo "  engine floor: ${BEST}s ($FLOOR_AT at a time), $(python3 -c "print(f'{$BEST / $N * 1000:.1f}')") ms a container"
  echo "  keelson pool / floor:    $(ratio "$POOL" "$BEST")    runners / floor: $(ratio "$RUNNERS" "$BEST")$( ((FIRST)) && echo "    pool / compose: $(ratio "$POOL" "$COMPOSE")")"
  echo "  above the floor: pool $(python3 -c "print(f'{$POOL - $BEST:+.2f}')") s ($(python3 -c "print(f'{($POOL - $BEST) / $N * 1000:+.1f}')") ms a container), runners $(python3 -c "print(f'{$RUNNERS - $BEST:+.2f}')") s ($(python3 -c "print(f'{($RUNNERS - $BEST) / $N * 1000:+.1f}')") ms a container)"
  FIRST=0
done

# --- scale 50 -> 100 -> 50 ---------------------------------------------------------
UPS=() DOWNS=() RAW_UPS=() RAW_DOWNS=()
for ((r = 0; r < REPEAT; r++)); do
  raw_at 50 "$FLOOR_AT" >/dev/null
  t=$(raw_run raw_config 51 100 "$FLOOR_AT"); sane "raw scale up" "$t"; RAW_UPS+=("$t")
  t=$(raw_run raw_rm_config 51 100 "$FLOOR_AT"); sane "raw scale down" "$t"; RAW_DOWNS+=("$t")
  [[ $(docker ps -q --filter label=dev.keelson.bench=1 | wc -l) -eq 50 ]] || { echo "bench: raw scale: not 50 running" >&2; exit 1; }
  clean
  rm -f "$W"/state.db*
  pool 50 >"$W/pool.yaml"
  "$K" --db "$W/state.db" apply -f "$W/pool.yaml" >/dev/null
  "$K" --db "$W/state.db" --log-level warn controller --listen off --api-listen off >"$W/scale.log" 2>&1 &
  CTL_PID=$!
  "$K" --db "$W/state.db" -n $NS wait runnerpool/pool --for=condition=Ready --timeout 5m >/dev/null 2>&1
  for step in 100 50; do
    t0=$(now)
    "$K" --db "$W/state.db" -n $NS scale runnerpool pool --replicas "$step" >/dev/null
    "$K" --db "$W/state.db" -n $NS wait runnerpool/pool --for=condition=Ready --timeout 5m >/dev/null
    t1=$(now)
    n=$(docker ps -q --filter label=dev.keelson.namespace=$NS | wc -l)
    [[ $n -eq $step ]] || { echo "bench: keelson scale to $step: $n running" >&2; exit 1; }
    t=$(secs "$t0" "$t1"); sane "keelson scale to $step" "$t"
    if [[ $step == 100 ]]; then UPS+=("$t"); else DOWNS+=("$t"); fi
  done
  clean
done
RAW_UP=$(median "${RAW_UPS[@]}") RAW_DOWN=$(median "${RAW_DOWNS[@]}") UP=$(median "${UPS[@]}") DOWN=$(median "${DOWNS[@]}")
echo
echo "scale a converged pool 50 -> 100 -> 50 (raw: the same creates, and stops (1 s) + removes, $FLOOR_AT at a time)"
printf '  %-34s %8ss   keelson %8ss   %s\n' "up 50 -> 100" "$RAW_UP" "$UP" "$(ratio "$UP" "$RAW_UP")" \
  "down 100 -> 50" "$RAW_DOWN" "$DOWN" "$(ratio "$DOWN" "$RAW_DOWN")"
echo "  both ways: $(ratio "$(python3 -c "print($UP + $DOWN)")" "$(python3 -c "print($RAW_UP + $RAW_DOWN)")") the raw floor"

# --- no-op, repair, idle ----------------------------------------------------------
rm -f "$W"/state.db*
{
  for i in $(seq 1 "$OBJECTS"); do
    printf -- '---\napiVersion: keelson.dev/v1alpha1\nkind: Runner\nmetadata: {name: c%s, namespace: %s, labels: {role: once}}\nspec: {image: %s, command: ["true"], restartPolicy: Never}\n' "$i" "$NS" "$IMAGE"
  done
  printf -- '---\napiVersion: keelson.dev/v1alpha1\nkind: Runner\nmetadata: {name: repair, namespace: %s}\nspec: {image: %s, command: [sleep, "3600"], stopTimeout: 1s}\n' "$NS" "$IMAGE"
} >"$W/many.yaml"
"$K" --db "$W/state.db" apply -f "$W/many.yaml" >/dev/null
metric() { curl -s "http://127.0.0.1:$PORT/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
metric_sum() { curl -s "http://127.0.0.1:$PORT/metrics" | awk -v m="$1" 'index($1, m) == 1 {s += $2} END {print s + 0}'; }
"$K" --db "$W/state.db" --log-level warn controller --api-listen off --workers 16 --resync 2s --listen 127.0.0.1:$PORT >"$W/controller.log" 2>&1 &
CTL_PID=$!
t0=$(now)
"$K" --db "$W/state.db" -n $NS wait runner/repair --for=condition=Ready --timeout 60m >/dev/null 2>&1
until [[ $(docker ps -aq --filter label=dev.keelson.namespace=$NS --filter status=exited | wc -l) -ge $OBJECTS ]]; do
  (($(date +%s) - ${t0%.*} < 3600)) || { echo "bench: $OBJECTS Runners did not run in an hour" >&2; exit 1; }
  sleep 2
done
"$K" --db "$W/state.db" -n $NS wait runners -l role=once --for=condition=Ready=False --timeout 10m >/dev/null
t1=$(now)
[[ $(docker ps -aq --filter label=dev.keelson.namespace=$NS | wc -l) -eq $((OBJECTS + 1)) ]] || { echo "bench: not $((OBJECTS + 1)) containers" >&2; exit 1; }
echo
echo "converge of $OBJECTS Runners that run once, and 1 that runs on (16 workers; polled every 2 s): $(secs "$t0" "$t1")s"
sleep 10
r0=$(metric keelson_resyncs_total) q0=$(metric keelson_engine_requests_total) d0=$(metric_sum keelson_reconcile_duration_seconds_sum)
sleep 20
r1=$(metric keelson_resyncs_total) q1=$(metric keelson_engine_requests_total) d1=$(metric_sum keelson_reconcile_duration_seconds_sum)
LISTS=()
for i in 1 2 3 4 5; do  # the transfer's own time, without curl's process start
  LISTS+=("$(curl -s --unix-socket "$SOCK" -o /dev/null -w '%{time_total}' -G "http://x/$API/containers/json" \
    --data-urlencode all=1 --data-urlencode "filters={\"label\":[\"dev.keelson.managed-by=keelson\"]}")")
done
python3 - "$r0" "$r1" "$q0" "$q1" "$d0" "$d1" "$(metric keelson_last_resync_seconds)" "$(metric keelson_last_resync_listing_seconds)" \
  "$(metric 'keelson_last_resync_objects{result="unchanged"}')" "$(median "${LISTS[@]}")" "$OBJECTS" <<'PY'
import sys
r0, r1, q0, q1, d0, d1, total, listing, unchanged, curl, n = map(float, sys.argv[1:])
if r1 - r0 < 1 or q1 - q0 < 0 or total <= 0 or listing <= 0 or curl <= 0:
    sys.exit(f"bench: no-op figures impossible (resyncs {r1 - r0:.0f}, engine calls {q1 - q0:.0f}, "
             f"resync {total * 1000:.0f} ms, listing {listing * 1000:.0f} ms, curl {curl * 1000:.0f} ms): "
             "is the metrics port this controller's?")
passes = r1 - r0
own = (total - listing) + (d1 - d0) / passes
print(f"no-op resync pass over {int(n) + 1} converged objects ({passes:.0f} passes): {(q1 - q0) / passes:.1f} engine calls, "
      f"{unchanged:.0f} objects left alone")
print(f"  listing (3 list calls, answers parsed): {listing * 1000:.1f} ms; curl listing the same containers: "
      f"{curl * 1000:.1f} ms ({listing / curl:.2f}x)")
print(f"  keelson's own work: {own * 1000:.1f} ms ({(total - listing) * 1000:.1f} ms sweep and bookkeeping + "
      f"{(d1 - d0) / passes * 1000:.1f} ms reconciling)")
PY

python3 - "$SOCK" "$NS" "$TRIALS" "$IMAGE" <<'PY'
import http.client, json, socket, statistics, sys, time
sock, ns, trials, image = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
class Conn(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX); self.sock.connect(sock)
def call(method, path, body=None):
    c = Conn('x')
    c.request(method, '/v1.41' + path, body=json.dumps(body) if body is not None else None,
              headers={'Content-Type': 'application/json'} if body is not None else {})
    r = c.getresponse(); data = r.read(); c.close()
    return r.status, data
# The engine's own create + start of one container, as keelson's would be.
raw = []
for t in range(trials):
    t0 = time.monotonic()
    call('POST', f'/containers/create?name=kbench-one', {'Image': image, 'Cmd': ['sleep', '3600'],
                                                         'Labels': {'dev.keelson.bench': '1'}})
    call('POST', '/containers/kbench-one/start')
    raw.append(time.monotonic() - t0)
    call('DELETE', '/containers/kbench-one?force=1')
    time.sleep(0.2)
times = []
name = f'{ns}.repair'
for t in range(trials):
    old = json.loads(call('GET', f'/containers/{name}/json')[1])['Id']
    call('DELETE', f'/containers/{name}?force=1')
    t0 = time.monotonic()  # from the removal: what the repair itself takes
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
one = statistics.median(raw)
if one <= 0 or p(0.5) <= 0:
    raise SystemExit('bench: repair figures impossible')
print(f"repair (from docker rm -f until the replacement runs), {trials} trials: p50 {p(0.5) * 1000:.0f} ms, "
      f"p99 {p(0.99) * 1000:.0f} ms; the engine's own create + start: {one * 1000:.0f} ms (p50 {p(0.5) / one:.2f}x)")
PY

kill "$CTL_PID"; wait "$CTL_PID" 2>/dev/null || true
"$K" --db "$W/state.db" controller --listen off --api-listen off >"$W/idle.log" 2>&1 &
CTL_PID=$!
sleep 15
ticks() { awk '{print $14 + $15}' "/proc/$CTL_PID/stat"; }
c0=$(ticks); sleep "$IDLE_SECONDS"; c1=$(ticks)
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$CTL_PID/status")
python3 - "$c0" "$c1" "$(getconf CLK_TCK)" "$IDLE_SECONDS" "$hwm" "$OBJECTS" <<'PY'
import sys
c0, c1, hz, secs, hwm, n = map(float, sys.argv[1:])
if hwm <= 0 or c1 < c0:
    sys.exit('bench: idle figures impossible')
# CPU time is counted in clock ticks: none in the whole window is "below one tick", not zero.
cpu = f"{(c1 - c0) / hz / secs * 100:.2f}%" if c1 > c0 else f"< {1 / hz / secs * 100:.2f}% (no clock tick)"
print(f"idle with {int(n) + 1} converged objects (resync 30s), {int(secs)} s: CPU {cpu} of one core, "
      f"peak RSS {hwm / 1024:.1f} MB")
PY
