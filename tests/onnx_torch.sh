#!/usr/bin/env bash
# onnx_torch.sh — networks defined in PyTorch, exported with torch.onnx.export and imported by
# fovea, give PyTorch's outputs: a small CNN (BatchNorm folded, and kept as its own node), two
# nn.MultiheadAttention (the batch moved behind the tokens and merged with the heads; dynamic and
# fixed batch),
# torchvision's resnet18 and mobilenet_v2 (seeded weights, non-trivial BatchNorm statistics), on 3
# inputs each, on both backends, within 1e-4 of the largest output (relative). Then the photo
# pipeline on the imported resnet18: predict --imagenet --top 5 with names, torchvision's
# preprocessing checked on a channel-means network, Grad-CAM at the last block, saliency, maps.
# usage: tests/onnx_torch.sh FOVEA SOURCE_DIR
set -euo pipefail
fovea=$1 src=$2
backends=$(for b in onednn reference; do "$fovea" --version | grep -q "backends:.*$b" && echo $b; done) # those built in, oneDNN first
. "$src/tests/lib.sh"
py=/usr/bin/python3
# ONNX_TORCH_MODELS="resnet50 vgg16" runs the comparison on the large networks instead (not in CI)
models=${ONNX_TORCH_MODELS:-small small_bn slices attention attention_fixed resnet18 mobilenet_v2}
$py "$src/tests/onnx_torch_models.py" --train-export "$dir" $(echo "$models" | sed 's/small_bn//; s/attention_fixed//') > "$dir/export.log"
# attention with the batch fixed in the file: the reshapes' sizes hold 2, not the batch's mark
case " $models " in *" attention_fixed "*) $py "$src/tests/onnx_torch_models.py" --fixed-batch "$dir" attention >> "$dir/export.log" ;; esac
compare() { # fovea's and PyTorch's outputs: prints the relative error, fails above 1e-4
  $py - "$1" "$2" <<'PY'
import sys, numpy as np
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
err = float(abs(a - b).max() / abs(b).max()) if a.shape == b.shape else float("inf")
print(f"{sys.argv[2].split('/')[-1]}: shape {a.shape}, largest error {err:.2e} of the largest output")
sys.exit(0 if err <= 1e-4 else 1)
PY
}
for backend in $backends; do
  for m in $models; do
    check "$m ($backend) runs" "'$fovea' forward '$dir/$m.onnx' --backend $backend --input '$dir/$m.x.npy' --output '$dir/$m.$backend.npy'"
    check "$m ($backend) equals PyTorch" "compare '$dir/$m.$backend.npy' '$dir/$m.y.npy'"
  done
done
[ -f "$dir/resnet18.onnx" ] || { finish; exit; }
# torchvision's Resize(256) + CenterCrop(224) + Normalize, against fovea's --imagenet: a network
# whose 3 outputs are 10 x the channel means sees the same picture within 0.02, and the input
# itself is torchvision's within 0.001 per pixel on average (both decode with libjpeg-turbo and
# resize with PIL's antialiased bilinear); and fovea's resize alone is PIL's to the level
photos=/usr/share/darknet/data
prep_ok=0
$py - "$dir" "$fovea" "$photos" <<'PY' > "$dir/prep.log" 2>&1 && prep_ok=1
import json, subprocess, sys
import numpy as np, torch, torch.nn as nn
from PIL import Image
from torchvision import transforms as T
out, fovea, photos = sys.argv[1:4]
class Means(nn.Module):
    def forward(self, x):
        return torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1) * 10
torch.onnx.export(Means(), torch.rand(1, 3, 224, 224), f"{out}/means.onnx", opset_version=13, input_names=["input"],
                  output_names=["output"], dynamic_axes={"input": {0: "batch"}})
