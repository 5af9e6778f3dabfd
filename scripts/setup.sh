#!/usr/bin/env bash
# Installs what fovea needs on a fresh Debian 12 and builds it (optimised, into build/).
# Packages: a C compiler and CMake; oneDNN for the fast kernels; Debian's PyTorch and NumPy,
# which the tests use as the reference implementation.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
packages=(build-essential cmake ninja-build libdnnl-dev python3-torch python3-numpy)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build
