#!/usr/bin/env bash
# The looking-inside commands end to end: each writes its pictures (non-empty PNGs that decode),
# --help works, and bad input is a one-line error naming what is wrong, with a non-zero exit.
# usage: inspect_cli.sh FOVEA SOURCE_DIR
set -uo pipefail
fovea=$1 src=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
model=$src/models/mnist-cnn.fv # seeded weights: the mechanics, not the meaning
photo=/usr/share/darknet/data/dog.jpg
passed=0 failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAILED: $*"; }

# expect_error DESCRIPTION PATTERN COMMAND...: non-zero exit, one line on stderr matching PATTERN
expect_error() {
  local what=$1 pattern=$2; shift 2
  "$@" >"$dir/out" 2>"$dir/err"
  local rc=$? lines
  lines=$(wc -l <"$dir/err")
  if [ $rc -ne 0 ] && [ "$lines" -eq 1 ] && grep -q -- "$pattern" "$dir/err"; then ok
  else bad "$what: exit $rc, stderr ($lines lines): $(cat "$dir/err")"; fi
}
# expect_png DESCRIPTION FILE COMMAND...: exit 0 and FILE is a PNG
expect_png() {
  local what=$1 file=$2; shift 2
  if "$@" >"$dir/out" 2>"$dir/err" && [ -s "$file" ] && [ "$(head -c 8 "$file" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; then ok
  else bad "$what: $(cat "$dir/err") (no PNG at $file)"; fi
}

for cmd in filter show saliency gradcam dream; do # (captured first: grep -q would close the pipe early)
  help=$("$fovea" "$cmd" --help)
  if grep -q "^usage: fovea $cmd" <<<"$help" && grep -q "example:" <<<"$help"; then ok; else bad "$cmd --help"; fi
done

printf '2 6 15 31 56 92 138 186 227 251 251 227 186 138 92 56 31 15 6 2\n' >"$dir/f.txt"
got=$("$fovea" filter "$dir/f.txt" --kernel 1,0,-1 --mode same)
[ "$got" = "6 13 25 41 61 82 94 89 65 24 -24 -65 -89 -94 -82 -61 -41 -25 -13 -6" ] && ok || bad "the worked 1-D example: $got"
printf '2\n6\n15\n31\n56\n92\n138\n186\n227\n251\n251\n227\n186\n138\n92\n56\n31\n15\n6\n2\n' >"$dir/col.txt" # np.savetxt's 1-D
got_col=$("$fovea" filter "$dir/col.txt" --kernel 1,0,-1 --mode same)
[ "$got_col" = "$got" ] && ok || bad "a signal one number a line is read as 1-D: $got_col"
expect_png "filter sobel" "$dir/sobel.png" "$fovea" filter "$photo" --kernel sobel -o "$dir/sobel.png"
expect_png "filter gaussian gray" "$dir/g.png" "$fovea" filter "$photo" --kernel gaussian --sigma 2 --gray -o "$dir/g.png"
expect_png "show conv2d_1" "$dir/maps/dog-conv2d_1.png" "$fovea" show "$model" "$photo" --layer conv2d_1 -o "$dir/maps"
expect_png "show --compare" "$dir/maps/compare-dense_1.png" "$fovea" show "$model" "$photo" "$photo" --layer dense_1 --compare -o "$dir/maps"
expect_png "show --filters" "$dir/maps/filters-conv2d_1.png" "$fovea" show "$model" --filters conv2d_1 -o "$dir/maps"
expect_png "saliency guided" "$dir/maps/dog-guided-overlay.png" "$fovea" saliency "$model" "$photo" --method guided -o "$dir/maps"
expect_png "gradcam++" "$dir/maps/dog-gradcam++-overlay.png" "$fovea" gradcam "$model" "$photo" --method gradcam++ --colormap jet -o "$dir/maps"
expect_png "dream class" "$dir/dream.png" "$fovea" dream "$model" --class 3 --steps 5 -o "$dir/dream.png"
expect_png "dream class in a prior" "$dir/prior.png" "$fovea" dream "$model" --class 3 --steps 5 --prior fashion-mnist --prior-samples 500 --components 16 -o "$dir/prior.png"
expect_png "deep dream" "$dir/deep.png" "$fovea" dream "$model" "$photo" --layer conv2d_2 --steps 2 --size 40 -o "$dir/deep.png"
"$fovea" saliency "$model" "$photo" "$photo" -o - --raw "$dir/s.npy" >/dev/null && [ "$(head -c 6 "$dir/s.npy" | tail -c 5)" = NUMPY ] && ok || bad "saliency --raw"

expect_error "unknown layer" "no layer 'conv9'" "$fovea" show "$model" "$photo" --layer conv9
expect_error "unknown Grad-CAM layer" "no layer 'nope'" "$fovea" gradcam "$model" "$photo" --layer nope
expect_error "class out of range" "class 10 is out of range" "$fovea" saliency "$model" "$photo" --class 10
expect_error "dream class out of range" "class 12 is out of range" "$fovea" dream "$model" --class 12 -o "$dir/x.png"
mkdir -p "$dir/cifar" && head -c $((3 * 3073)) /dev/zero >"$dir/cifar/data_batch_1.bin" # three black CIFAR-10 records
expect_error "a prior of data of another size" "--prior $dir/cifar: its images are 32 x 32 x 3; 'mnist-cnn' takes 28 x 28 x 1" "$fovea" dream "$model" --class 1 --prior "$dir/cifar" -o "$dir/x.png"
expect_error "a prior for DeepDream" "--prior is for --class" "$fovea" dream "$model" "$photo" --layer conv2d_2 --prior fashion-mnist -o "$dir/x.png"
expect_error "more components than values" "1 to 784 components" "$fovea" dream "$model" --class 1 --prior fashion-mnist --components 785 -o "$dir/x.png"
expect_error "dense layer to Grad-CAM" "layer 'dense_1' is a dense" "$fovea" gradcam "$model" "$photo" --layer dense_1
expect_error "filters of a pooling layer" "filters are drawn for conv2d" "$fovea" show "$model" --filters maxpool2d_1
echo "not an image" >"$dir/broken.png"
expect_error "image that does not decode" "broken.png: cannot decode" "$fovea" saliency "$model" "$dir/broken.png"
expect_error "missing image" "missing.png: cannot decode" "$fovea" gradcam "$model" "$dir/missing.png"
printf '1 2 3\n4 5\n' >"$dir/ragged.txt"
printf '1 x 3\n0 0 0\n' >"$dir/word.txt"
expect_error "kernel file with ragged rows" "ragged.txt: row 2 has 2 numbers, row 1 has 3" "$fovea" filter "$photo" --kernel "$dir/ragged.txt" -o "$dir/x.png"
expect_error "kernel file with a word" "word.txt: 'x' is not a number" "$fovea" filter "$photo" --kernel "$dir/word.txt" -o "$dir/x.png"
expect_error "unknown kernel" "unknown kernel 'blur'" "$fovea" filter "$photo" --kernel blur -o "$dir/x.png"
expect_error "valid mode, neither larger" "valid mode needs" "$fovea" filter "$dir/f.txt" --kernel "1,2;3,4" --mode valid -o "$dir/x.png"
expect_error "unwritable output" "cannot write" "$fovea" filter "$photo" --kernel sobel-x -o /nonexistent-dir/x.png
expect_error "model that is missing" "missing.fv" "$fovea" show "$dir/missing.fv" "$photo" --all
# small inputs drawn large by default; a flat map said so; a softmax barcode labelled
/usr/bin/python3 -c "
from PIL import Image
Image.new('L', (28, 28), 0).save('$dir/black.png')
Image.radial_gradient('L').resize((28, 28)).save('$dir/blob.png')"
model28=$src/models/lenet5.fv
"$fovea" saliency "$model28" "$dir/blob.png" -o "$dir/small" >/dev/null 2>&1
size=$(/usr/bin/python3 -c "from PIL import Image; print(Image.open('$dir/small/blob-vanilla.png').size)" 2>/dev/null)
[ "$size" = "(252, 252)" ] && ok || bad "a 28 x 28 input's saliency is drawn 252 x 252 by default, not $size"
"$fovea" gradcam "$model28" "$dir/black.png" -o "$dir/small" >"$dir/out" 2>&1
grep -q "everywhere: the layer's maps are alike at every position" "$dir/out" && ok || bad "a flat Grad-CAM is explained: $(head -1 "$dir/out")"
"$fovea" show "$model28" "$dir/blob.png" --layer dense_3 -o "$dir/small" >"$dir/out" 2>&1
grep -q "output after its softmax: probabilities" "$dir/out" && ok || bad "a softmax barcode says it shows probabilities: $(cat "$dir/out")"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
