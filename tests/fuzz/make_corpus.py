#!/usr/bin/python3
"""Writes the fuzz harnesses' seed corpora (tests/fuzz/corpus/HARNESS/): small valid files of each
kind. Run once; the files are committed.   usage: make_corpus.py path/to/fovea
(make_corpus.py --onnx-structures writes only the hand-built ONNX structures and the regression;
make_corpus.py --nested-onnx DEPTH FILE one nested model.)
The model-file seed is a tiny network trained one epoch by fovea itself. Needs numpy, h5py and PIL
(Debian python3-numpy, python3-h5py, python3-pil)."""
import gzip
import io
import os
import shutil
import struct
import subprocess
import sys
import tempfile


HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def out(harness, name, data):
    d = os.path.join(HERE, "corpus", harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def pb_varint(v):
    b = bytearray()
    while True:
        b.append((v & 0x7f) | (0x80 if v > 0x7f else 0))
        v >>= 7
        if not v:
            return bytes(b)


def pb_field(number, payload):
    """A length-delimited protobuf field (a string, bytes or a nested message)."""
    if isinstance(payload, str):
        payload = payload.encode()
    return pb_varint(number << 3 | 2) + pb_varint(len(payload)) + payload


def pb_int(number, v):
    return pb_varint(number << 3) + pb_varint(v)


def nested_onnx(depth):
    """A model whose graph holds an If whose then_branch holds an If ... `depth` graphs deep
    (ModelProto 7 graph; GraphProto 1 node; NodeProto 4 op_type, 5 attribute; AttributeProto 1 name,
    20 type (5 = GRAPH), 6 g). protobuf-c unpacks it by recursion: 3,000 deep overflowed the stack."""
    graph = pb_field(2, "innermost")
    for _ in range(depth):
        attribute = pb_field(1, "then_branch") + pb_int(20, 5) + pb_field(6, graph)
        graph = pb_field(1, pb_field(4, "If") + pb_field(5, attribute))
    return pb_int(1, 7) + pb_field(8, pb_int(2, 13)) + pb_field(7, graph)


def onnx_structures(regressions=True):
    """Nested and oversized structures, written by hand (no ONNX library serialises them): graphs
    nested 30 and 120 deep (under and over the importer's limit of 100 messages), a tensor whose
    raw_data claims 4 GB, and a graph of 2,000 nodes."""
    out("onnx", "nested_30.onnx", nested_onnx(30))
    out("onnx", "nested_120.onnx", nested_onnx(120))
    tensor = pb_field(8, "w") + pb_int(2, 1) + pb_int(1, 4) + pb_varint(9 << 3 | 2) + pb_varint(1 << 32) + b"\0" * 16
    out("onnx", "claims_4gb.onnx", pb_int(1, 7) + pb_field(8, pb_int(2, 13)) + pb_field(7, pb_field(5, tensor)))
    nodes = b"".join(pb_field(1, pb_field(1, "x") + pb_field(2, "x") + pb_field(4, "Relu")) for _ in range(2000))
    out("onnx", "many_nodes.onnx", pb_int(1, 7) + pb_field(8, pb_int(2, 13)) + pb_field(7, nodes))
    if regressions:
        d = os.path.join(HERE, "regressions", "onnx")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "nested_3000_stack_overflow.onnx"), "wb") as f:
            f.write(nested_onnx(3000))


if len(sys.argv) > 3 and sys.argv[1] == "--nested-onnx":  # one nested file, for tests/bad_input.sh
    with open(sys.argv[3], "wb") as f:
        f.write(nested_onnx(int(sys.argv[2])))
    sys.exit(0)
if len(sys.argv) > 1 and sys.argv[1] == "--onnx-structures":
    onnx_structures()
    sys.exit(0)

import h5py  # noqa: E402 (not needed for --onnx-structures)
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402


def npy(a):
    b = io.BytesIO()
    np.save(b, a)
    return b.getvalue()


rng = np.random.default_rng(1)
# model text: the shipped definitions (not VGG16: large enough to slow every run) and a residual DAG
for name in ("lenet5.fv", "mlp-2d.fv", "mnist-cnn.fv", "smile-cnn.fv"):
    shutil.copy(os.path.join(ROOT, "models", name), os.path.join(HERE, "corpus", "model_text", name))
out("model_text", "residual.fv", b"""model res
input name=in shape=8,8,3
conv2d name=a filters=4 kernel=3 padding=same groups=1 dilation=1 activation=relu
batchnorm name=bn momentum=0.9
conv2d name=b filters=4 kernel=3 padding=1,1 activation=leaky_relu alpha=0.2
add name=s inputs=a,b
concat name=c inputs=s,a
maxpool2d size=2 stride=1 padding=same input=c
global_avgpool
dropout rate=0.5
dense units=3 activation=softmax
""")
# IDX: the first byte picks images (even) or labels (odd); plain and gzip
images = struct.pack(">IIII", 0x803, 3, 4, 4) + rng.integers(0, 256, 48, dtype=np.uint8).tobytes()
labels = struct.pack(">II", 0x801, 3) + bytes([0, 1, 2])
out("idx", "images", b"\x00" + images)
out("idx", "labels", b"\x01" + labels)
out("idx", "images.gz", b"\x00" + gzip.compress(images, mtime=0))
out("idx", "labels.gz", b"\x01" + gzip.compress(labels, mtime=0))
# CIFAR-10: two records of label + 3072 bytes
out("cifar", "batch.bin", b"".join(bytes([k]) + rng.integers(0, 256, 3072, dtype=np.uint8).tobytes() for k in (3, 7)))
# .npy: uint8 images, int64 labels, float32 images
out("npy", "x-u8", b"\x00" + npy(rng.integers(0, 256, (3, 4, 4), dtype=np.uint8)))
out("npy", "x-f32", b"\x00" + npy(rng.random((3, 2, 2, 3), dtype=np.float32)))
out("npy", "y-i64", b"\x01" + npy(np.array([0, 1], dtype=np.int64)))
out("npy", "y-f32", b"\x01" + npy(np.array([[1.0], [0.0]], dtype=np.float32)))
# HDF5 in the Happy House schema
b = io.BytesIO()
with h5py.File(b, "w") as f:
    f["train_set_x"] = rng.integers(0, 256, (2, 4, 4, 3), dtype=np.uint8)
    f["train_set_y"] = np.array([0, 1], dtype=np.int64)
    f["list_classes"] = np.array([0, 1], dtype=np.int64)
