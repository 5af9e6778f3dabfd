#!/usr/bin/env bash
# Runs torchvision's whole zoo (26 models, their own input sizes, dynamic and fixed batch, both
# backends) through fovea against PyTorch, times batch 1 against ONNX Runtime on 1 and 2 threads
# (alternating, 3 rounds), and writes the table into docs/ONNX.md. About 30 minutes on 2 cores;
# run it with the machine otherwise idle. usage: scripts/onnx_zoo.sh [MODEL...]
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build
scripts/onnxruntime.sh build/tests/onnxruntime
ZOO_TIME=1 ORT_DIR=build/tests/onnxruntime ZOO_DOC=docs/ONNX.md tests/onnx_zoo.sh build/fovea . "$@"
