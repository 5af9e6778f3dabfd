#!/usr/bin/env bash
# Reduced precision end to end, on the Fashion-MNIST mnist-cnn the accuracy test trained:
#   bf16 evaluation within 0.3 points of fp32's;
#   fovea quantize: int8 within 0.5 points of fp32 on the test split, the quantised model file
#   running in int8 wherever it is loaded (evaluate, summary --plan, predict, saliency), training
#   it refused with one line;
#   its ONNX export in QDQ form, run by ONNX Runtime: the same top class as fovea's int8 on
#   (nearly) every test image and outputs within a quantisation step's effect;
#   a residual network quantised: its adds' sums int8 (oneDNN's convolutions computing them), the
#   same outputs on the default backend, the reference and ONNX Runtime.
# usage: precision.sh FOVEA SOURCE_DIR MODEL.fvm ORT_DIR
set -uo pipefail
fovea=$1 src=$2 model=$3 ort=$4
. "$src/tests/lib.sh"
accuracy() { sed -n 's/.*accuracy \([0-9.]*\)%.*/\1/p' | tail -1; }
within() { awk -v a="$1" -v b="$2" -v d="$3" 'BEGIN { exit !(a - b <= d && b - a <= d) }'; }

fp32=$("$fovea" evaluate "$model" --data fashion-mnist | accuracy)
if grep -qw avx512f /proc/cpuinfo; then
  bf16=$("$fovea" evaluate "$model" --data fashion-mnist --precision bf16 | accuracy)
  echo "test accuracy: fp32 $fp32%, bf16 $bf16%"
  check "bf16 evaluation $bf16% within 0.3 points of fp32's $fp32%" "within '$bf16' '$fp32' 0.3"
else # oneDNN 2.6 has bf16 kernels on AVX-512 only: it must say so, in one line
  "$fovea" evaluate "$model" --data fashion-mnist --precision bf16 > "$dir/bf16.out" 2>&1
  check "bf16 on this CPU without AVX-512 is refused with one line: $(cat "$dir/bf16.out")" \
        "[ \$(wc -l < '$dir/bf16.out') -eq 1 ] && grep 'no bf16 kernel' '$dir/bf16.out' > /dev/null"
fi

check "fovea quantize" "'$fovea' quantize '$model' --data fashion-mnist --test -o '$dir/q.fvm' > '$dir/quantize.out' 2>&1"
cat "$dir/quantize.out"
int8=$("$fovea" evaluate "$dir/q.fvm" --data fashion-mnist | accuracy)
echo "test accuracy of the quantised model: int8 $int8%"
check "int8 $int8% within 0.5 points of fp32's $fp32%" "within '$int8' '$fp32' 0.5"
check "evaluate's int8 accuracy $int8% is the one quantize reported" "grep 'int8 $int8%' '$dir/quantize.out' > /dev/null"
unquantised=$("$fovea" evaluate "$dir/q.fvm" --data fashion-mnist --precision fp32 | accuracy)
check "--precision fp32 on the quantised model gives fp32's $fp32% ($unquantised%)" "[ '$unquantised' = '$fp32' ]"
"$fovea" summary "$dir/q.fvm" --plan > "$dir/summary.out"
check "summary --plan of the quantised model says int8" "grep 'precision int8' '$dir/summary.out' > /dev/null"
"$fovea" train "$dir/q.fvm" --data fashion-mnist --epochs 1 > "$dir/train.out" 2>&1
status=$?
check "training the quantised model is refused with one line: $(cat "$dir/train.out")" \
      "[ $status -eq 1 ] && [ \$(wc -l < '$dir/train.out') -eq 1 ] && grep int8 '$dir/train.out' > /dev/null"

