#!/usr/bin/env bash
# Data-parallel training (bench/distributed.py): builds fovea optimised with MPI, exports resnet50 and
# vgg16 to ONNX for their step times, and writes bench/DISTRIBUTED.md and the scaling table in
# docs/DISTRIBUTED.md. About 10 minutes. Not a test.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench --target fovea-cli
mkdir -p build-bench/onnx
for n in resnet50 vgg16; do
  [ -f "build-bench/onnx/$n.onnx" ] || /usr/bin/python3 tests/onnx_torch_models.py build-bench/onnx "$n"
done
/usr/bin/python3 bench/distributed.py build-bench/fovea build-bench/onnx
