#!/usr/bin/env bash
# Runs the whole test suite on the optimised build (including the trainings on real data that
# check accuracy), a few of its tests on a build without MPI, then again, without the long
# trainings, on a build with AddressSanitizer
# and UndefinedBehaviorSanitizer (any report fails the run), and fuzz each parser for 30 s.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build
(cd build && ctest --output-on-failure)
# The library and tool built without MPI (FOVEA_WITH_MPI=OFF, as where Open MPI is missing): they
# build, train, and under mpirun say what is missing.
cmake -S . -B build-nompi -G Ninja -DCMAKE_BUILD_TYPE=Release -DFOVEA_WITH_MPI=OFF >/dev/null
cmake --build build-nompi --target fovea-cli
tests/mpi.sh build-nompi/fovea . && tests/kill_resume.sh build-nompi/fovea .
cmake -S . -B build-sanitize -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFOVEA_SANITIZE=ON >/dev/null
cmake --build build-sanitize
(cd build-sanitize && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -LE accuracy)
# Each parser's fuzz harness for 30 s (libFuzzer, clang, with the sanitizers); a crash fails CI.
scripts/fuzz.sh 30
