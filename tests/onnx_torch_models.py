#!/usr/bin/python3
"""Exports PyTorch models to ONNX and writes PyTorch's outputs on fixed inputs, for fovea's ONNX import tests.

Run with Debian's interpreter (python3-torch, python3-torchvision, python3-onnx, python3-numpy):
    /usr/bin/python3 tests/onnx_torch_models.py [--train-export] OUTDIR NAME [NAME...]

NAMEs: small (a Fashion-MNIST CNN defined below, input 1x28x28), slices (Split, Slice and Gather of
data, input 1x28x28), attention (two nn.MultiheadAttention, input 1x28x28), and torchvision's models by name
(torchvision.models.NAME(weights=None), input 3x224x224, inception_v3 3x299x299; SIZE=S in the
environment sets another side where the architecture allows): the 23 classification models of ZOO
and the 3 segmentation models of SEGMENTATION (their "out" tensor).
--fixed-batch exports with a fixed batch of 2 (NAME_fixed.onnx) instead of a dynamic batch axis.

For each NAME it writes, in OUTDIR:
    NAME.onnx   the eval-mode model, opset 13, input "input", output "output", dynamic batch axis
    NAME.x.npy  3 inputs, float32, NCHW
    NAME.y.npy  the model's eval-mode outputs on them, float32 (3 x classes)
and prints one line: name, .onnx size in bytes, op-type counts of the exported graph.

Weights are torchvision's / torch's default initialisation under torch.manual_seed(0); every
BatchNorm then gets seeded non-trivial running_mean (uniform -0.2..0.2), running_var (uniform
0.5..2.0), weight (uniform 0.5..1.5) and bias (uniform -0.2..0.2), so that a wrong fold of the
statistics shows in the outputs.

--train-export additionally writes small_bn.onnx (+ small_bn.x.npy, small_bn.y.npy, the same eval
outputs as small) exported with training=TrainingMode.PRESERVE, so that BatchNormalization stays a
node of its own (one output, inference form) instead of being folded into the Conv before it.
(In torch 1.13 the Conv+BN fusion is done by the eval peephole pass, which runs for
TrainingMode.EVAL whatever do_constant_folding says; PRESERVE on an eval-mode model skips it.
TrainingMode.TRAINING would instead emit 5-output training BatchNormalization and a Dropout node.)
"""
import collections
import os
import sys
import warnings

import numpy as np
import torch
import torch.nn as nn

torch.set_num_threads(1)

BATCH = 3


class SmallCNN(nn.Module):
    """The Fashion-MNIST CNN: two conv-bn-relu-pool blocks, then two dense layers."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(32)
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(32 * 7 * 7, 64)
        self.drop = nn.Dropout(0.25)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = self.pool(torch.relu(self.bn1(self.conv1(x))))
        x = self.pool(torch.relu(self.bn2(self.conv2(x))))
        x = x.view(x.size(0), -1)
        x = self.drop(torch.relu(self.fc1(x)))
        return self.fc2(x)


class Slices(nn.Module):
    """Split, chunk-like slices and indexing of data (Split, Slice, Gather): channels split and
    joined again, a row and a column taken out."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3, padding=1)
        self.fc = nn.Linear(4 * 28 + 2 * 28, 10)

    def forward(self, x):
        a, b = torch.split(self.conv(x), [4, 4], dim=1)
        z = torch.cat([torch.relu(a), torch.sigmoid(b)], 1)
        return self.fc(torch.cat([z[:, :4, 14].flatten(1), z[:, 4:6, :, 0].flatten(1)], 1))


class Attention(nn.Module):
    """Self-attention as PyTorch exports it: nn.MultiheadAttention moves the batch behind the tokens
    and merges it with the heads, (N * heads, L, d), and its output projection runs on (L * N, E);
    a second one takes (L, N, E) (batch_first=False), and a Linear on x.reshape(-1, E) merges the
    batch with the tokens."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 4, stride=4)
        self.first = nn.MultiheadAttention(8, 2, batch_first=True)
        self.second = nn.MultiheadAttention(8, 4)
        self.mix = nn.Linear(8, 8)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        t = self.conv(x).flatten(2).transpose(1, 2)  # (N, 49, 8)
        t = t + self.first(t, t, t, need_weights=False)[0]
        s = t.transpose(0, 1)  # (49, N, 8)
        t = t + self.second(s, s, s, need_weights=False)[0].transpose(0, 1)
        n, length, e = t.shape
        t = torch.relu(self.mix(t.reshape(-1, e))).reshape(n, length, e)
        return self.fc(t.mean(1))


TORCHVISION = ("resnet18", "resnet50", "vgg16", "mobilenet_v2")
# torchvision 0.14's classification zoo as docs/ONNX.md tabulates it, and three segmentation models
ZOO = ("alexnet", "vgg11_bn", "resnet18", "resnet50", "resnext50_32x4d", "wide_resnet50_2", "googlenet", "mobilenet_v2",
       "squeezenet1_0", "squeezenet1_1", "regnet_x_400mf", "densenet121", "inception_v3", "mobilenet_v3_small",
       "mobilenet_v3_large", "efficientnet_b0", "regnet_y_400mf", "mnasnet0_5", "shufflenet_v2_x0_5", "convnext_tiny",
       "vit_b_16", "swin_t", "maxvit_t")
SEGMENTATION = ("fcn_resnet50", "deeplabv3_mobilenet_v3_large", "lraspp_mobilenet_v3_large")
NAMES = ("small", "slices", "attention") + tuple(dict.fromkeys(TORCHVISION + ZOO + SEGMENTATION))
# the input side each takes: 224 unless the architecture fixes another (or allows a smaller one,
# which keeps the tests short: SIZE=224 in the environment uses 224 for all)
SIDE = {"inception_v3": 299, "alexnet": 224, "vit_b_16": 224, "swin_t": 224, "maxvit_t": 224}


class Segmentation(nn.Module):
    """torchvision's segmentation models return a dict; ONNX export wants the tensor."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x)["out"]


