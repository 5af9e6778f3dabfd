#!/usr/bin/env bash
# Installs fovea into a temporary prefix, then builds the four examples out of tree against the
# installed package twice — with find_package(fovea) and with pkg-config — and runs the first
# three of each build: train (1 epoch on 2,000 Fashion-MNIST images), classify with the saved
# model, a saliency map (read_text needs PaddleOCR's models: tests/paddleocr.sh runs it).
# usage: install.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
build=$1 src=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
passed=0 failed=0
check() { if eval "$2" >"$dir/log" 2>&1; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $1"; tail -15 "$dir/log"; fi; }
prefix=$dir/prefix
check "cmake --install" "cmake --install '$build' --prefix '$prefix'"
for f in include/fovea.h lib/libfovea.so lib/libfovea.a bin/fovea lib/pkgconfig/fovea.pc lib/cmake/fovea/foveaConfig.cmake share/man/man1/fovea.1; do
  check "installed $f" "[ -e '$prefix/$f' ]"
done
check "every symbol the libraries export starts with fv_ (a program's own bind() or run() cannot clash)" "[ -z \"\$(nm -g --defined-only '$prefix/lib/libfovea.a' '$prefix/lib/libfovea.so' 2>/dev/null | awk 'NF == 3 {print \$3}' | grep -v '^fv_' | grep -vE '^(_init|_fini|_edata|_end|__bss_start)\$')\" ]"
check "the installed tool runs" "'$prefix/bin/fovea' --version"
check "examples with find_package(fovea)" "cmake -S '$src/examples' -B '$dir/cmake' -DCMAKE_PREFIX_PATH='$prefix' -DCMAKE_BUILD_TYPE=Release && cmake --build '$dir/cmake'"
mkdir -p "$dir/make"
check "examples with pkg-config" "PKG_CONFIG_PATH='$prefix/lib/pkgconfig' make -C '$src/examples' OUT='$dir/make'"
/usr/bin/python3 "$src/tests/fashion_subset.py" "$dir/data" 2000
/usr/bin/python3 "$src/scripts/fashion_samples.py" "$dir/png" 1 >/dev/null
for way in cmake make; do
  bin=$dir/$way
  export LD_LIBRARY_PATH=$prefix/lib
  check "$way: train_fashion" "'$bin/train_fashion' '$dir/data' 1 '$dir/$way.fvm' && [ -s '$dir/$way.fvm' ]"
  check "$way: classify" "'$bin/classify' '$dir/$way.fvm' '$dir/png/test-0-9.png' | grep 'test-0-9.png: .* (class [0-9]*) ' >/dev/null"
  check "$way: saliency" "'$bin/saliency' '$dir/$way.fvm' '$dir/png/test-0-9.png' '$dir/$way.png' && [ -s '$dir/$way.png' ]"
  check "$way: linked to the installed libfovea.so" "ldd '$bin/classify' | grep '$prefix/lib/libfovea.so' >/dev/null"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