out("hdf5", "happy.h5", b.getvalue())
# images: PNG gray and RGB, JPEG, BMP, GIF
pixels = rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)
for fmt, mode, name in (("PNG", "RGB", "rgb.png"), ("PNG", "L", "gray.png"), ("JPEG", "RGB", "rgb.jpg"), ("BMP", "RGB", "rgb.bmp"),
                        ("GIF", "P", "palette.gif")):
    im = Image.fromarray(pixels).convert(mode)
    b = io.BytesIO()
    im.save(b, fmt)
    out("image", name, b.getvalue())
# a model file with optimizer and training state: a tiny network, one epoch on 8 IDX samples
with tempfile.TemporaryDirectory() as tmp:
    n = 8
    with open(os.path.join(tmp, "train-images-idx3-ubyte"), "wb") as f:
        f.write(struct.pack(">IIII", 0x803, n, 4, 4) + rng.integers(0, 256, n * 16, dtype=np.uint8).tobytes())
    with open(os.path.join(tmp, "train-labels-idx1-ubyte"), "wb") as f:
        f.write(struct.pack(">II", 0x801, n) + bytes(i % 2 for i in range(n)))
    with open(os.path.join(tmp, "tiny.fv"), "w") as f:
        f.write("model tiny\ninput shape=4,4,1\nconv2d filters=2 kernel=3 activation=relu\nbatchnorm\nflatten\n"
                "dense units=2 activation=softmax\n")
    os.makedirs(os.path.join(HERE, "corpus", "model_file"), exist_ok=True)
    subprocess.run([sys.argv[1], "train", os.path.join(tmp, "tiny.fv"), "--data", tmp, "--epochs", "1", "--batch", "4", "--no-test",
                    "--out", os.path.join(HERE, "corpus", "model_file", "tiny.fvm")], check=True, stdout=subprocess.DEVNULL)
def onnx_seeds():
    """ONNX: tiny networks exported by torch.onnx.export (BatchNorm kept as a node, a residual add,
    a concat, ReLU6, a view(N, -1) shape chain), and a few of ONNX's own conformance models."""
    import torch
    import torch.nn as nn

    class Tiny(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3, padding=1)
            self.bn = nn.BatchNorm2d(2)
            self.side = nn.Conv2d(2, 2, 1)
            self.pool = nn.MaxPool2d(2)
            self.fc = nn.Linear(4 * 3 * 3, 3)

        def forward(self, x):
            a = torch.relu(self.bn(self.conv(x)))
            b = torch.clamp(self.side(a), 0, 6) + a
            y = self.pool(torch.cat([a, b], 1))
            return torch.softmax(self.fc(y.view(y.size(0), -1)), 1)

    torch.manual_seed(0)
    model = Tiny().eval()
    buf = io.BytesIO()
    torch.onnx.export(model, torch.rand(1, 1, 6, 6), buf, opset_version=13, training=torch.onnx.TrainingMode.PRESERVE,
                      input_names=["input"], output_names=["output"], dynamic_axes={"input": {0: "batch"}})
    out("onnx", "tiny_torch.onnx", buf.getvalue())

    class Attention(nn.Module):  # the batch moved behind the tokens and merged with the heads
        def __init__(self):
            super().__init__()
            self.attn = nn.MultiheadAttention(4, 2, batch_first=True)

        def forward(self, x):
            t = x.flatten(2).transpose(1, 2)
            return self.attn(t, t, t, need_weights=False)[0].mean(1)

    for fixed in (False, True):
        buf = io.BytesIO()
        torch.onnx.export(Attention().eval(), torch.rand(2, 4, 3, 3), buf, opset_version=13, input_names=["input"], output_names=["output"],
                          dynamic_axes=None if fixed else {"input": {0: "batch"}})
        out("onnx", "attention_fixed.onnx" if fixed else "attention.onnx", buf.getvalue())
    node = "/usr/share/libonnx-testdata/data/node"
    for t in ["test_conv_with_strides_padding", "test_maxpool_2d_pads", "test_gemm_default_single_elem_vector_bias",
              "test_softmax_axis_1", "test_batchnorm_example", "test_averagepool_2d_same_upper",
              # the tensor operators: pad, resize, slice, reductions, transposed convolution, ...
              "test_reflect_pad", "test_resize_upsample_sizes_nearest", "test_slice", "test_reduce_mean_keepdims_example",
              "test_convtranspose", "test_transpose_all_permutations_1", "test_erf", "test_mul_bcast"]:
        with open(f"{node}/{t}/model.onnx", "rb") as f:
            out("onnx", t + ".onnx", f.read())


onnx_seeds()
onnx_structures()
print("wrote", os.path.join(HERE, "corpus"))