def build(name):
    torch.manual_seed(0)
    if name == "small":
        model = SmallCNN()
    elif name == "slices":
        model = Slices()
    elif name == "attention":
        model = Attention()
    elif name in SEGMENTATION:
        import torchvision
        model = Segmentation(getattr(torchvision.models.segmentation, name)(weights=None, weights_backbone=None))
    elif name in NAMES:
        import torchvision
        kwargs = {"aux_logits": False, "init_weights": True} if name in ("googlenet", "inception_v3") else {}
        model = getattr(torchvision.models, name)(weights=None, **kwargs)
    else:
        raise SystemExit("unknown model %r (known: %s)" % (name, ", ".join(NAMES)))
    gen = torch.Generator().manual_seed(1)

    def uniform(like, lo, hi):
        return lo + (hi - lo) * torch.rand(like.shape, generator=gen, dtype=like.dtype)

    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.running_mean.copy_(uniform(m.running_mean, -0.2, 0.2))
                m.running_var.copy_(uniform(m.running_var, 0.5, 2.0))
                m.weight.copy_(uniform(m.weight, 0.5, 1.5))
                m.bias.copy_(uniform(m.bias, -0.2, 0.2))
            elif isinstance(m, nn.Linear) and not m.weight.abs().max() > 0:  # ViT's head starts at zero: an all-zero output compares nothing
                m.weight.copy_(uniform(m.weight, -0.05, 0.05))
    model.eval()
    return model


def inputs(name, batch=BATCH):
    gen = torch.Generator().manual_seed(2)
    if name in ("small", "slices", "attention"):
        return torch.rand((batch, 1, 28, 28), generator=gen)
    side = int(os.environ.get("SIZE", "0")) or SIDE.get(name, 224)
    # roughly a normalised image: mean 0, spread about 1
    return torch.randn((batch, 3, side, side), generator=gen)


def op_counts(path):
    import onnx
    graph = onnx.load(path).graph
    return collections.Counter(n.op_type for n in graph.node)


def export(model, x, path, train_export=False, fixed_batch=False):
    kwargs = dict(opset_version=13, input_names=["input"], output_names=["output"])
    if not fixed_batch:
        kwargs.update(dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    if train_export:
        # PRESERVE keeps the module's mode (eval) but skips the Conv+BN fusion that EVAL does.
        # (torch warns about constant folding in PRESERVE mode; it only matters for a model in
        # training mode, and this one is in eval mode.)
        kwargs.update(training=torch.onnx.TrainingMode.PRESERVE)
        warnings.filterwarnings("ignore", message="It is recommended that constant folding")
    torch.onnx.export(model, x, path, **kwargs)


def run(outdir, name, train_export=False, fixed_batch=False):
    model = build(name)
    x = inputs(name, 2 if fixed_batch else BATCH)
    with torch.no_grad():
        y = model(x)
    out = name + ("_bn" if train_export else "") + ("_fixed" if fixed_batch else "")
    path = os.path.join(outdir, out + ".onnx")
    export(model, x, path, train_export, fixed_batch)
    np.save(os.path.join(outdir, out + ".x.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(outdir, out + ".y.npy"), y.numpy().astype(np.float32))
    counts = op_counts(path)
    print("%s %d %s" % (out, os.path.getsize(path),
                        " ".join("%s:%d" % kv for kv in sorted(counts.items()))), flush=True)


def main(argv):
    train_export = "--train-export" in argv
    fixed_batch = "--fixed-batch" in argv
    args = [a for a in argv if a not in ("--train-export", "--fixed-batch")]
    if len(args) < 2:
        raise SystemExit(__doc__)
    outdir, names = args[0], args[1:]
    for name in names:
        if name not in NAMES:
            raise SystemExit("unknown model %r (known: %s)" % (name, ", ".join(NAMES)))
    os.makedirs(outdir, exist_ok=True)
    for name in names:
        run(outdir, name, fixed_batch=fixed_batch)
    if train_export:
        run(outdir, "small", train_export=True)


if __name__ == "__main__":
    main(sys.argv[1:])
