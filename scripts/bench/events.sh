#!/usr/bin/env bash
# The events table under churn: a day of an ephemeral pool of 4 runners (a
# job every 30 s each) and a Runner whose image pull keeps failing, simulated
# on a fake clock against a real SQLite store, as the controller records and
# expires events (TTL 1 h, 100 per object, repeats counted). The peer is the
# table as keelson 0.1 kept it (a row per event, for ever), fed the same
# events in the same run. Prints rows and bytes after 1 hour and after HOURS,
# and the ratio; never asserts.
#
#   scripts/bench/events.sh [HOURS]      (default 24)
set -euo pipefail
cd "$(dirname "$0")/../.."
HOURS=${1:-24}
[[ -d build ]] || meson setup build --buildtype=debugoptimized >/dev/null
ninja -C build tests/events_bench >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=$(build/tests/events_bench "$work" "$HOURS")
echo "$out"
echo "$out" | awk 'NR > 1 && $5 > 0 {
  printf "%s: keelson keeps %.1f%% of the rows and %.1f%% of the bytes of 0.1 (%.0fx smaller)\n",
         $1, 100 * $3 / $5, 100 * $4 / $6, $6 / $4 }'
