#!/usr/bin/env bash
# onnx_zoo.sh — torchvision's models (weights=None, seeded, BatchNorm statistics randomised),
# exported by torch.onnx.export at opset 13 with a dynamic batch and with a fixed batch of 2,
# imported by fovea and run on both backends: each must equal PyTorch within 1e-4 of its largest
# output, or fail naming the node and operator it stopped at.
# usage: tests/onnx_zoo.sh FOVEA SOURCE_DIR [MODEL...]   (default: every model of the zoo)
#   SIZE=S      input side for the models that allow another (tests/onnx_torch_models.py)
#   ZOO_TIME=1  also time batch 1 against ONNX Runtime, 1 and 2 threads, alternating (ORT_DIR: its
#               node_modules' parent, as scripts/onnxruntime.sh leaves it)
#   ZOO_DOC=F   write the table between F's "zoo: begin/end" markers (docs/ONNX.md)
# CI runs a few small models at SIZE=96 (tests/CMakeLists.txt); scripts/onnx_zoo.sh runs all 26.
set -uo pipefail
fovea=$1 src=$2
backends=$(for b in onednn reference; do "$fovea" --version | grep -q "backends:.*$b" && echo $b; done) # those built in, oneDNN first
shift 2
. "$src/tests/lib.sh"
py=/usr/bin/python3
models=("$@")
if [ ${#models[@]} -eq 0 ]; then
  read -r -a models <<<"$($py -c "import sys; sys.path.insert(0, '$src/tests'); import onnx_torch_models as m; print(' '.join(m.ZOO + m.SEGMENTATION))")"
fi
compare() { # A B: prints the largest difference relative to B's largest value; fails above 1e-4
  $py - "$1" "$2" <<'PY'
import sys, numpy as np
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
err = float(abs(a - b).max() / abs(b).max()) if a.shape == b.shape else float("inf")
print(f"{err:.1e}")
sys.exit(0 if err <= 1e-4 else 1)
PY
}
median_ms() { # COMMAND...: the median of the "*_ms X" lines it prints
  "$@" 2>/dev/null | awk '/_ms /{print $2}'
}
table=$dir/table.md
printf '| model | imports | error vs PyTorch (oneDNN / reference) | fixed batch 2 | fovea / ONNX Runtime, batch 1, 1 thread | 2 threads |\n|---|---|---|---|---|---|\n' >"$table"
for m in "${models[@]}"; do
  if ! $py "$src/tests/onnx_torch_models.py" "$dir" "$m" >"$dir/$m.export.log" 2>&1 ||
     ! $py "$src/tests/onnx_torch_models.py" --fixed-batch "$dir" "$m" >>"$dir/$m.export.log" 2>&1; then
    check "$m: PyTorch exports it" "false"
    tail -3 "$dir/$m.export.log"
    continue
  fi
  errs=() why=""
  for b in $backends; do
    if "$fovea" forward "$dir/$m.onnx" --backend $b --input "$dir/$m.x.npy" --output "$dir/$m.$b.npy" >"$dir/$m.log" 2>&1; then
      ok=0
      e=$(compare "$dir/$m.$b.npy" "$dir/$m.y.npy") && ok=1
      check "$m ($b) equals PyTorch: $e" "[ $ok -eq 1 ]"
      errs+=("$e")
    else
      why=$(tail -1 "$dir/$m.log" | sed 's/^fovea: [^:]*: //')
      check "$m ($b) imports: $why" "false"
      errs+=("-")
    fi
  done
  fixed="-"
  if [ -z "$why" ]; then
    if "$fovea" forward "$dir/${m}_fixed.onnx" --input "$dir/${m}_fixed.x.npy" --output "$dir/$m.fixed.npy" >"$dir/$m.log" 2>&1; then
      ok=0
      fixed=$(compare "$dir/$m.fixed.npy" "$dir/${m}_fixed.y.npy") && ok=1
      check "$m exported with a fixed batch equals PyTorch: $fixed" "[ $ok -eq 1 ]"
    else
      check "$m exported with a fixed batch imports: $(tail -1 "$dir/$m.log")" "false"
    fi
  fi
  t1="-" t2="-"
  if [ -z "$why" ] && [ "${ZOO_TIME:-0}" = 1 ]; then
    $py -c "import numpy as np; x = np.load('$dir/$m.x.npy'); np.save('$dir/$m.x1.npy', x[:1])"
    for threads in 1 2; do
      f=() o=()
      for round in 1 2 3; do # alternating, each in its own process
        f+=("$(median_ms "$fovea" --threads $threads forward "$dir/$m.onnx" --input "$dir/$m.x1.npy" --output "$dir/$m.t.npy" --repeat 10)")
        o+=("$(NODE_PATH="$ORT_DIR/node_modules" median_ms node "$src/tests/ort_run.js" "$dir/$m.onnx" "$dir/$m.x1.npy" "$dir/$m.o.npy" $threads 10)")
      done
      cell=$($py -c "import statistics as s, sys; f = [float(v) for v in sys.argv[1].split()]; o = [float(v) for v in sys.argv[2].split()]; print(f'{s.median(f):.1f} / {s.median(o):.1f} ms ({s.median([a / b for a, b in zip(f, o)]):.2f}x)')" "${f[*]}" "${o[*]}" 2>/dev/null || echo "-")
      [ $threads = 1 ] && t1=$cell || t2=$cell
    done
  fi
  imports=$([ -z "$why" ] && echo yes || echo "no: $why")
  printf '| %s | %s | %s / %s | %s | %s | %s |\n' "$m" "$imports" "${errs[0]}" "${errs[1]:--}" "$fixed" "$t1" "$t2" >>"$table"
  rm -f "$dir/$m"*.onnx "$dir/$m"*.npy
done
cat "$table"
if [ -n "${ZOO_DOC:-}" ]; then
  $py - "$ZOO_DOC" "$table" <<'PY'
import sys
doc, table = sys.argv[1], open(sys.argv[2]).read()
s = open(doc).read()
b, e = "<!-- zoo: begin -->\n", "<!-- zoo: end -->"
s = s[:s.index(b) + len(b)] + table + s[s.index(e):]
open(doc, "w").write(s)
PY
fi
finish
