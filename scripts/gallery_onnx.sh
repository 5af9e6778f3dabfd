#!/usr/bin/env bash
# The README's ImageNet-class pictures: torchvision's resnet50 (weights=None, seeded: pretrained
# weights cannot be downloaded here, so the labels and the map mean nothing) exported to ONNX,
# imported by fovea, top-5 and Grad-CAM on darknet's dog.jpg. usage: scripts/gallery_onnx.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
/usr/bin/python3 tests/onnx_torch_models.py "$out" resnet50 > /dev/null
build/fovea predict "$out/resnet50.onnx" --imagenet --labels models/imagenet_classes.txt --top 5 /usr/share/darknet/data/dog.jpg
build/fovea gradcam "$out/resnet50.onnx" --imagenet --labels models/imagenet_classes.txt /usr/share/darknet/data/dog.jpg -o "$out"
cp "$out/dog-gradcam-overlay.png" docs/gallery/resnet50-dog-gradcam-overlay.png
cp "$out/dog-gradcam.png" docs/gallery/resnet50-dog-gradcam.png
