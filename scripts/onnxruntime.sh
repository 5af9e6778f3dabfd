#!/usr/bin/env bash
# Fetches ONNX Runtime for Node (npm onnxruntime-node, CPU) into DIR/node_modules: the peer runtime
# fovea's ONNX exports are checked and benchmarked against. ONNXRUNTIME_NODE_INSTALL=skip keeps its
# install script from downloading CUDA binaries; the CPU library ships in the package.
# usage: scripts/onnxruntime.sh DIR
set -euo pipefail
dir=$1
mkdir -p "$dir"
if [ ! -d "$dir/node_modules/onnxruntime-node" ]; then
  (cd "$dir" && ONNXRUNTIME_NODE_INSTALL=skip npm install --no-save --no-audit --no-fund --silent onnxruntime-node@1.30.0)
fi
NODE_PATH="$dir/node_modules" node -e "require('onnxruntime-node')"
