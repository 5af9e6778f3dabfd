#!/usr/bin/python3
"""Writes the first N Fashion-MNIST training images and labels as an IDX folder, with the class names
in classes.txt (for quick tests), and the first N_TEST test images when asked.

usage: fashion_subset.py OUT_DIR N [N_TEST]
"""
import gzip
import os
import sys

SRC = "/usr/share/datasets/fashion-mnist"
out, n = sys.argv[1], int(sys.argv[2])
n_test = int(sys.argv[3]) if len(sys.argv) > 3 else 0
os.makedirs(out, exist_ok=True)
img = gzip.open(os.path.join(SRC, "train-images-idx3-ubyte.gz")).read()
lab = gzip.open(os.path.join(SRC, "train-labels-idx1-ubyte.gz")).read()
with open(os.path.join(out, "train-images-idx3-ubyte"), "wb") as f:
    f.write(img[:4] + n.to_bytes(4, "big") + img[8:16] + img[16:16 + n * 784])
with open(os.path.join(out, "train-labels-idx1-ubyte"), "wb") as f:
    f.write(lab[:4] + n.to_bytes(4, "big") + lab[8:8 + n])
if n_test:
    img = gzip.open(os.path.join(SRC, "t10k-images-idx3-ubyte.gz")).read()
    lab = gzip.open(os.path.join(SRC, "t10k-labels-idx1-ubyte.gz")).read()
    with open(os.path.join(out, "t10k-images-idx3-ubyte"), "wb") as f:
        f.write(img[:4] + n_test.to_bytes(4, "big") + img[8:16] + img[16:16 + n_test * 784])
    with open(os.path.join(out, "t10k-labels-idx1-ubyte"), "wb") as f:
        f.write(lab[:4] + n_test.to_bytes(4, "big") + lab[8:8 + n_test])
with open(os.path.join(out, "classes.txt"), "w") as f:  # fovea reads class names from here
    f.write("\n".join(["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]) + "\n")
