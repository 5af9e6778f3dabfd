#!/usr/bin/env bash
# Valgrind memcheck of a short `fovea train` and a `fovea predict`: 0 errors and no memory lost.
# They run on the reference backend: valgrind (3.19) cannot follow oneDNN's JIT-generated AVX-512
# code (it stops with "VEX temporary storage exhausted"), and the reference kernels are the
# oracle oneDNN is tested against. Suppressions: tests/valgrind.supp (libgomp's thread pool).
# usage: valgrind.sh FOVEA SOURCE_DIR
set -uo pipefail
fovea=$1 src=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
command -v valgrind >/dev/null || { echo "0 passed, 1 failed: valgrind is not installed"; exit 1; }
/usr/bin/python3 "$src/tests/fashion_subset.py" "$dir/data" 256
/usr/bin/python3 "$src/scripts/fashion_samples.py" "$dir/png" 2 >/dev/null
passed=0 failed=0
memcheck() { # memcheck NAME COMMAND...
  local name=$1; shift
  # the policy set here: without it fovea starts itself again with it (tools/fovea.c,
  # fair_share), and valgrind would not follow it into the new start
  GOMP_SPINCOUNT=1000 valgrind --leak-check=full --errors-for-leak-kinds=definite,possible --error-exitcode=99 \
    --suppressions="$src/tests/valgrind.supp" "$@" >"$dir/$name.out" 2>"$dir/$name.log"
  local rc=$?
  if [ $rc -eq 0 ] && grep -q "ERROR SUMMARY: 0 errors" "$dir/$name.log" && grep -qE "definitely lost: 0 bytes|no leaks are possible" "$dir/$name.log"; then
    passed=$((passed + 1)); echo "ok: $name: $(grep -o 'ERROR SUMMARY: [0-9]* errors' "$dir/$name.log"), $(grep -oE 'definitely lost: [0-9,]* bytes|All heap blocks were freed' "$dir/$name.log")"
  else
    failed=$((failed + 1)); echo "FAILED: $name (exit $rc)"; grep -E "^==[0-9]+== (Invalid|Conditional|.*lost|ERROR SUMMARY)" "$dir/$name.log" | head -20
  fi
}
memcheck train "$fovea" train "$src/models/lenet5.fv" --data "$dir/data" --epochs 1 --batch 32 --no-test --backend reference --out "$dir/m.fvm"
memcheck predict "$fovea" predict "$dir/m.fvm" --backend reference "$dir"/png/*.png
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
