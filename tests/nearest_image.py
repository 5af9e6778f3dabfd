"""A judge of class pictures that is not the network: each picture's nearest Fashion-MNIST test
image (cosine similarity of the pixels). A picture a person can name as a trouser has a trouser as
its nearest neighbour, and a close one; the stripes a network also scores as trouser match no
photo well.

usage: nearest_image.py IMAGES.idx.gz LABELS.idx.gz CLASS:PICTURE.npy...
prints one line per picture, "CLASS NEAREST_CLASS SIMILARITY", then
"matched M of N, mean similarity S"."""
import gzip
import sys

import numpy as np


def idx(path, offset):
    with gzip.open(path) as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def main():
    images = idx(sys.argv[1], 16).reshape(-1, 784).astype(np.float64) / 255.0
    labels = idx(sys.argv[2], 8)
    images /= np.linalg.norm(images, axis=1, keepdims=True)
    matched, total = 0, []
    for arg in sys.argv[3:]:
        k, path = arg.split(":", 1)
        x = np.load(path).reshape(-1).astype(np.float64)
        similarity = images @ (x / max(np.linalg.norm(x), 1e-12))
        nearest = int(similarity.argmax())
        matched += int(labels[nearest]) == int(k)
        total.append(similarity[nearest])
        print(k, int(labels[nearest]), "%.3f" % similarity[nearest])
    print("matched %d of %d, mean similarity %.3f" % (matched, len(total), np.mean(total)))


if __name__ == "__main__":
    main()
