#!/usr/bin/env bash
# The tool scripts well: every command's --help has a usage line and an example, --version and
# --threads work, and --json output parses and agrees with the text output.
# usage: cli.sh FOVEA SOURCE_DIR
set -uo pipefail
fovea=$1 src=$2
passed=0 failed=0
check() { if eval "$2"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $1"; fi; }
for c in train evaluate predict report summary weights layers forward filter show saliency gradcam dream; do
  help=$("$fovea" "$c" --help)
  check "$c --help: usage and example" "grep -q '^usage: fovea $c' <<<\"\$help\" && grep -q '^example: fovea $c' <<<\"\$help\""
done
check "--version" "'$fovea' --version | grep -qE '^fovea [0-9]+\.[0-9]+\.[0-9]+ '"
check "--threads 1" "'$fovea' --threads 1 --version | grep -q 'OpenMP threads: 1)'"
check "OMP_NUM_THREADS=1" "OMP_NUM_THREADS=1 '$fovea' --version | grep -q 'OpenMP threads: 1)'"
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
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
/usr/bin/python3 "$src/scripts/fashion_samples.py" "$dir" 2 >/dev/null
check "predict --json parses" "'$fovea' predict '$model' --json --top 2 '$dir'/*.png | /usr/bin/python3 -c 'import json, sys; d = json.load(sys.stdin); assert len(d[\"predictions\"]) == 2 and len(d[\"predictions\"][0][\"top\"]) == 2'"
check "man -l docs/fovea.1 renders every command" "[ \"\$(man -l '$src/docs/fovea.1' 2>/dev/null | grep -c 'usage: fovea')\" -eq 13 ]"
check "docs/fovea.1 is current (scripts/make_man.sh)" "'$src/scripts/make_man.sh' '$fovea' | cmp -s - '$src/docs/fovea.1'"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
