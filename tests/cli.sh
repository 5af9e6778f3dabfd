#!/usr/bin/env bash
# The tool scripts well: every command's --help has a usage line and an example, --version and
# --threads work, and --json output parses and agrees with the text output.
# usage: cli.sh FOVEA SOURCE_DIR
set -uo pipefail
fovea=$1 src=$2
. "$src/tests/lib.sh"
for c in train evaluate predict report summary weights layers forward filter show saliency gradcam dream; do
  help=$("$fovea" "$c" --help)
  check "$c --help: usage and example" "grep -q '^usage: fovea $c' <<<\"\$help\" && grep -q '^example: fovea $c' <<<\"\$help\""
done
check "--version" "'$fovea' --version | grep -E '^fovea [0-9]+\.[0-9]+\.[0-9]+ ' >/dev/null"
check "--threads 1" "'$fovea' --threads 1 --version | grep 'OpenMP threads: 1)' >/dev/null"
check "OMP_NUM_THREADS=1" "OMP_NUM_THREADS=1 '$fovea' --version | grep 'OpenMP threads: 1)' >/dev/null"
check "--threads 0 refused" "! '$fovea' --threads 0 --version 2>/dev/null"
model=$src/models/lenet5.fv # seeded weights: what matters is that both outputs agree
text=$("$fovea" evaluate "$model" --data fashion-mnist)
json=$("$fovea" evaluate "$model" --data fashion-mnist --json)
check "evaluate --json parses and its accuracy equals the text's" "/usr/bin/python3 -c '
import json, re, sys
d = json.loads(sys.argv[1])
text = float(re.search(r\"accuracy ([0-9.]+)%\", sys.argv[2]).group(1))
assert abs(100 * d[\"accuracy\"] - text) < 0.005 and d[\"samples\"] == 10000 and len(d[\"confusion\"]) == 10, (d[\"accuracy\"], text)
assert d[\"classes\"][9][\"name\"] == \"Ankle boot\"
' \"\$json\" \"\$text\""
check "summary --json parses, Keras's parameter count" "'$fovea' summary '$model' --json | /usr/bin/python3 -c 'import json, sys; d = json.load(sys.stdin); assert d[\"total_params\"] == 61706 and d[\"layers\"][0][\"output_shape\"] == [None, 28, 28, 1]'"
/usr/bin/python3 "$src/scripts/fashion_samples.py" "$dir" 2 >/dev/null
check "predict --json parses" "'$fovea' predict '$model' --json --top 2 '$dir'/*.png | /usr/bin/python3 -c 'import json, sys; d = json.load(sys.stdin); assert len(d[\"predictions\"]) == 2 and len(d[\"predictions\"][0][\"top\"]) == 2'"
check "man -l docs/fovea.1 renders every command" "[ \"\$(man -l '$src/docs/fovea.1' 2>/dev/null | grep -c 'usage: fovea')\" -eq 13 ]"
check "docs/fovea.1 is current (scripts/make_man.sh)" "'$src/scripts/make_man.sh' '$fovea' | cmp -s - '$src/docs/fovea.1'"
# --normalize is kept in the model file and applied by evaluate: training on raw data with
# --normalize M,S equals training on data normalised beforehand, and so do the evaluations
/usr/bin/python3 - "$dir" <<'PY'
import sys, numpy as np
d, rng = sys.argv[1], np.random.default_rng(5)
y = rng.integers(0, 2, 600); x = (rng.normal(size=(600, 2)) + np.where(y[:, None] == 1, 1.0, -1.0)).astype(np.float32)
np.save(f"{d}/x.npy", x); np.save(f"{d}/y.npy", y); np.save(f"{d}/xn.npy", ((x - np.float32(0.5)) / np.float32(0.25)).astype(np.float32))
PY
"$fovea" train "$src/models/mlp-2d.fv" --data "$dir/x.npy,$dir/y.npy" --normalize 0.5,0.25 --epochs 3 --batch 32 --no-test --out "$dir/norm.fvm" >"$dir/norm.log"
"$fovea" train "$src/models/mlp-2d.fv" --data "$dir/xn.npy,$dir/y.npy" --epochs 3 --batch 32 --no-test --out "$dir/pre.fvm" >/dev/null
check "--normalize: said so" "grep -q 'inputs normalised: (x - mean) / std with mean 0.5, std 0.25' '$dir/norm.log'"
check "--normalize 0.5,0.25 trains as on data normalised beforehand" "cmp -s <('$fovea' weights '$dir/norm.fvm' --exact) <('$fovea' weights '$dir/pre.fvm' --exact)"
check "evaluate applies the model's normalisation" "[ \"\$('$fovea' evaluate '$dir/norm.fvm' --data '$dir/x.npy,$dir/y.npy' --json)\" = \"\$('$fovea' evaluate '$dir/pre.fvm' --data '$dir/xn.npy,$dir/y.npy' --json)\" ]"
"$fovea" train "$src/models/mlp-2d.fv" --data "$dir/x.npy,$dir/y.npy" --normalize auto --epochs 1 --no-test >"$dir/auto.log"
check "--normalize auto measures each channel" "grep -qE 'inputs normalised: .* mean -?[0-9.]+ -?[0-9.]+, std [0-9.]+ [0-9.]+' '$dir/auto.log'"
check "--normalize with a bad value is refused" "! '$fovea' train '$src/models/mlp-2d.fv' --data '$dir/x.npy,$dir/y.npy' --normalize 0.5,0 2>/dev/null"
finish
