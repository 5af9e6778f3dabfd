#!/usr/bin/env bash
# The bad-input table: for each kind of bad input, fovea must exit non-zero with one line on stderr
# that names the file and the problem, and must leave an earlier good output file as it was.
# usage: bad_input.sh FOVEA SOURCE_DIR
set -uo pipefail
fovea=$1 src=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
passed=0 failed=0
model=$src/models/lenet5.fv

# bad KIND PATTERN COMMAND...: non-zero exit, exactly one stderr line, matching PATTERN (which names the file)
bad() {
  local kind=$1 pattern=$2; shift 2
  "$@" >"$dir/out" 2>"$dir/err"
  local rc=$? lines
  lines=$(wc -l <"$dir/err")
  if [ $rc -ne 0 ] && [ "$lines" -eq 1 ] && grep -qE -- "$pattern" "$dir/err"; then passed=$((passed + 1))
  else failed=$((failed + 1)); echo "FAILED: $kind: exit $rc, $lines stderr lines: $(head -3 "$dir/err")"; fi
}
# good KIND PATTERN COMMAND...: exit 0 and a stdout line matching PATTERN
good() {
  local kind=$1 pattern=$2; shift 2
  "$@" >"$dir/out" 2>"$dir/err"
  local rc=$?
  if [ $rc -eq 0 ] && grep -qE -- "$pattern" "$dir/out"; then passed=$((passed + 1))
  else failed=$((failed + 1)); echo "FAILED: $kind: exit $rc: $(head -3 "$dir/err")"; fi
}
intact() { # intact KIND FILE MD5
  if [ "$(md5sum <"$2")" = "$3" ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $1 damaged $2"; fi
}

# small valid inputs, and broken copies of them (Python writes the exact formats)
/usr/bin/python3 - "$dir" <<'PY'
import gzip, os, struct, sys, zlib
import numpy as np
d = sys.argv[1]
rng = np.random.default_rng(1)
def idx(folder, n, labels, magic=0x803, cut=0, rows=28):
    os.makedirs(os.path.join(d, folder), exist_ok=True)
    img = struct.pack(">IIII", magic, n, rows, rows) + rng.integers(0, 256, n * rows * rows, dtype=np.uint8).tobytes()
    open(os.path.join(d, folder, "train-images-idx3-ubyte"), "wb").write(img[:len(img) - cut])
    open(os.path.join(d, folder, "train-labels-idx1-ubyte"), "wb").write(struct.pack(">II", 0x801, n) + bytes(labels))
idx("good", 64, [i % 10 for i in range(64)])
idx("truncated", 64, [i % 10 for i in range(64)], cut=100)
idx("magic", 64, [i % 10 for i in range(64)], magic=0x804)
idx("labels", 64, [12 if i == 5 else i % 10 for i in range(64)])
idx("empty", 0, [])
idx("shape", 64, [i % 10 for i in range(64)], rows=32)
idx("nine", 64, [i % 9 for i in range(64)])  # a subset without the last class
idx("one", 64, [0] * 64)
x = rng.random((4, 28, 28), dtype=np.float32); x[1, 3, 3] = np.nan
np.save(os.path.join(d, "nan-x.npy"), x); np.save(os.path.join(d, "nan-y.npy"), np.arange(4))
open(os.path.join(d, "empty.fvm"), "wb").close()
open(os.path.join(d, "noimage.png"), "wb").write(b"not an image at all")
open(os.path.join(d, "unknown-layer.fv"), "w").write("input shape=28,28,1\nconv4d filters=2 kernel=3\n")
open(os.path.join(d, "unknown-setting.fv"), "w").write("input shape=28,28,1\nconv2d filterz=2 kernel=3\n")
open(os.path.join(d, "control-byte.fv"), "w").write("input shape=28,28,1\nconv2d fil\vters=2 kernel=3\n")
PY
"$fovea" train "$model" --data "$dir/good" --epochs 1 --batch 16 --no-test --out "$dir/good.fvm" >/dev/null 2>&1
/usr/bin/python3 "$src/tests/bad_onnx.py" "$dir" # ONNX files the importer must refuse
/usr/bin/python3 "$src/tests/fuzz/make_corpus.py" --nested-onnx 3000 "$dir/nested.onnx"
python_fix() { # python_fix IN OUT CODE: rewrite a model file's bytes (b) and fix its CRC-32
  /usr/bin/python3 - "$1" "$2" "$3" <<'PY'
import struct, sys, zlib
b = bytearray(open(sys.argv[1], "rb").read())
def sections(b):  # (tag, payload start, payload length)
    at, out = 16, []
    for _ in range(struct.unpack_from("<I", b, 12)[0]):
        tag, n = struct.unpack_from("<4sQ", b, at)
        out.append((tag, at + 12, n)); at += 12 + n
    return out
exec(sys.argv[3])
b[-4:] = struct.pack("<I", zlib.crc32(bytes(b[:-4])))
open(sys.argv[2], "wb").write(bytes(b))
PY
}
python_fix "$dir/good.fvm" "$dir/newer.fvm" 'struct.pack_into("<I", b, 8, 2)'
python_fix "$dir/good.fvm" "$dir/impossible.fvm" 'tag, at, n = [s for s in sections(b) if s[0] == b"TRAN"][0]; struct.pack_into("<I", b, at + 12, 0xFFFFFFFF)'
python_fix "$dir/good.fvm" "$dir/badopt.fvm" 'tag, at, n = [s for s in sections(b) if s[0] == b"OPTM"][0]; struct.pack_into("<I", b, at + 32, 7)'
# a newer fovea's sections: an optional one (lower-case tag) and a required one (upper case)
python_fix "$dir/good.fvm" "$dir/future_optional.fvm" 'struct.pack_into("<I", b, 12, struct.unpack_from("<I", b, 12)[0] + 1); b[-4:-4] = b"xtra" + struct.pack("<Q", 5) + b"hello"'
python_fix "$dir/good.fvm" "$dir/future_required.fvm" 'struct.pack_into("<I", b, 12, struct.unpack_from("<I", b, 12)[0] + 1); b[-4:-4] = b"QUAN" + struct.pack("<Q", 4) + b"\0\0\0\0"'
head -c 2000 "$dir/good.fvm" >"$dir/truncated.fvm"
cp "$dir/good.fvm" "$dir/crc.fvm" && printf '\xff' | dd of="$dir/crc.fvm" bs=1 seek=600 conv=notrunc 2>/dev/null
good=$(md5sum <"$dir/good.fvm")

bad "missing file" "nothere.fv: cannot open" "$fovea" train "$dir/nothere.fv" --data "$dir/good"
bad "missing data" "nothere" "$fovea" evaluate "$dir/good.fvm" --data "$dir/nothere"
bad "directory instead of a model" "$dir: " "$fovea" summary "$dir"
bad "directory instead of an image" "good: cannot decode" "$fovea" predict "$dir/good.fvm" "$dir/good"
bad "empty model file" "empty.fvm: " "$fovea" summary "$dir/empty.fvm"
bad "truncated model file" "truncated.fvm: .*(truncated|corrupt)" "$fovea" summary "$dir/truncated.fvm"
bad "truncated IDX" "train-images-idx3-ubyte: truncated" "$fovea" train "$model" --data "$dir/truncated" --out "$dir/good.fvm"
intact "truncated IDX" "$dir/good.fvm" "$good"
bad "wrong magic" "train-images-idx3-ubyte: not an IDX image file" "$fovea" evaluate "$dir/good.fvm" --data "$dir/magic" --split train
bad "show: an image that is not there (one line, no stray second)" "nothere.png: cannot decode" "$fovea" show "$model" "$dir/nothere.png" --layer conv2d_1
bad "image that is not one" "noimage.png: cannot decode" "$fovea" predict "$dir/good.fvm" "$dir/noimage.png"
bad "newer version" "newer.fvm: model file version 2; this fovea reads version 1" "$fovea" summary "$dir/newer.fvm"
bad "CRC mismatch" "crc.fvm: checksum mismatch" "$fovea" train "$dir/crc.fvm" --data "$dir/good" --out "$dir/good.fvm"
intact "CRC mismatch" "$dir/good.fvm" "$good"
if cmp -s <("$fovea" weights "$dir/future_optional.fvm" --exact) <("$fovea" weights "$dir/good.fvm" --exact); then passed=$((passed + 1))
else failed=$((failed + 1)); echo "FAILED: a newer fovea's optional section is not skipped"; fi
bad "a newer fovea's required section" "future_required.fvm: section 'QUAN' is required to read this file and this fovea does not know it" "$fovea" summary "$dir/future_required.fvm"
bad "CRC-valid, impossible training state" "impossible.fvm: impossible training state" "$fovea" train "$dir/impossible.fvm" --data "$dir/good"
bad "CRC-valid, impossible optimizer" "badopt.fvm: impossible optimizer settings" "$fovea" train "$dir/badopt.fvm" --data "$dir/good"
bad "shape that does not fit the network" "shape: .*takes inputs \(None, 28, 28, 1\) but the data has samples \(None, 32, 32, 1\)" \
  "$fovea" train "$model" --data "$dir/shape" --out "$dir/good.fvm"
intact "shape mismatch" "$dir/good.fvm" "$good"
bad "label out of range" "labels: .*label is out of range" "$fovea" evaluate "$dir/good.fvm" --data "$dir/labels" --split train
bad "NaN in data" "nan-x.npy: sample 1 holds a NaN" "$fovea" train "$model" --data "$dir/nan-x.npy,$dir/nan-y.npy" --out "$dir/good.fvm"
intact "NaN in data" "$dir/good.fvm" "$good"
bad "empty dataset" "empty: the train split has no samples" "$fovea" evaluate "$dir/good.fvm" --data "$dir/empty" --split train
bad "unknown layer" "unknown-layer.fv:2: .*conv4d" "$fovea" summary "$dir/unknown-layer.fv"
bad "unknown setting" "unknown-setting.fv:2: .*filterz" "$fovea" summary "$dir/unknown-setting.fv"
bad "unwritable output, found before training" "/nonexistent-dir/m.fvm: cannot write" "$fovea" train "$model" --data "$dir/good" --out /nonexistent-dir/m.fvm
if ! grep -q Epoch "$dir/out"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: trained before finding the output unwritable"; fi
bad "out-of-range option" "--epochs needs an integer from 1 to 1000000, not '2147483648'" "$fovea" train "$model" --data "$dir/good" --epochs 2147483648
bad "non-finite option" "--rotate needs a number from 0 to 180, not 'inf'" "$fovea" train "$model" --data "$dir/good" --rotate inf
bad "shift beyond the image" "a shift of 1000 pixels does not fit images of 28 x 28" "$fovea" train "$model" --data "$dir/good" --shift 1000
# disk full: a file-size limit (SIGXFSZ ignored, so writes fail with EFBIG) while saving over a good model
bad "disk full" "good.fvm: write failed" bash -c "trap '' XFSZ; ulimit -f 100; exec '$fovea' train '$model' --data '$dir/good' --epochs 1 --batch 16 --no-test --out '$dir/good.fvm'"
intact "disk full" "$dir/good.fvm" "$good"
if ! ls "$dir"/good.fvm.tmp.* >/dev/null 2>&1; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: a temporary file was left"; fi
# ... and without ignoring SIGXFSZ, whose default action killed fovea mid-write, leaving MODEL.tmp.PID
bad "file-size limit (SIGXFSZ)" "good.fvm: write failed" bash -c "ulimit -f 100; exec '$fovea' train '$model' --data '$dir/good' --epochs 1 --batch 16 --no-test --out '$dir/good.fvm'"
intact "file-size limit (SIGXFSZ)" "$dir/good.fvm" "$good"
if ! ls "$dir"/good.fvm.tmp.* >/dev/null 2>&1; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: SIGXFSZ left a temporary file"; fi
# error lines are one line that names the file
bad "a control byte in a model text" "control-byte.fv:2: .*fil\\\\x0bters" "$fovea" summary "$dir/control-byte.fv"
bad "an empty output name, found before training" "the output file name is empty" "$fovea" train "$model" --data "$dir/good" --out ""
if ! grep -q Epoch "$dir/out"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: trained before finding the output name empty"; fi
good "forward times a saved model too" "^forward .* ms, backward" "$fovea" forward "$dir/good.fvm" --batch 4 --repeat 1
bad "a plan larger than the machine's memory, refused before allocating" "lenet5.fv: planning 'lenet5' for batch 1000000 needs [0-9.]+ GB .* more than the [0-9.]+ GB of memory available" \
  "$fovea" forward "$model" --batch 1000000 --repeat 1
# metrics are the network's classes, whatever labels the data holds (these overflowed the confusion matrix)
good "a test subset without the last class" "^9 +0\.0000 +0\.0000 +0\.0000 +0$" "$fovea" evaluate "$dir/good.fvm" --data "$dir/nine" --split train
good "a one-class test set" "^9 +0\.0000 +0\.0000 +0\.0000 +0$" "$fovea" evaluate "$dir/good.fvm" --data "$dir/one" --split train
good "training on one class with a validation split" "val_accuracy" "$fovea" train "$model" --data "$dir/one" --val-split 0.5 --epochs 1 --batch 16
# ONNX: nesting that overflowed protobuf-c's stack, and what the importer must not take silently
bad "ONNX graphs nested 3,000 deep" "nested.onnx: messages nested more than 100 deep" "$fovea" summary "$dir/nested.onnx"
bad "ONNX Relu of another domain, fused" "foreign_relu.onnx: node 'relu1' \(Relu\): operator domain 'com.example'" "$fovea" summary "$dir/foreign_relu.onnx"
bad "ONNX Softmax of another domain" "foreign_softmax.onnx: node 'soft' \(Softmax\): operator domain 'com.example'" "$fovea" summary "$dir/foreign_softmax.onnx"
bad "ONNX dilations as floats" "float_dilations.onnx: node 'conv1' \(Conv\): attribute 'dilations' is of type floats" "$fovea" summary "$dir/float_dilations.onnx"
bad "ONNX strides given twice" "two_strides.onnx: node 'conv1' \(Conv\): attribute 'strides' is given twice" "$fovea" summary "$dir/two_strides.onnx"
bad "ONNX extra input" "extra_input.onnx: node 'relu1' \(Relu\): 2 inputs; Relu takes at most 1" "$fovea" summary "$dir/extra_input.onnx"
bad "ONNX NaN weight" "nan_weight.onnx: tensor 'w' holds a NaN" "$fovea" summary "$dir/nan_weight.onnx"
bad "ONNX NaN Gemm alpha" "nan_alpha.onnx: node 'fc' \(Gemm\): alpha nan" "$fovea" summary "$dir/nan_alpha.onnx"
bad "ONNX infinite Slice start" "inf_slice.onnx: node 'cut' \(Slice\): an empty slice" "$fovea" summary "$dir/inf_slice.onnx"
bad "ONNX folded 0/0" "nan_shape.onnx: node 'zero_by_zero' \(Div\): tensor 'nan' holds a NaN" "$fovea" summary "$dir/nan_shape.onnx"
bad "ONNX folded Log(-1)" "nan_log.onnx: node 'log_of_minus' \(Log\): tensor 'l' holds a NaN" "$fovea" summary "$dir/nan_log.onnx"
good "ONNX: the same network, well-formed" "Total params: 18" "$fovea" summary "$dir/good.onnx"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
