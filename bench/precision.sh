#!/usr/bin/env bash
# Reduced precision (bench/precision.py): builds fovea optimised, exports resnet50 and
# mobilenet_v2 to ONNX, fetches onnxruntime-node, and writes bench/PRECISION.md. About 15
# minutes (5-epoch trainings in fp32 and bf16 included; BENCH_ACCURACY=0 skips them). Not a test.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench --target fovea-cli fovea_bench
mkdir -p build-bench/onnx
for n in resnet50 mobilenet_v2; do
  [ -f "build-bench/onnx/$n.onnx" ] || /usr/bin/python3 tests/onnx_torch_models.py build-bench/onnx "$n"
done
scripts/onnxruntime.sh build-bench/onnxruntime
/usr/bin/python3 bench/precision.py build-bench/fovea build-bench/fovea_bench build-bench/onnx build-bench/onnxruntime
