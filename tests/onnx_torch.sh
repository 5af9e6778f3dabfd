#!/usr/bin/env bash
# onnx_torch.sh — networks defined in PyTorch, exported with torch.onnx.export and imported by
# fovea, give PyTorch's outputs: a small CNN (BatchNorm folded, and kept as its own node),
# torchvision's resnet18 and mobilenet_v2 (seeded weights, non-trivial BatchNorm statistics), on 3
# inputs each, on both backends, within 1e-4 of the largest output (relative).
# usage: tests/onnx_torch.sh FOVEA SOURCE_DIR
set -euo pipefail
fovea=$1 src=$2
. "$src/tests/lib.sh"
py=/usr/bin/python3
$py "$src/tests/onnx_torch_models.py" --train-export "$dir" small resnet18 mobilenet_v2 > "$dir/export.log"
compare() { # fovea's and PyTorch's outputs: prints the relative error, fails above 1e-4
  $py - "$1" "$2" <<'PY'
import sys, numpy as np
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
err = float(abs(a - b).max() / abs(b).max()) if a.shape == b.shape else float("inf")
print(f"{sys.argv[2].split('/')[-1]}: shape {a.shape}, largest error {err:.2e} of the largest output")
sys.exit(0 if err <= 1e-4 else 1)
PY
}
for backend in onednn reference; do
  for m in small small_bn resnet18 mobilenet_v2; do
    check "$m ($backend) runs" "'$fovea' forward '$dir/$m.onnx' --backend $backend --input '$dir/$m.x.npy' --output '$dir/$m.$backend.npy'"
    check "$m ($backend) equals PyTorch" "compare '$dir/$m.$backend.npy' '$dir/$m.y.npy'"
  done
done
finish
