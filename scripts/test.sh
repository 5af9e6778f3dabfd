#!/usr/bin/env bash
# Runs the whole test suite on the optimised build (including the trainings on real data that
# check accuracy), then again, without those long trainings, on a build with AddressSanitizer
# and UndefinedBehaviorSanitizer (any report fails the run), and fuzz each parser for 30 s.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build
(cd build && ctest --output-on-failure)
cmake -S . -B build-sanitize -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFOVEA_SANITIZE=ON >/dev/null
cmake --build build-sanitize
(cd build-sanitize && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -LE accuracy)
# Each parser's fuzz harness for 30 s (libFuzzer, clang, with the sanitizers); a crash fails CI.
scripts/fuzz.sh 30
