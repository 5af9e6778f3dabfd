#!/usr/bin/env bash
# A fair share of the CPU (bench/sharing.py): builds fovea optimised, exports mobilenet_v2 and
# resnet50 to ONNX, fetches onnxruntime-node, and writes bench/SHARING.md. About 10 minutes. Not a test.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench --target fovea-cli
mkdir -p build-bench/onnx
for n in resnet50 mobilenet_v2; do
  [ -f "build-bench/onnx/$n.onnx" ] || /usr/bin/python3 tests/onnx_torch_models.py build-bench/onnx "$n"
done
[ -f build-bench/onnx/bench-1.npy ] || /usr/bin/python3 -c "import numpy as np; np.save('build-bench/onnx/bench-1.npy', np.random.RandomState(1).randn(1, 3, 224, 224).astype(np.float32))"
scripts/onnxruntime.sh build-bench/onnxruntime
/usr/bin/python3 bench/sharing.py build-bench/fovea build-bench/onnx build-bench/onnxruntime