/usr/bin/python3 "$src/scripts/fashion_samples.py" "$dir/png" 1 > /dev/null
image=$(ls "$dir"/png/*.png | head -1)
check "predict on the quantised model" "'$fovea' predict '$dir/q.fvm' '$dir'/png/*.png > '$dir/predict.out' 2>&1"
check "saliency on the quantised model writes a picture" "'$fovea' saliency '$dir/q.fvm' '$image' -o '$dir/saliency.png' > /dev/null 2>&1 && [ -s '$dir/saliency.png' ]"

# QDQ export against ONNX Runtime, on 500 test images
check "exporting the quantised model" "'$fovea' export '$dir/q.fvm' -o '$dir/q.onnx' > /dev/null 2>&1"
/usr/bin/python3 "$src/tests/fashion_npy.py" "$dir" 500
check "fovea forward of the quantised model" "'$fovea' forward '$dir/q.fvm' --input '$dir/test.nhwc.npy' --output '$dir/y_fovea.npy' > /dev/null 2>&1"
check "ONNX Runtime runs the QDQ export" \
      "NODE_PATH='$ort/node_modules' node '$src/tests/ort_run.js' '$dir/q.onnx' '$dir/test.nchw.npy' '$dir/y_ort.npy' > '$dir/ort.out' 2>&1"
# the same arithmetic; where a summation-order difference moves one input across a rounding
# boundary, that input changes by one quantisation step
check "ONNX Runtime's outputs of the QDQ export equal fovea's int8 (top class on >= 99.5%, within 2e-2)" "/usr/bin/python3 -c \"
import numpy as np; a, b = np.load('$dir/y_fovea.npy'), np.load('$dir/y_ort.npy')
agree, diff = float((a.argmax(1) == b.argmax(1)).mean()), float(np.abs(a - b).max())
print(f'QDQ export in ONNX Runtime: top class the same on {100 * agree:.1f}% of 500 images, largest output difference {diff:.2e}')
assert agree >= 0.995 and diff <= 2e-2\""

# A residual network (seeded weights): the quantised adds' sums, which oneDNN's convolutions
# compute; the reference backend and the QDQ export in ONNX Runtime give the same outputs
cat > "$dir/res.fv" <<'EOF'
model res-q
input shape=28,28,1
conv2d name=stem filters=8 kernel=3 padding=same activation=relu
conv2d name=b1 filters=8 kernel=3 padding=same activation=relu
conv2d name=b2 filters=8 kernel=3 padding=same
add name=s1 inputs=stem,b2 activation=relu
conv2d name=b3 filters=8 kernel=3 padding=same activation=relu
conv2d name=b4 filters=8 kernel=3 padding=same
add name=s2 inputs=s1,b4 activation=relu
conv2d name=b5 filters=16 kernel=3 stride=2 padding=same activation=relu
global_avgpool
dense units=10
EOF
check "fovea quantize of a residual network" "'$fovea' quantize '$dir/res.fv' --data fashion-mnist -o '$dir/res.fvm' > /dev/null 2>&1"
check "its QDQ export" "'$fovea' export '$dir/res.fvm' -o '$dir/res.onnx' > /dev/null 2>&1"
check "both adds' sums are quantised (their output scales in the export)" "grep -qa s1.output_scale '$dir/res.onnx' && grep -qa s2.output_scale '$dir/res.onnx'"
"$fovea" summary "$dir/res.fvm" --plan > "$dir/res_summary.out" 2>&1
if grep -qE '^ b4 +onednn \(' "$dir/res_summary.out"; then
    check "on oneDNN, b4 computes the sum s2 (summary --plan)" "grep -qE '^ s2 +onednn, computed by b4, output kept in int8' '$dir/res_summary.out'"
fi
check "the residual network's int8 on the default backend" "'$fovea' forward '$dir/res.fvm' --input '$dir/test.nhwc.npy' --output '$dir/res_fovea.npy' > /dev/null 2>&1"
check "the residual network's int8 on the reference" "'$fovea' forward '$dir/res.fvm' --backend reference --input '$dir/test.nhwc.npy' --output '$dir/res_ref.npy' > /dev/null 2>&1"
check "ONNX Runtime runs the residual network's QDQ export" \
      "NODE_PATH='$ort/node_modules' node '$src/tests/ort_run.js' '$dir/res.onnx' '$dir/test.nchw.npy' '$dir/res_ort.npy' > /dev/null 2>&1"
check "the residual network's int8 on the default backend and in ONNX Runtime equals the reference's (top class on >= 99.5%, within 1e-2 of the largest output)" "/usr/bin/python3 -c \"
import numpy as np; r = np.load('$dir/res_ref.npy'); big = float(np.abs(r).max())
for name in ('fovea', 'ort'):
    a = np.load(f'$dir/res_{name}.npy'); agree, diff = float((a.argmax(1) == r.argmax(1)).mean()), float(np.abs(a - r).max()) / big
    print(f'residual int8, {name} against the reference: top class the same on {100 * agree:.1f}% of 500 images, largest difference {diff:.2e}')
    assert agree >= 0.995 and diff <= 1e-2\""
finish
