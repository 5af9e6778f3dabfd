#!/usr/bin/env bash
# onnx_finetune.sh — a CNN defined in PyTorch (BatchNorm kept as a node) goes to fovea and back:
# exported by torch.onnx.export, trained by fovea on Fashion-MNIST to >= 90% test accuracy, exported
# again by fovea, and run by ONNX Runtime on 500 test images with fovea's outputs within 1e-5;
# onnx.checker passes; then quantised to int8 (within 0.5 points) and run by ONNX Runtime in QDQ form.  usage: tests/onnx_finetune.sh FOVEA SOURCE_DIR ORT_DIR
set -euo pipefail
fovea=$1 src=$2 ort=$3
. "$src/tests/lib.sh"
py=/usr/bin/python3
export NODE_PATH="$ort/node_modules"
$py "$src/tests/onnx_torch_models.py" --train-export "$dir" small > /dev/null
"$fovea" train "$dir/small_bn.onnx" --data fashion-mnist --epochs 8 --schedule cosine --seed 1 --out "$dir/tuned.fvm" | tee "$dir/train.log" | grep -E "^Epoch [0-9]+/|^Test set"
accuracy=$(sed -n 's/^Test set: .*accuracy \([0-9.]*\)%.*/\1/p' "$dir/train.log")
check "fine-tuned in fovea to >= 90% (got ${accuracy:-none}%)" "[ -n '$accuracy' ] && awk -v a='$accuracy' 'BEGIN { exit !(a >= 90) }'"
check "exported again" "'$fovea' export '$dir/tuned.fvm' -o '$dir/tuned.onnx'"
check "onnx.checker passes" "$py -c \"import onnx; onnx.checker.check_model(onnx.load('$dir/tuned.onnx'), full_check=True)\""
$py "$src/tests/fashion_npy.py" "$dir" 500
check "fovea's outputs" "'$fovea' forward '$dir/tuned.fvm' --input '$dir/test.nhwc.npy' --output '$dir/fovea.npy'"
check "ONNX Runtime runs the export" "node '$src/tests/ort_run.js' '$dir/tuned.onnx' '$dir/test.nchw.npy' '$dir/ort.npy'"
check "ONNX Runtime equals fovea within 1e-5" "$py -c \"
import numpy as np; a, b = np.load('$dir/ort.npy'), np.load('$dir/fovea.npy')
e = abs(a - b).max() / abs(b).max(); print(f'  500 images: largest difference {e:.2e} of the largest output'); assert e <= 1e-5\""
# post-training int8 of the fine-tuned import (its batch norm kept fp32 after each int8 convolution):
# within 0.5 points of fp32 on the test split, and its QDQ export in ONNX Runtime
"$fovea" quantize "$dir/tuned.fvm" --data fashion-mnist --test -o "$dir/tuned.q.fvm" > "$dir/quantize.log"
grep "test accuracy" "$dir/quantize.log"
change=$(sed -n 's/^test accuracy: .*(\([-+0-9.]*\) points)/\1/p' "$dir/quantize.log")
check "int8 within 0.5 points of fp32 (${change:-none})" "[ -n '$change' ] && awk -v d='$change' 'BEGIN { exit !(d >= -0.5 && d <= 0.5) }'"
check "the int8 model exported in QDQ form" "'$fovea' export '$dir/tuned.q.fvm' -o '$dir/tuned.q.onnx'"
check "fovea's int8 outputs" "'$fovea' forward '$dir/tuned.q.fvm' --input '$dir/test.nhwc.npy' --output '$dir/fovea.q.npy'"
check "ONNX Runtime runs the QDQ export" "node '$src/tests/ort_run.js' '$dir/tuned.q.onnx' '$dir/test.nchw.npy' '$dir/ort.q.npy'"
check "ONNX Runtime's top class equals fovea's int8 on >= 99.5% of 500 images" "$py -c \"
import numpy as np; a, b = np.load('$dir/ort.q.npy'), np.load('$dir/fovea.q.npy')
agree = (a.argmax(1) == b.argmax(1)).mean(); print(f'  int8, 500 images: top class the same on {100 * agree:.1f}%, largest difference {abs(a - b).max():.2e}')
assert agree >= 0.995\""
finish
