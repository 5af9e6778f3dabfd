#!/usr/bin/env bash
# The main job, for now: the shipped networks' summaries, then a forward and backward pass of
# mnist-cnn on both backends. (Training on Fashion-MNIST replaces this when it lands.)
set -euo pipefail
cd "$(dirname "$0")/.."
for model in mnist-cnn lenet5 smile-cnn mlp-2d; do
  build/fovea summary "models/$model.fv"
  echo
done
build/fovea forward models/mnist-cnn.fv --batch 64 --backend onednn
build/fovea forward models/mnist-cnn.fv --batch 64 --backend reference
