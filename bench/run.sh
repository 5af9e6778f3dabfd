#!/usr/bin/env bash
# The benchmark: builds fovea optimised, then times it against PyTorch (Debian's python3-torch)
# on the same work, alternating, and writes bench/RESULTS.md. Takes about 10 minutes.
# Not a test: CI does not run it. BENCH_REPS=N sets the alternating runs per row (default 5);
# BENCH_BASELINE=OTHER/build-bench/fovea_bench also times this commit against another build.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench --target fovea_bench
/usr/bin/python3 bench/bench.py
