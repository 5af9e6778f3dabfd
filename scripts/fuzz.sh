#!/usr/bin/env bash
# Fuzzes each parser with libFuzzer for SECONDS (default 30) and fails on any crash, leak, sanitizer
# report or input that takes too long or too much memory. Builds build-fuzz/ with clang first.
# usage: scripts/fuzz.sh [SECONDS] [HARNESS...]   (harnesses: tests/fuzz/CMakeLists.txt)
# A crash leaves its input in build-fuzz/crashes/HARNESS/; once fixed, copy it to
# tests/fuzz/regressions/HARNESS/ so the test suite replays it from then on.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(model_text model_file idx cifar npy hdf5 image onnx serve)
CC=clang cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFOVEA_FUZZ=ON >/dev/null
cmake --build build-fuzz --target $(printf "fuzz_%s " "${harnesses[@]}") >build-fuzz.log 2>&1 || { tail -20 build-fuzz.log; exit 1; }
failed=0
for h in "${harnesses[@]}"; do
  work=build-fuzz/corpus/$h crashes=build-fuzz/crashes/$h
  mkdir -p "$work" "$crashes"
  cp -n tests/fuzz/corpus/"$h"/* "$work"/ 2>/dev/null || true
  log=build-fuzz/$h.log
  # one process, one input at a time; 2 GB of memory, 10 s per input at most
  if ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 build-fuzz/tests/fuzz/fuzz_"$h" "$work" \
       -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 -artifact_prefix="$crashes/" \
       -print_final_stats=1 >"$log" 2>&1; then
    echo "fuzz_$h: $(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$') runs in ${seconds} s, corpus $(ls "$work" | wc -l) inputs, no crash"
  else
    failed=$((failed + 1))
    echo "fuzz_$h: FAILED, see $log; the input is in $crashes/"
    grep -m3 -E "ERROR|SUMMARY|runtime error" "$log" || true
  fi
done
echo "$(( ${#harnesses[@]} - failed )) passed, $failed failed"
[ "$failed" -eq 0 ]
