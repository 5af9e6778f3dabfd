#!/usr/bin/env bash
# fovea serve under load (bench/serve.py): builds fovea optimised, trains mnist-cnn for an epoch if
# there is no trained one, exports resnet18 to ONNX, and writes bench/SERVE.md: wrk on loopback at
# 1, 8 and 64 connections, against fovea forward's batched throughput, and the server's memory
# over a soak (SOAK_SECONDS, default 300). About 10 minutes. Not a test.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench --target fovea-cli
mkdir -p build-bench/onnx build-bench/serve
[ -f build-bench/onnx/resnet18.onnx ] || /usr/bin/python3 tests/onnx_torch_models.py build-bench/onnx resnet18
model=build/mnist-cnn-fashion.fvm
if [ ! -f "$model" ]; then
  model=build-bench/serve/mnist-cnn.fvm
  [ -f "$model" ] || build-bench/fovea train models/mnist-cnn.fv --data fashion-mnist --epochs 1 --out "$model"
fi
/usr/bin/python3 bench/serve.py build-bench/fovea "$model" build-bench/onnx/resnet18.onnx "${SOAK_SECONDS:-300}"
