#!/usr/bin/python3
"""Writes the first N Fashion-MNIST training images and labels as an IDX folder, with the class names
in classes.txt (for quick tests).

usage: fashion_subset.py OUT_DIR N
"""
import gzip
import os
import sys

SRC = "/usr/share/datasets/fashion-mnist"
out, n = sys.argv[1], int(sys.argv[2])
os.makedirs(out, exist_ok=True)
img = gzip.open(os.path.join(SRC, "train-images-idx3-ubyte.gz")).read()
lab = gzip.open(os.path.join(SRC, "train-labels-idx1-ubyte.gz")).read()
with open(os.path.join(out, "train-images-idx3-ubyte"), "wb") as f:
    f.write(img[:4] + n.to_bytes(4, "big") + img[8:16] + img[16:16 + n * 784])
with open(os.path.join(out, "train-labels-idx1-ubyte"), "wb") as f:
    f.write(lab[:4] + n.to_bytes(4, "big") + lab[8:8 + n])
with open(os.path.join(out, "classes.txt"), "w") as f:  # fovea reads class names from here
    f.write("\n".join(["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]) + "\n")
