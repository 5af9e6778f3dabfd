#!/usr/bin/env bash
# Trains a shipped model with `fovea train` and fails unless its test accuracy reaches a bound.
# usage: check_accuracy.sh FOVEA MODEL DATA EPOCHS MIN_PERCENT [more fovea train options]
set -euo pipefail
fovea=$1 model=$2 data=$3 epochs=$4 min=$5
shift 5
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$fovea" train "$model" --data "$data" --epochs "$epochs" --seed 1 "$@" | tee "$log"
accuracy=$(sed -n 's/^Test set: .*accuracy \([0-9.]*\)%.*/\1/p' "$log")
[ -n "$accuracy" ] || { echo "no test accuracy in the output"; exit 1; }
if awk -v a="$accuracy" -v m="$min" 'BEGIN { exit !(a >= m) }'; then
  echo "1 passed, 0 failed: $model on $data: test accuracy $accuracy% >= $min%"
else
  echo "0 passed, 1 failed: $model on $data: test accuracy $accuracy% < $min%"
  exit 1
fi
