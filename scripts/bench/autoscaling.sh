#!/usr/bin/env bash
# An autoscaled RunnerPool against the raw Engine API, in one run, on the
# same engine. Jobs arrive as signed GitHub workflow_job webhooks on the
# controller's API; no runner registers with anything (busy is not
# observable here), so pickup is timed from the webhook to a container of
# the pool running:
#
#   cold    a pool with minIdle 0: p50 and p99 over SAMPLES (20) jobs, one at
#           a time (each completed, and the pool back at zero, before the
#           next), against the engine's own create + start of one container
#   warm    a pool with minIdle 2: a job finds a runner already running (no
#           container wait); the time until the pool has started the
#           replacement that keeps two waiting
#   burst   BURST (50) jobs queued at once from zero until BURST containers
#           run, against the raw API creating and starting as many 1, 4, 8
#           and 16 at a time (the best is the floor)
#
# Never run by the tests. Uses DOCKER_HOST if set, else the isolated test
# engine (root).
#
#   scripts/bench/autoscaling.sh          # SAMPLES=20 BURST=50
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/deps.sh engine
[[ -f build/build.ninja ]] || meson setup build --buildtype=debugoptimized >/dev/null
ninja -C build >/dev/null
if [[ -z ${DOCKER_HOST:-} ]]; then eval "$(scripts/test-engine.sh start)"; fi
export DOCKER_HOST
exec python3 scripts/bench/autoscaling.py "$PWD/build/src/keelson"
