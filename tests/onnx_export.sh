#!/usr/bin/env bash
# onnx_export.sh — fovea's networks as ONNX models: every shipped model (seeded weights) exported
# passes onnx.checker and gives, in ONNX Runtime, fovea's own outputs within 1e-5 of the largest
# (channels-first input, and --nhwc); fovea imports its exports back with the same outputs; and
# import -> export -> import of a PyTorch network is lossless (the second export is byte for byte
# the first).  usage: tests/onnx_export.sh FOVEA SOURCE_DIR ORT_DIR
set -euo pipefail
fovea=$1 src=$2 ort=$3
. "$src/tests/lib.sh"
py=/usr/bin/python3
export NODE_PATH="$ort/node_modules"
compare() { # A B TOLERANCE: the largest difference relative to B's largest value
  $py - "$1" "$2" "$3" <<'PY'
import sys, numpy as np
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
err = float(abs(a - b).max() / max(abs(b).max(), 1e-30)) if a.shape == b.shape else float("inf")
print(f"  {sys.argv[1].split('/')[-1]} vs {sys.argv[2].split('/')[-1]}: {a.shape}, largest difference {err:.2e}")
sys.exit(0 if err <= float(sys.argv[3]) else 1)
PY
}
checker() { $py -c "import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)" "$1"; }
# (batch, H, W, C) inputs for fovea and the same as (batch, C, H, W) for ONNX Runtime
inputs() { # NAME H,W,C
  $py - "$dir/$1" "$2" <<'PY'
import sys, numpy as np
shape = [int(v) for v in sys.argv[2].split(",")]
x = np.random.RandomState(7).rand(3, *shape).astype(np.float32)
np.save(sys.argv[1] + ".nhwc.npy", x)
np.save(sys.argv[1] + ".nchw.npy", np.ascontiguousarray(np.moveaxis(x, -1, 1)) if x.ndim > 2 else x)
PY
}
# the layer kinds ONNX import brought (prelu, relu6, add + relu, a channels-first flatten,
# log_softmax), in a definition of the test's own
printf 'model layers\ninput shape=9,8,3\nconv2d filters=4 kernel=3 padding=same\nprelu\nconv2d filters=4 kernel=1 activation=relu6\nadd inputs=prelu_1,conv2d_2 activation=relu\nmaxpool2d size=2\nflatten channels_first=true\ndense units=5 activation=log_softmax\n' > "$dir/layers.fv"
# the tensor kinds (binary with broadcasting, unary, reduce, pad): a squeeze-and-excitation gate,
# SiLU, GELU's erf, reflect and constant padding, a mean over the channels dropped
printf 'model tensors\ninput name=in shape=6,5,3\nconv2d name=c filters=4 kernel=3 padding=same\nsigmoid name=s\nmultiply name=silu inputs=c,s\nreduce name=se op=mean axes=0,1\nmultiply name=gate inputs=silu,se\npad name=p pads=1,2,0,1 mode=reflect\nerf name=e\npad name=z pads=1,1,1,1 value=0.5\nreduce name=r op=sum axes=2 keepdims=false\nreduce name=m op=max axes=0\ndivide name=d inputs=m,m\nsubtract name=sub inputs=d,m\nflatten\ndense units=3\n' > "$dir/tensors.fv"
# ... and the kinds ONNX's graphs of attention and segmentation brought: transpose, slice, concat
# along another axis, a learned tensor per sample, resize (linear, and nearest by a scale)
printf 'model shapes\ninput name=in shape=6,4,3\ntranspose name=t perm=1,0,2\nslice name=s begin=0,1,0 size=4,4,3 step=1,1,1\ntensor name=k shape=1,4,3 inputs=in\nconcat name=c inputs=k,s axis=0\nresize name=r size=9,7\nresize name=n size=4,3 mode=nearest coordinates=asymmetric nearest=floor scale=0.5,0.5\nconv2d_transpose name=u filters=3 kernel=2 stride=2 padding=1 output_padding=1\nreduce name=v op=mean axes=0 keepdims=false\ntranspose name=vt perm=1,0 inputs=v\nmatmul name=mm inputs=u,vt\nconv2d filters=2 kernel=3\nflatten\ndense units=3\n' > "$dir/shapes.fv"
# ... and the unary functions with constants, the trigonometric ones, hard-swish (HardSigmoid x Mul at
# opset 13), and the reductions beyond mean, sum and max
printf 'model functions\ninput name=in shape=5,4,3\nselu name=a alpha=2 beta=1.5\nshrink name=b alpha=0.3 beta=0.1\nelu name=c alpha=0.5\ncelu name=d alpha=2\nthresholded_relu name=e alpha=0.1\nsoftplus\nsoftsign\nsin\natan\nhard_swish\nclip alpha=-0.5 beta=0.6\nsilu\ngelu\nreduce name=p op=prod axes=2\nreduce name=q op=l2 axes=0 inputs=in\nreduce name=r op=log_sum_exp axes=1 inputs=in\nreduce name=s op=min axes=0,1 inputs=in\nbinary op=add inputs=q,r\nbinary op=mul inputs=p,s\nflatten\ndense units=3\n' > "$dir/functions.fv"
for spec in lenet5:28,28,1 mlp-2d:2 mnist-cnn:28,28,1 smile-cnn:64,64,3 layers:9,8,3 tensors:6,5,3 shapes:6,4,3 functions:5,4,3; do
  m=${spec%%:*} shape=${spec#*:}
  def=$src/models/$m.fv
  [ -f "$def" ] || def=$dir/$m.fv
  inputs "$m" "$shape"
  check "$m: fovea's own outputs" "'$fovea' forward '$def' --input '$dir/$m.nhwc.npy' --output '$dir/$m.fovea.npy'"
  check "$m: exported" "'$fovea' export '$def' -o '$dir/$m.onnx' > /dev/null"
  check "$m: onnx.checker passes" "checker '$dir/$m.onnx'"
  check "$m: ONNX Runtime runs it" "node '$src/tests/ort_run.js' '$dir/$m.onnx' '$dir/$m.nchw.npy' '$dir/$m.ort.npy'"
  check "$m: ONNX Runtime equals fovea within 1e-5" "compare '$dir/$m.ort.npy' '$dir/$m.fovea.npy' 1e-5"
  check "$m: exported with --nhwc" "'$fovea' export '$def' --nhwc -o '$dir/$m.nhwc.onnx' > /dev/null && checker '$dir/$m.nhwc.onnx'"
  check "$m: --nhwc in ONNX Runtime equals fovea" "node '$src/tests/ort_run.js' '$dir/$m.nhwc.onnx' '$dir/$m.nhwc.npy' '$dir/$m.ort2.npy' && compare '$dir/$m.ort2.npy' '$dir/$m.fovea.npy' 1e-5"
  check "$m: fovea imports its export, same outputs" "'$fovea' forward '$dir/$m.onnx' --input '$dir/$m.nchw.npy' --output '$dir/$m.back.npy' && compare '$dir/$m.back.npy' '$dir/$m.fovea.npy' 0"
done
# import -> export -> import: a PyTorch network (BatchNorm, residual adds, concat, ReLU6, view)
$py "$src/tests/onnx_torch_models.py" --train-export "$dir" small > /dev/null
cp "$src/tests/fuzz/corpus/onnx/tiny_torch.onnx" "$dir/tiny.onnx"
for m in small_bn tiny; do
  check "$m: import, export" "'$fovea' export '$dir/$m.onnx' -o '$dir/$m.1.onnx' > /dev/null && checker '$dir/$m.1.onnx'"
  check "$m: import the export, export again" "'$fovea' export '$dir/$m.1.onnx' -o '$dir/$m.2.onnx' > /dev/null"
  check "$m: the second export is the first, byte for byte" "cmp -s '$dir/$m.1.onnx' '$dir/$m.2.onnx'"
done
$py -c "import numpy as np; np.save('$dir/tiny.x.npy', np.random.RandomState(3).rand(2, 1, 6, 6).astype(np.float32))"
for m in small_bn tiny; do
  x=$dir/$m.x.npy
  check "$m: the original and the re-import give the same outputs" "'$fovea' forward '$dir/$m.onnx' --input '$x' --output '$dir/$m.a.npy' && '$fovea' forward '$dir/$m.1.onnx' --input '$x' --output '$dir/$m.b.npy' && compare '$dir/$m.b.npy' '$dir/$m.a.npy' 0"
  check "$m: ONNX Runtime on fovea's export equals fovea within 1e-5" "node '$src/tests/ort_run.js' '$dir/$m.1.onnx' '$x' '$dir/$m.c.npy' && compare '$dir/$m.c.npy' '$dir/$m.a.npy' 1e-5"
done
finish
