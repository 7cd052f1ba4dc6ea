#!/usr/bin/env bash
# keelson's git source against its peer, in one run, on the same engine:
#
#   webhook    commit -> revision applied (status.lastAppliedRevision), with a
#              signed push webhook to the controller's API and interval 1h:
#              p50 and p90 over COMMITS (20) commits
#   polling    the same with interval POLL (2s) and no webhook: p50 against
#              half the interval, the wait a poll adds on average
#   peer       what the systemd path unit does after a commit: `git pull`
#              into a checkout and `keelson apply -R --prune` of it, timed
#              by hand for the same commits (no controller involved): the
#              floor the webhook path is compared with
#   no-change  one poll that finds the same commit, by keelson's fetch helper
#              (`keelson __git-fetch` on the mirror, what each interval runs)
#              against `git ls-remote` of the same remote; objects the mirror
#              gained (must be 0) and store writes across POLLS (10) polls
#              (must be 0)
#
# Each commit changes one of OBJECTS (20) Volumes' labels. Prints each figure
# and the ratios. Never run by the tests. Uses DOCKER_HOST if set, else the
# isolated test engine (root).
#
#   scripts/bench/gitops.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/deps.sh engine
[[ -f build/build.ninja ]] || meson setup build --buildtype=debugoptimized >/dev/null
ninja -C build >/dev/null
if [[ -z ${DOCKER_HOST:-} ]]; then eval "$(scripts/test-engine.sh start)"; fi
export DOCKER_HOST
exec python3 scripts/bench/gitops.py "$PWD/build/src/keelson"
