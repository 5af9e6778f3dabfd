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
def subset(split, count):
    """The first count images and labels of a split ("train", "t10k"), with their headers' counts."""
    img = gzip.open(os.path.join(SRC, f"{split}-images-idx3-ubyte.gz")).read()
    lab = gzip.open(os.path.join(SRC, f"{split}-labels-idx1-ubyte.gz")).read()
    with open(os.path.join(out, f"{split}-images-idx3-ubyte"), "wb") as f:
        f.write(img[:4] + count.to_bytes(4, "big") + img[8:16] + img[16:16 + count * 784])
    with open(os.path.join(out, f"{split}-labels-idx1-ubyte"), "wb") as f:
        f.write(lab[:4] + count.to_bytes(4, "big") + lab[8:8 + count])


subset("train", n)
if n_test:
    subset("t10k", n_test)
with open(os.path.join(out, "classes.txt"), "w") as f:  # fovea reads class names from here
    f.write("\n".join(["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]) + "\n")
