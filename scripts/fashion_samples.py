#!/usr/bin/env python3
"""Writes the first N Fashion-MNIST test images as PNG files (for `fovea predict`).

usage: fashion_samples.py OUT_DIR [N]        files: OUT_DIR/test-INDEX-LABEL.png
"""
import gzip
import os
import struct
import sys
import zlib

DATA = "/usr/share/datasets/fashion-mnist"


def png(path, pixels, width, height):
    raw = b"".join(b"\0" + pixels[y * width:(y + 1) * width] for y in range(height))

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit gray
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    out, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) == 3 else 5
    images = gzip.open(os.path.join(DATA, "t10k-images-idx3-ubyte.gz")).read()[16:]
    labels = gzip.open(os.path.join(DATA, "t10k-labels-idx1-ubyte.gz")).read()[8:]
    os.makedirs(out, exist_ok=True)
    for i in range(n):
        png(os.path.join(out, f"test-{i}-{labels[i]}.png"), images[i * 784:(i + 1) * 784], 28, 28)
    print(f"wrote {n} images to {out}")


if __name__ == "__main__":
    main()
