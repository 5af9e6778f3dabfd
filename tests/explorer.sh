#!/usr/bin/env bash
# The explorer page in Debian's Chromium (tests/explorer.js, playwright-core): a lenet5 trained for
# 2 epochs on 2,000 Fashion-MNIST images behind fovea serve, then torchvision's resnet18 (seeded
# weights) exported to ONNX and served with --imagenet; screenshots of each step are left in
# SHOTS_DIR to look at.
# usage: explorer.sh FOVEA SOURCE_DIR PLAYWRIGHT_DIR SHOTS_DIR
set -uo pipefail
fovea=$1 src=$2 pw=$3 shots=$4
. "$src/tests/lib.sh"
pid= pid2=
trap 'kill $pid $pid2 2>/dev/null; rm -rf "$dir"' EXIT
/usr/bin/python3 "$src/tests/fashion_subset.py" "$dir/data" 2000
"$fovea" train "$src/models/lenet5.fv" --data "$dir/data" --epochs 2 --batch 32 --no-test --out "$dir/lenet5.fvm" >/dev/null || exit 1
"$fovea" serve "$dir/lenet5.fvm" --port 0 >"$dir/serve.log" 2>&1 &
pid=$!
url=$(served_url "$dir/serve.log")
[ -n "$url" ] || { echo "FAILED: the server did not start"; cat "$dir/serve.log"; exit 1; }
/usr/bin/python3 "$src/tests/onnx_torch_models.py" "$dir" resnet18 >/dev/null || exit 1
"$fovea" serve "$dir/resnet18.onnx" --imagenet --labels "$src/models/imagenet_classes.txt" --workers 1 --port 0 >"$dir/serve2.log" 2>&1 &
pid2=$!
url2=$(served_url "$dir/serve2.log")
[ -n "$url2" ] || { echo "FAILED: the resnet18 server did not start"; cat "$dir/serve2.log"; exit 1; }
NODE_PATH="$pw/node_modules" node "$src/tests/explorer.js" "$url/" "$shots" "$url2/"
