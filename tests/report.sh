#!/usr/bin/env bash
# The run report in a real browser: fovea train --report and fovea report write a self-contained
# page; headless Chromium loads it, its screenshot is not blank, and its DOM holds the curves and
# the confusion matrix.
# usage: report.sh FOVEA SOURCE_DIR
set -uo pipefail
fovea=$1 src=$2
. "$src/tests/lib.sh"
/usr/bin/python3 "$src/tests/fashion_subset.py" "$dir/data" 2000
check "train --report" "'$fovea' train '$src/models/lenet5.fv' --data '$dir/data' --epochs 3 --val-split 0.2 --out '$dir/m.fvm' --report '$dir/train.html' --no-test >/dev/null"
check "report MODEL --data" "'$fovea' report '$dir/m.fvm' --data '$dir/data' --split train -o '$dir/report.html' >/dev/null"
if mknod "$dir/null" c 1 3 2>/dev/null; then # root (CI): a device stays a device (renaming over it replaced it once)
  check "a report written to a device leaves the device in place" "'$fovea' report '$dir/m.fvm' --data '$dir/data' --split train -o '$dir/null' >/dev/null && [ -c '$dir/null' ]"
fi
check "self-contained: no http(s) references" "! grep -qE '(src|href)=\"https?:' '$dir/report.html'"
browser=$(command -v chromium || command -v chromium-browser)
check "chromium is installed" "[ -n '$browser' ]"
for page in train report; do
  # a fresh profile per run; --no-sandbox: CI runs as root
  "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$dir/profile-$page" --window-size=1200,1800 \
    --screenshot="$dir/$page.png" "file://$dir/$page.html" >/dev/null 2>&1
  "$browser" --headless --no-sandbox --disable-gpu --user-data-dir="$dir/profile-$page" --dump-dom "file://$dir/$page.html" >"$dir/$page.dom" 2>/dev/null
  check "$page: the screenshot is not blank" "/usr/bin/python3 -c '
import sys, numpy as np, skimage.io
a = skimage.io.imread(sys.argv[1])[..., :3].reshape(-1, 3)
colours = len(np.unique(a, axis=0)); dark = (a.sum(1) < 300).mean()
assert colours > 50 and 0.001 < dark < 0.5, (colours, dark)
' '$dir/$page.png'"
  check "$page: the DOM has the loss and accuracy curves" "grep -q 'id=\"loss-curve\"' '$dir/$page.dom' && grep -q 'id=\"accuracy-curve\"' '$dir/$page.dom' && grep -q '<polyline' '$dir/$page.dom'"
done
check "report: the DOM has the confusion matrix with class names, per-class metrics, mistakes, filters" \
  "grep -q 'id=\"confusion\"' '$dir/report.dom' && grep -q 'Ankle boot' '$dir/report.dom' && grep -q 'id=\"per-class\"' '$dir/report.dom' && grep -q 'id=\"misclassified\"' '$dir/report.dom' && grep -q 'id=\"filters\"' '$dir/report.dom'"
check "the training history is in the model file (3 epochs in the report's table)" "[ \"\$(grep -o '<tr><td>[0-9]*</td><td>[0-9.]*</td><td>[0-9.]*</td>' '$dir/report.dom' | wc -l)\" -eq 3 ]"
finish
