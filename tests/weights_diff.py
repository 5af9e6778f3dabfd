#!/usr/bin/python3
"""The largest difference between two models' weights, relative to the largest weight of the first,
from `fovea weights MODEL --exact` listings; exits 1 when it is above TOLERANCE.

usage: weights_diff.py A.txt B.txt TOLERANCE
"""
import sys


def values(path):
    out = []
    for line in open(path):
        if "(" in line:  # a parameter's heading: "conv2d_1/kernel (5, 5, 1, 6)"
            continue
        out += [float(t) for t in line.split()]
    return out


a, b, tolerance = values(sys.argv[1]), values(sys.argv[2]), float(sys.argv[3])
if not a or len(a) != len(b):
    sys.exit(f"{sys.argv[1]}: {len(a)} weights, {sys.argv[2]}: {len(b)}")
largest = max(abs(x) for x in a)
diff = max(abs(x - y) for x, y in zip(a, b)) / largest
print(f"{len(a)} weights, largest difference {diff:.2g} of the largest weight (tolerance {tolerance:g})")
sys.exit(0 if diff <= tolerance else 1)
