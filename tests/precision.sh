#!/usr/bin/env bash
# Reduced precision end to end, on the Fashion-MNIST mnist-cnn the accuracy test trained:
#   bf16 evaluation within 0.3 points of fp32's;
#   fovea quantize: int8 within 0.5 points of fp32 on the test split, the quantised model file
#   running in int8 wherever it is loaded (evaluate, summary --plan, predict, saliency), training
#   it refused with one line;
#   its ONNX export in QDQ form, run by ONNX Runtime: the same top class as fovea's int8 on
#   (nearly) every test image and outputs within a quantisation step's effect.
# usage: precision.sh FOVEA SOURCE_DIR MODEL.fvm ORT_DIR
set -uo pipefail
fovea=$1 src=$2 model=$3 ort=$4
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
passed=0 failed=0
check() { # check WHAT CONDITION-STATUS
  if [ "$2" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $1"; fi
}
accuracy() { sed -n 's/.*accuracy \([0-9.]*\)%.*/\1/p' | tail -1; }
within() { awk -v a="$1" -v b="$2" -v d="$3" 'BEGIN { exit !(a - b <= d && b - a <= d) }'; }

fp32=$("$fovea" evaluate "$model" --data fashion-mnist | accuracy)
bf16=$("$fovea" evaluate "$model" --data fashion-mnist --precision bf16 | accuracy)
echo "test accuracy: fp32 $fp32%, bf16 $bf16%"
within "$bf16" "$fp32" 0.3; check "bf16 evaluation $bf16% is not within 0.3 points of fp32's $fp32%" $?

"$fovea" quantize "$model" --data fashion-mnist --test -o "$dir/q.fvm" >"$dir/quantize.out" 2>&1
check "fovea quantize failed: $(tail -1 "$dir/quantize.out")" $?
cat "$dir/quantize.out"
int8=$("$fovea" evaluate "$dir/q.fvm" --data fashion-mnist | accuracy)
echo "test accuracy of the quantised model: int8 $int8%"
within "$int8" "$fp32" 0.5; check "int8 $int8% is not within 0.5 points of fp32's $fp32%" $?
grep -q "int8 $int8%" "$dir/quantize.out"; check "evaluate's int8 accuracy $int8% is not the one quantize reported" $?
unquantised=$("$fovea" evaluate "$dir/q.fvm" --data fashion-mnist --precision fp32 | accuracy)
[ "$unquantised" = "$fp32" ]; check "--precision fp32 on the quantised model gives $unquantised%, not fp32's $fp32%" $?
"$fovea" summary "$dir/q.fvm" --plan | grep -q "precision int8"; check "summary --plan of the quantised model does not say int8" $?
"$fovea" train "$dir/q.fvm" --data fashion-mnist --epochs 1 >"$dir/train.out" 2>&1
[ $? -eq 1 ] && [ "$(wc -l <"$dir/train.out")" -eq 1 ] && grep -q "int8" "$dir/train.out"
check "training the quantised model is not refused with one line: $(cat "$dir/train.out")" $?

/usr/bin/python3 "$src/scripts/fashion_samples.py" "$dir/png" 1 >/dev/null
"$fovea" predict "$dir/q.fvm" "$dir"/png/*.png >"$dir/predict.out" 2>&1; check "predict on the quantised model failed" $?
"$fovea" saliency "$dir/q.fvm" "$(ls "$dir"/png/*.png | head -1)" -o "$dir/saliency.png" >/dev/null 2>&1
check "saliency on the quantised model failed" $?
[ -s "$dir/saliency.png" ]; check "saliency wrote no picture" $?

# QDQ export against ONNX Runtime, on 500 test images
"$fovea" export "$dir/q.fvm" -o "$dir/q.onnx" >/dev/null 2>&1; check "exporting the quantised model failed" $?
/usr/bin/python3 - "$dir" <<'PY'
import gzip, sys, numpy as np
d = sys.argv[1]
raw = gzip.open("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz").read()[16:]
x = np.frombuffer(raw, np.uint8)[:500 * 784].astype(np.float32).reshape(500, 28, 28, 1) / 255
np.save(f"{d}/x_nhwc.npy", x)
np.save(f"{d}/x_nchw.npy", x.transpose(0, 3, 1, 2).copy())
PY
"$fovea" forward "$dir/q.fvm" --input "$dir/x_nhwc.npy" --output "$dir/y_fovea.npy" >/dev/null 2>&1
check "fovea forward of the quantised model failed" $?
NODE_PATH="$ort/node_modules" node "$src/tests/ort_run.js" "$dir/q.onnx" "$dir/x_nchw.npy" "$dir/y_ort.npy" >"$dir/ort.out" 2>&1
check "ONNX Runtime could not run the QDQ export: $(tail -2 "$dir/ort.out")" $?
/usr/bin/python3 - "$dir" <<'PY'
import sys, numpy as np
d = sys.argv[1]
a, b = np.load(f"{d}/y_fovea.npy"), np.load(f"{d}/y_ort.npy")
agree = float((a.argmax(1) == b.argmax(1)).mean())
diff = float(np.abs(a - b).max())
print(f"QDQ export in ONNX Runtime: top class the same on {100 * agree:.1f}% of 500 images, largest output difference {diff:.2e}")
# the same arithmetic; where a summation-order difference moves one input across a rounding
# boundary, that input changes by one quantisation step
sys.exit(0 if agree >= 0.995 and diff <= 2e-2 else 1)
PY
check "ONNX Runtime's outputs of the QDQ export differ from fovea's int8" $?
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
