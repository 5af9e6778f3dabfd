#!/usr/bin/env bash
# The main job: train mnist-cnn (the seeds' Keras MNIST network) on Fashion-MNIST for 5 epochs
# with Adam (learning rate 0.001, cosine schedule), then print its test accuracy, per-class metrics and confusion matrix. The trained
# model is saved to build/mnist-cnn-fashion.fvm and its run report to build/mnist-cnn-fashion.html (try: build/fovea evaluate build/mnist-cnn-fashion.fvm
# --data fashion-mnist, or fovea weights / summary on it).
set -euo pipefail
cd "$(dirname "$0")/.."
build/fovea summary models/mnist-cnn.fv
build/fovea train models/mnist-cnn.fv --data fashion-mnist --epochs 5 --batch 64 --schedule cosine --seed 1 --out build/mnist-cnn-fashion.fvm \
  --report build/mnist-cnn-fashion.html
