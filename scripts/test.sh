#!/usr/bin/env bash
# Runs every test suite of keelson on this machine, installing what is missing.
# The last line is the total: "N passed, N failed".
#   scripts/test.sh                 all suites
#   scripts/test.sh unit            one meson suite (unit, cli, ...)
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${KEELSON_TEST_BUILD:-$root/build-test}

scripts/deps.sh || { echo "test: installing dependencies failed"; echo "0 passed, 1 failed"; exit 1; }

if [[ ! -f "$build/build.ninja" ]]; then
  meson setup "$build" -Dwerror=true --buildtype=debugoptimized >/dev/null || {
    echo "0 passed, 1 failed"; exit 1; }
fi
if ! ninja -C "$build" >"$build/ninja.log" 2>&1; then
  tail -50 "$build/ninja.log"
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

suites=()
for s in "$@"; do suites+=(--suite "$s"); done

# The integration suite runs against an isolated engine of its own (never the
# user's DOCKER_HOST); it is stopped again if this run started it.
engine_failed=0
started_engine=0
if [[ $# -eq 0 || " $* " == *" integration "* ]]; then
  if scripts/test-engine.sh status 2>/dev/null; then
    :
  elif scripts/test-engine.sh start >/dev/null; then
    started_engine=1
  else
    echo "test: the isolated engine did not start; the integration suite cannot run"
    engine_failed=1
  fi
  eval "$(scripts/test-engine.sh env)"
  export DOCKER_HOST
fi

meson test -C "$build" --print-errorlogs --num-processes 2 "${suites[@]}"
rc=$?
((engine_failed)) && rc=1
((started_engine)) && scripts/test-engine.sh stop

fuzz_result=""
if [[ $# -eq 0 ]] && command -v clang++ >/dev/null; then
  scripts/fuzz.sh 30 && fuzz_result=pass || { fuzz_result=fail; rc=1; }
fi

# Totals: each suite prints its own "N passed, N failed" (doctest prints its
# "test cases:" line); a test without one counts as one case.
python3 - "$build/meson-logs/testlog.json" "$fuzz_result" "$engine_failed" <<'PY'
import json, re, sys
passed = failed = 0
for line in open(sys.argv[1]):
    t = json.loads(line)
    out = t.get('stdout') or ''
    if t['result'] == 'SKIP':
        continue  # counted neither way
    ok = t['result'] in ('OK', 'EXPECTEDFAIL')
    m = re.findall(r'test cases:\s*(\d+) \|\s*(\d+) passed \|\s*(\d+) failed', out)
    n = re.findall(r'^(\d+) passed, (\d+) failed', out, re.M)
    if m:
        passed += int(m[-1][1]); failed += int(m[-1][2])
    elif n:
        passed += int(n[-1][0]); failed += int(n[-1][1])
    else:
        passed += ok; failed += not ok
    if not ok and not (m and int(m[-1][2])) and not (n and int(n[-1][1])):
        failed += 1  # the suite failed outside its own cases (crash, timeout)
if sys.argv[2] == 'pass': passed += 1
if sys.argv[2] == 'fail': failed += 1
if sys.argv[3] == '1': failed += 1
print(f"{passed} passed, {failed} failed")
PY
exit $rc
