#!/usr/bin/env bash
# Builds the libFuzzer target with clang and runs it for SECONDS (default 60),
# seeded from samples/ and the bad-input corpus.
#   scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
build=${KEELSON_FUZZ_BUILD:-build-fuzz}
if [[ ! -f "$build/build.ninja" ]]; then
  CXX=clang++ meson setup "$build" -Dfuzzers=true -Dintegration_tests=false --buildtype=debugoptimized >/dev/null
fi
ninja -C "$build" tests/fuzz_manifest >"$build/ninja.log" 2>&1 || { tail -30 "$build/ninja.log"; exit 1; }
corpus="$build/fuzz-corpus"
mkdir -p "$corpus"
cp samples/*.yaml tests/bad-input/*.yaml "$corpus"/ 2>/dev/null || true
"$build/tests/fuzz_manifest" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 \
  -print_final_stats=1 "$corpus" >"$build/fuzz.log" 2>&1 || { tail -40 "$build/fuzz.log"; exit 1; }
echo "fuzz: $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$build/fuzz.log" | grep -o '[0-9]*$') inputs in ${secs}s, no crash"
