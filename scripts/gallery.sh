#!/usr/bin/env bash
# Makes the README's gallery (docs/gallery/*.png) with the looking-inside commands, from the main
# job's model (run scripts/main.sh first). Photos: skimage's camera.png (classic filters, resized
# to 256 px) and darknet's dog.jpg (DeepDream). Every picture here was looked at before committing.
set -euo pipefail
cd "$(dirname "$0")/.."
fovea=build/fovea model=build/mnist-cnn-fashion.fvm out=docs/gallery
[ -f "$model" ] || { echo "no $model: run scripts/main.sh first"; exit 1; }
mkdir -p "$out" # (other pictures there come from gallery_onnx.sh, ocr_models.sh and tests/explorer.sh)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# classic filters on a photo
/usr/bin/python3 -c "
import skimage.data, skimage.io, skimage.transform, numpy as np
img = skimage.transform.resize(skimage.data.camera(), (256, 256), anti_aliasing=True)
skimage.io.imsave('$tmp/camera.png', (img * 255).round().astype(np.uint8), check_contrast=False)"
cp "$tmp/camera.png" "$out/camera.png"
$fovea filter "$tmp/camera.png" --kernel sobel-x -o "$out/camera-sobel-x.png"
$fovea filter "$tmp/camera.png" --kernel sobel-y -o "$out/camera-sobel-y.png"
$fovea filter "$tmp/camera.png" --kernel gaussian --sigma 3 -o "$out/camera-gaussian.png"

# test images: the first 10 of Fashion-MNIST's test split (test-INDEX-LABEL.png)
/usr/bin/python3 scripts/fashion_samples.py "$tmp/fashion" 40 >/dev/null
$fovea show "$model" "$tmp/fashion/test-0-9.png" --layer conv2d_1 -o "$tmp/maps"
$fovea show "$model" "$tmp/fashion/test-0-9.png" --layer conv2d_2 -o "$tmp/maps"
cp "$tmp/maps/test-0-9-conv2d_1.png" "$out/boot-conv2d_1.png"
cp "$tmp/maps/test-0-9-conv2d_2.png" "$out/boot-conv2d_2.png"
$fovea show "$model" --filters conv2d_1 -o "$out"
# barcodes of dense_1 for three classes, three test images each: trousers, sneakers, bags
$fovea show "$model" --layer dense_1 --compare -o "$tmp/bars" \
  "$tmp"/fashion/test-{2,3,5}-1.png "$tmp"/fashion/test-{9,12,36}-7.png "$tmp"/fashion/test-{18,30,31}-8.png
cp "$tmp/bars/compare-dense_1.png" "$out/barcodes-trouser-sneaker-bag.png"

# saliency and Grad-CAM over four test images (ankle boot, pullover, trouser, shirt)
samples=("$tmp/fashion/test-0-9.png" "$tmp/fashion/test-1-2.png" "$tmp/fashion/test-2-1.png" "$tmp/fashion/test-4-6.png")
for m in vanilla smoothgrad guided; do $fovea saliency "$model" "${samples[@]}" --method "$m" --scale 4 -o "$tmp/maps" >/dev/null; done
$fovea gradcam "$model" "${samples[@]}" --scale 4 -o "$tmp/maps" >/dev/null
$fovea gradcam "$model" "${samples[@]}" --method gradcam++ --scale 4 -o "$tmp/maps" >/dev/null
for s in "${samples[@]}"; do
  stem=$(basename "$s" .png)
  cp "$s" "$out/$stem.png"
  for m in vanilla smoothgrad guided gradcam gradcam++; do cp "$tmp/maps/$stem-$m-overlay.png" "$out/$stem-$m.png"; done
done

# activation maximisation: one image per class, with the defaults and drawn in a prior of the data
for k in 0 1 2 3 4 5 6 7 8 9; do
  $fovea dream "$model" --class "$k" --scale 4 -o "$out/dream-class-$k.png" | sed -n 1p
  $fovea dream "$model" --class "$k" --prior fashion-mnist --scale 4 -o "$out/dream-prior-class-$k.png" | sed -n 2p
done
# DeepDream of a photo on the second convolution (the network is gray, so is the dream)
$fovea dream "$model" /usr/share/darknet/data/dog.jpg --layer conv2d_2 --size 320 -o "$out/dog-deepdream.png"
/usr/bin/python3 -c "
import skimage.io, skimage.transform, numpy as np, skimage.color
img = skimage.io.imread('/usr/share/darknet/data/dog.jpg')
img = skimage.transform.resize(skimage.color.rgb2gray(img), (240, 320), anti_aliasing=True)
skimage.io.imsave('$out/dog.png', (img * 255).round().astype(np.uint8), check_contrast=False)"
du -sh "$out"
