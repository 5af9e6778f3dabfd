#!/usr/bin/python3
"""The first N Fashion-MNIST test images as float32 in [0, 1], in both layouts the tests feed:
DIR/test.nhwc.npy (fovea's, N x 28 x 28 x 1) and DIR/test.nchw.npy (ONNX's, N x 1 x 28 x 28).
usage: fashion_npy.py DIR N"""
import gzip
import sys

import numpy as np

out, n = sys.argv[1], int(sys.argv[2])
with gzip.open("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz") as f:
    x = np.frombuffer(f.read()[16:], np.uint8)[: n * 784].reshape(n, 28, 28, 1).astype(np.float32) / 255
np.save(f"{out}/test.nhwc.npy", x)
np.save(f"{out}/test.nchw.npy", np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