tf = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
worst = worst_pixel = 0.0
for img in ["dog.jpg", "eagle.jpg", "horses.jpg", "giraffe.jpg"]:
    want = torch.softmax(Means()(tf(Image.open(f"{photos}/{img}").convert("RGB")).unsqueeze(0)), 1)[0].numpy()
    r = subprocess.run([fovea, "predict", f"{out}/means.onnx", "--imagenet", "--top", "3", "--json", f"{photos}/{img}"],
                       capture_output=True, text=True, check=True)
    got = np.zeros(3)
    for t in json.loads(r.stdout)["predictions"][0]["top"]:
        got[t["class"]] = t["probability"]
    worst = max(worst, float(abs(got - want).max()))
    print(img, "torchvision", want, "fovea", got)
    # pixel by pixel: the network's input as fovea made it, against torchvision's
    subprocess.run([fovea, "show", f"{out}/means.onnx", "--imagenet", f"{photos}/{img}", "--layer", "input", "--raw", f"{out}/input.npy",
                    "-o", f"{out}/shown"], capture_output=True, check=True)
    mine = np.load(f"{out}/input.npy")[0]
    theirs = tf(Image.open(f"{photos}/{img}").convert("RGB")).permute(1, 2, 0).numpy()
    pixel = float(np.abs(mine - theirs).mean() * 0.226)  # in [0, 1] pixel units (std ~0.226)
    print(img, f"mean pixel difference {pixel:.4f}")
    worst_pixel = max(worst_pixel, pixel)
# resizing alone, up and down, against PIL's Image.resize(BILINEAR) (fovea's resample.c is its
# algorithm): random RGB images as PNGs, resized to the network's 224 x 224 without a crop
rng = np.random.default_rng(3)
worst_resize = 0
for size in [(17, 6), (500, 300), (224, 224), (100, 400)]:
    img = Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))
    img.save(f"{out}/random.png")
    subprocess.run([fovea, "show", f"{out}/means.onnx", f"{out}/random.png", "--layer", "input", "--raw", f"{out}/input.npy",
                    "-o", f"{out}/shown"], capture_output=True, check=True)
    mine = np.rint(np.load(f"{out}/input.npy")[0] * 255).astype(int)
    theirs = np.asarray(img.resize((224, 224), Image.BILINEAR)).astype(int)
    worst_resize = max(worst_resize, int(np.abs(mine - theirs).max()))
    print(size, "-> 224 x 224: largest difference from PIL", int(np.abs(mine - theirs).max()), "levels")
print(f"largest difference {worst:.4f}; largest mean pixel difference {worst_pixel:.4f}; resize {worst_resize} levels")
# PIL's own algorithm: 0 levels apart after the resize, the photos within 0.001 (a crop a pixel
# off gives 0.028, stb's Mitchell filter 0.0014 to 0.0051)
sys.exit(0 if worst < 0.02 and worst_pixel < 0.001 and worst_resize == 0 else 1)
PY
check "--imagenet preprocessing is torchvision's (channel means within 0.02, pixels within 0.001, resizing as PIL)" "[ $prep_ok -eq 1 ]"
cat "$dir/prep.log"
labels=$src/models/imagenet_classes.txt
"$fovea" predict "$dir/resnet18.onnx" --imagenet --labels "$labels" --top 5 "$photos/dog.jpg" > "$dir/top5.txt"
cat "$dir/top5.txt"
check "predict --top 5 prints 5 ranked ImageNet names" "[ \$(grep -o '  [1-5]\\. ' '$dir/top5.txt' | wc -l) -eq 5 ]"
check "the names come from the labels file" "name=\$(sed 's/.*  1\\. \\(.*\\) [0-9.]*  2\\..*/\\1/' '$dir/top5.txt') && grep -qxF \"\$name\" '$labels'"
"$fovea" gradcam "$dir/resnet18.onnx" --imagenet --labels "$labels" "$photos/dog.jpg" -o "$dir/maps" > "$dir/gradcam.txt"
cat "$dir/gradcam.txt"
check "Grad-CAM defaults to the last residual block's output" "grep -q 'at layer4.1.add' '$dir/gradcam.txt'"
check "Grad-CAM overlay written" "[ -s '$dir/maps/dog-gradcam-overlay.png' ]"
check "saliency on resnet18" "'$fovea' saliency '$dir/resnet18.onnx' --imagenet '$photos/dog.jpg' -o '$dir/maps' > /dev/null && [ -s '$dir/maps/dog-vanilla-overlay.png' ]"
check "feature maps of any layer" "'$fovea' show '$dir/resnet18.onnx' --imagenet '$photos/dog.jpg' --layer layer2.0.add -o '$dir/maps' > /dev/null && ls '$dir/maps' | grep -q layer2.0.add"
finish
