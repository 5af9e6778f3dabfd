#!/usr/bin/env bash
# ImageNet-class inference, fovea against PyTorch and ONNX Runtime (bench/onnx.py): builds fovea
# optimised, exports torchvision's resnet50, vgg16 and mobilenet_v2 (weights=None, seeded) to ONNX
# (VGG16 is 553 MB: generated, never committed), fetches onnxruntime-node, and writes
# bench/ONNX_RESULTS.md. Takes about 10 minutes. Not a test: CI does not run it.
# usage: bench/onnx.sh [NAME...]
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench --target fovea-cli
mkdir -p build-bench/onnx
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(resnet50 vgg16 mobilenet_v2)
for n in "${names[@]}"; do
  [ -f "build-bench/onnx/$n.onnx" ] || /usr/bin/python3 tests/onnx_torch_models.py build-bench/onnx "$n"
done
scripts/onnxruntime.sh build-bench/onnxruntime
/usr/bin/python3 bench/onnx.py build-bench/fovea build-bench/onnx build-bench/onnxruntime "${names[@]}"
