#!/usr/bin/env bash
# The tool scripts well: every command's --help has a usage line and an example, --version and
# --threads work, and --json output parses and agrees with the text output.
# usage: cli.sh FOVEA SOURCE_DIR
set -uo pipefail
fovea=$1 src=$2
. "$src/tests/lib.sh"
commands=$("$fovea" completion commands)
check "16 commands in the table" "[ $(wc -w <<<"$commands") -eq 16 ]"
for c in $commands completion; do
  help=$("$fovea" "$c" --help)
  check "$c --help: usage and example" "grep -q '^usage: fovea $c' <<<\"\$help\" && grep -q '^example: fovea $c' <<<\"\$help\""
done
# every option of every command's table: in its --help, in the completion script, and a value out of
# its range (numbers) or not among its words (choices) gives the one error form
"$fovea" completion bash >"$dir/completion.bash"
check "options table and every option checked" "/usr/bin/python3 - '$fovea' '$dir/completion.bash' <<'PY'
import re, subprocess, sys
fovea, completion = sys.argv[1], open(sys.argv[2]).read()
rows = [l.split('\t') for l in subprocess.run([fovea, 'completion', 'options'], capture_output=True, text=True, check=True).stdout.splitlines()]
assert len(rows) > 150, len(rows)
helps, bad = {}, []
for cmd, name, alias, kind, lo, hi, choices in rows:
    helps.setdefault(cmd, subprocess.run([fovea, cmd, '--help'], capture_output=True, text=True).stdout)
    if name not in helps[cmd] or (alias != '-' and alias + ', ' + name not in helps[cmd]):
        bad.append(f'{cmd} --help lacks {name}')
    m = re.search(rf'^  {cmd}\)\n(.*?)(?=^  [a-z_]+\)\$|^  esac)', completion, re.M | re.S)
    section = m.group(1) if m else ''
    if name not in section:
        bad.append(f'the completion of {cmd} lacks {name}')
    if kind in ('int', 'float', 'choice'):
        value = str(int(float(hi)) + 1) if kind == 'int' else '1e300' if kind == 'float' else 'nonesuch'
        if kind == 'int':
            want = f\"fovea: {name} needs an integer from {int(float(lo))} to {int(float(hi))}, not '{value}'\"
        elif kind == 'float':
            want = f\"fovea: {name} needs a number from {float(lo):g} to {float(hi):g}, not '{value}'\"
        else:
            want = f\"fovea: {name} needs one of {', '.join(choices.split('|'))}, not '{value}'\"
        r = subprocess.run([fovea, cmd, name, value], capture_output=True, text=True)
        if r.returncode != 2 or r.stderr.strip() != want:
            bad.append(f'{cmd} {name} {value}: exit {r.returncode}, {r.stderr.strip()!r}, not {want!r}')
assert not bad, '\n'.join(bad)
PY"
complete_words() { bash -c "source '$dir/completion.bash'; COMP_WORDS=($1); COMP_CWORD=$2; _fovea; echo \"\${COMPREPLY[*]}\""; }
check "completion: commands" "[[ ' $(complete_words 'fovea sa' 1) ' == *' saliency '* ]]"
check "completion: a command's options" "[[ ' $(complete_words 'fovea train --sch' 2) ' == ' --schedule ' ]]"
check "completion: a choice's words" "[ '$(complete_words 'fovea train --optimizer ""' 3)' = 'adam sgd' ]"
check "unknown option: one line naming it" "[ \"\$('$fovea' summary '$src/models/lenet5.fv' --nope 2>&1)\" = \"fovea: unknown option '--nope' (fovea summary --help)\" ]"
check "--name=value and -o for --out" "'$fovea' export '$src/models/lenet5.fv' -o '$dir/a.onnx' --seed=3 >/dev/null && '$fovea' export '$src/models/lenet5.fv' --out '$dir/b.onnx' --seed 3 >/dev/null && cmp -s '$dir/a.onnx' '$dir/b.onnx'"
check "--version" "'$fovea' --version | grep -E '^fovea [0-9]+\.[0-9]+\.[0-9]+ ' >/dev/null"
check "--threads 1" "'$fovea' --threads 1 --version | grep 'OpenMP threads: 1;' >/dev/null"
check "OMP_NUM_THREADS=1" "OMP_NUM_THREADS=1 '$fovea' --version | grep 'OpenMP threads: 1;' >/dev/null"
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
/usr/bin/python3 -c "import numpy as np, sys; np.save(sys.argv[1], np.random.default_rng(4).random((3, 28, 28, 1), dtype=np.float32))" "$dir/x3.npy"
"$fovea" forward "$model" --input "$dir/x3.npy" --output "$dir/y3.npy" >/dev/null
check "predict a .npy of 3 inputs: each row's top class and probability as fovea forward's" "'$fovea' predict '$model' --json --top 1 '$dir/x3.npy' | /usr/bin/python3 -c '
import json, sys, numpy as np
p = json.load(sys.stdin)[\"predictions\"]; y = np.load(sys.argv[1])
assert [r[\"image\"][-3:] for r in p] == [\"[0]\", \"[1]\", \"[2]\"], p
assert all(r[\"top\"][0][\"class\"] == int(y[i].argmax()) and abs(r[\"top\"][0][\"probability\"] - float(y[i].max())) < 1e-6 for i, r in enumerate(p)), p
' '$dir/y3.npy'"
check "predict a .npy of the wrong shape: one line naming it, exit 1" "/usr/bin/python3 -c 'import numpy as np, sys; np.save(sys.argv[1], np.zeros((2, 5, 5, 1), np.float32))' '$dir/bad.npy' && ! '$fovea' predict '$model' '$dir/bad.npy' 2>'$dir/bad.log' && grep -q 'bad.npy: a .npy of the model' '$dir/bad.log' && [ \$(wc -l <'$dir/bad.log') -eq 1 ]"
check "man -l docs/fovea.1 renders every command" "[ \"\$(man -l '$src/docs/fovea.1' 2>/dev/null | grep -c 'usage: fovea')\" -eq 17 ]"
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
