#!/usr/bin/python3
"""Writes PyTorch's forward and backward results for the cases of every fovea layer kind (the .cases
files beside each kind's source, read by tests/test_ops.c), every loss and every optimizer step.

Run with Debian's interpreter (it sees python3-torch):  /usr/bin/python3 tests/torch_reference.py OUT.bin
The C tests (tests/test_ops.c for the layer kinds, tests/test_torch.c for losses and optimizers) build
the same network from the same model text, load the same weights and input, and compare the output,
the input gradient and every parameter gradient.

Each case is a fovea model definition (models/README.md) that this script interprets with torch ops,
in float64 so the reference carries no rounding of its own; fovea computes in float32. Tensors are
NHWC throughout (fovea's layout) and permuted to NCHW only around torch's conv/pool/batchnorm calls.

File format (little-endian): b"FVREF001", u32 case count, then per case: str name, str model text,
i32 batch, i32 training, u32 tensor count, and per tensor: str key, u32 rank, u32 dims[rank],
f32 data. A str is u32 length + bytes. Keys: input, output, d_output, d_input, param/LAYER/NAME,
grad/LAYER/NAME, after/LAYER/NAME (a parameter after the step: batch-norm moving statistics).
"""
import glob
import math
import os
import struct
import sys
import zlib

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def parse(text):
    layers = []
    for raw in text.splitlines():
        line = raw.split("#")[0].split()
        if not line or line[0] == "model":
            continue
        settings = dict(tok.split("=", 1) for tok in line[1:])
        layers.append((line[0], settings))
    return layers


def pair(value, default):
    if value is None:
        return default
    parts = [int(v) for v in value.replace("x", ",").split(",")]
    return (parts[0], parts[-1])


def window_pads(size, window, stride, padding):
    """(out, before, after) as fovea (TF/Keras 'same', or explicit pads)."""
    if padding == "same":
        out = (size + stride - 1) // stride
        total = max((out - 1) * stride + window - size, 0)
        return out, total // 2, total - total // 2
    before, after = padding
    return (size + before + after - window) // stride + 1, before, after


def explicit_pads(value):
    v = [int(x) for x in value.split(",")]
    if len(v) == 1:
        return (v[0], v[0]), (v[0], v[0])
    if len(v) == 2:
        return (v[0], v[0]), (v[1], v[1])
    return (v[0], v[1]), (v[2], v[3])


def spatial_pads(settings, h, w, kh, kw, sh, sw):
    padding = settings.get("padding", "valid")
    if padding == "valid":
        return (0, 0), (0, 0)
    if padding == "same":
        _, t, b = window_pads(h, kh, sh, "same")
        _, l, r = window_pads(w, kw, sw, "same")
        return (t, b), (l, r)
    return explicit_pads(padding)


def axes_of(value, n, default=None):
    """A spatial setting: one value for every axis, or one per axis."""
    if value is None:
        return default
    v = [int(p) for p in value.replace("x", ",").split(",")]
    return tuple(v * n) if len(v) == 1 else tuple(v)


def nd_pads(settings, sizes, windows, strides):
    """(before, after) per spatial axis, for n-D windows (windows already dilated)."""
    padding = settings.get("padding", "valid")
    n = len(sizes)
    if padding == "valid":
        return [(0, 0)] * n
    if padding == "same":
        return [window_pads(sizes[a], windows[a], strides[a], "same")[1:] for a in range(n)]
    v = [int(p) for p in padding.split(",")]
    if len(v) == 1:
        return [(v[0], v[0])] * n
    if len(v) == n:
        return [(p, p) for p in v]
    return [(v[2 * a], v[2 * a + 1]) for a in range(n)]


def torch_pads(pads):
    """F.pad's order: last axis first."""
    out = []
    for before, after in reversed(pads):
        out += [before, after]
    return out


def activate(x, name, alpha):
    if name in (None, "linear"):
        return x
    if name == "relu":
        return torch.relu(x)
    if name == "leaky_relu":
        return F.leaky_relu(x, alpha)
    if name == "sigmoid":
        return torch.sigmoid(x)
    if name == "tanh":
        return torch.tanh(x)
    if name == "softmax":
        return torch.softmax(x, dim=-1)
    if name == "relu6":
        return F.relu6(x)
    if name == "hard_sigmoid":  # PyTorch's has alpha 1/6; the general form with beta 0.5
        return torch.clamp(alpha * x + 0.5, 0.0, 1.0)
    if name == "log_softmax":
        return F.log_softmax(x, dim=-1)
    raise ValueError(name)


def nchw(x):
    return x.permute(0, 3, 1, 2)


def nhwc(x):
    return x.permute(0, 2, 3, 1)


class Case:
    def __init__(self, name, text, batch, training, input_shape, seed):
        self.name, self.text, self.batch, self.training = name, text, batch, training
        self.gen = torch.Generator().manual_seed(seed)
        self.layers = parse(text)
        self.params = {}  # "layer/name" -> tensor (float64 leaf, float32-representable)
        self.input_shape = input_shape

    def rand(self, *shape, scale=1.0, low=None):
        t = torch.rand(*shape, generator=self.gen, dtype=torch.float32)
        t = (t * (scale - low) + low) if low is not None else (t * 2 - 1) * scale
        return t.double()

    def param(self, layer, pname, shape, **kw):
        key = f"{layer}/{pname}"
        if key not in self.params:
            self.params[key] = self.rand(*shape, **kw).requires_grad_(self.trainable(pname))
        return self.params[key]

    @staticmethod
    def trainable(pname):
        return pname not in ("moving_mean", "moving_variance", "scale", "shift")

    def run(self, x):
        outputs = {}
        prev = None
        self.after = {}
        for kind, s in self.layers:
            name = s.get("name")
            ins = [outputs[n] for n in s.get("inputs", s.get("input", "")).split(",") if n] or [prev]
            if kind == "input":
                y = x
            else:
                y = self.layer(kind, name, s, ins)
            outputs[name] = y
            prev = y
        return prev

    def layer(self, kind, name, s, ins):
        x = ins[0]
        act, alpha = s.get("activation"), float(s.get("alpha", "0.01"))
        if kind == "conv3d" or (kind == "conv2d" and ("groups" in s or "dilation" in s)):
            nd = x.dim() - 2
            sizes, c = tuple(x.shape[1:-1]), x.shape[-1]
            filters, groups = int(s["filters"]), int(s.get("groups", "1"))
            k = axes_of(s["kernel"], nd)
            st = axes_of(s.get("stride"), nd, (1,) * nd)
            dl = axes_of(s.get("dilation"), nd, (1,) * nd)
            pads = nd_pads(s, sizes, [dl[a] * (k[a] - 1) + 1 for a in range(nd)], st)
            kern = self.param(name, "kernel", k + (c // groups, filters), scale=1.0 / math.sqrt(math.prod(k) * c / groups))
            weight = kern.permute(nd + 1, nd, *range(nd))  # (K..., I/G, O) -> (O, I/G, K...)
            xc = x.permute(0, nd + 1, *range(1, nd + 1))
            conv = F.conv3d if nd == 3 else F.conv2d
            y = conv(F.pad(xc, torch_pads(pads)), weight, stride=st, dilation=dl, groups=groups)
            if s.get("bias", "true") in ("true", "yes", "1"):
                y = y + self.param(name, "bias", (filters,)).reshape(1, -1, *([1] * nd))
            return activate(y.permute(0, *range(2, nd + 2), 1), act, alpha)
        if kind in ("maxpool3d", "avgpool3d"):
            sizes = tuple(x.shape[1:-1])
            size = axes_of(s.get("size"), 3, (2, 2, 2))
            st = axes_of(s.get("stride"), 3, size)
            pads = nd_pads(s, sizes, size, st)
            xc = x.permute(0, 4, 1, 2, 3)
            if kind == "maxpool3d":
                y = F.max_pool3d(F.pad(xc, torch_pads(pads), value=-math.inf), size, st)
            else:
                total = F.avg_pool3d(F.pad(xc, torch_pads(pads)), size, st, divisor_override=1)
                if s.get("padding", "valid") == "same":
                    ones = F.pad(torch.ones_like(xc), torch_pads(pads))
                    y = total / F.avg_pool3d(ones, size, st, divisor_override=1)
                else:
                    y = total / math.prod(size)
            return y.permute(0, 2, 3, 4, 1)
        if kind == "concat":
            axis = int(s.get("axis", "-1"))
            return torch.cat(ins, dim=axis + 1 if axis >= 0 else axis)
        if kind in ("conv2d", "conv1d"):
            one_d = kind == "conv1d"
            if one_d:
                x = x.unsqueeze(1)  # (N, L, C) -> (N, 1, L, C)
            n, h, w, c = x.shape
            filters = int(s["filters"])
            kh, kw = (1, int(s["kernel"])) if one_d else pair(s["kernel"], None)
            sh, sw = (1, int(s.get("stride", "1"))) if one_d else pair(s.get("stride"), (1, 1))
            kshape = (kw, c, filters) if one_d else (kh, kw, c, filters)
            k = self.param(name, "kernel", kshape, scale=1.0 / math.sqrt(kh * kw * c))
            (t, b), (l, r) = spatial_pads(s, h, w, kh, kw, sh, sw)
            if one_d:
                t = b = 0
            weight = k.reshape(kh, kw, c, filters).permute(3, 2, 0, 1)  # HWIO -> OIHW
            y = F.conv2d(F.pad(nchw(x), (l, r, t, b)), weight, stride=(sh, sw))
            if s.get("bias", "true") in ("true", "yes", "1"):
                y = y + self.param(name, "bias", (filters,)).reshape(1, -1, 1, 1)
            y = nhwc(y)
            if one_d:
                y = y.squeeze(1)
            return activate(y, act, alpha)
        if kind == "dense":
            units = int(s["units"])
            k = self.param(name, "kernel", (x.shape[-1], units), scale=1.0 / math.sqrt(x.shape[-1]))
            y = x @ k
            if s.get("bias", "true") in ("true", "yes", "1"):
                y = y + self.param(name, "bias", (units,))
            return activate(y, act, alpha)
        if kind in ("maxpool2d", "avgpool2d", "sumpool2d"):
            one_d = x.dim() == 3
            if one_d:
                x = x.unsqueeze(1)
            n, h, w, c = x.shape
            ph, pw = pair(s.get("size"), (2, 2))
            sh, sw = pair(s.get("stride"), (ph, pw))
            if one_d:
                ph, sh = 1, 1
            (t, b), (l, r) = spatial_pads(s, h, w, ph, pw, sh, sw)
            if one_d:
                t = b = 0
            xc = nchw(x)
            if kind == "maxpool2d":
                y = F.max_pool2d(F.pad(xc, (l, r, t, b), value=-math.inf), (ph, pw), (sh, sw))
            else:
                total = F.avg_pool2d(F.pad(xc, (l, r, t, b)), (ph, pw), (sh, sw), divisor_override=1)
                if kind == "sumpool2d":
                    y = total
                elif s.get("padding", "valid") == "same":  # Keras: padding left out of the count
                    ones = F.pad(torch.ones_like(xc), (l, r, t, b))
                    y = total / F.avg_pool2d(ones, (ph, pw), (sh, sw), divisor_override=1)
                else:  # valid or explicit: PyTorch's count_include_pad
                    y = total / (ph * pw)
            y = nhwc(y)
            return y.squeeze(1) if one_d else y
        if kind == "global_avgpool":
            return x.reshape(x.shape[0], -1, x.shape[-1]).mean(dim=1)
        if kind == "flatten":
            if s.get("channels_first") == "true":  # PyTorch's own x.view(N, -1) of the NCHW tensor
                return x.permute(0, x.dim() - 1, *range(1, x.dim() - 1)).reshape(x.shape[0], -1)
            return x.reshape(x.shape[0], -1)
        if kind == "reshape":  # fovea keeps the memory order: the NHWC tensor's
            return x.reshape(x.shape[0], *[int(v) for v in s["shape"].split(",")])
        if kind == "affine":
            scale = self.param(name, "scale", tuple(x.shape[1:]), scale=2.0)
            shift = self.param(name, "shift", tuple(x.shape[1:]), scale=1.0)
            self.after[f"{name}/scale"], self.after[f"{name}/shift"] = scale.detach(), shift.detach()  # constants: unchanged
            return x * scale + shift
        if kind == "prelu":  # PyTorch's PReLU over the channels (last here)
            a = self.param(name, "alpha", (x.shape[-1],), low=0.05, scale=0.5)
            return torch.where(x > 0, x, a * x)
        if kind == "dropout":
            assert not self.training, "dropout is compared in inference mode only"
            return x
        if kind == "batchnorm":
            c = x.shape[-1]
            momentum, eps = float(s.get("momentum", "0.99")), float(s.get("epsilon", "0.001"))
            gamma = self.param(name, "gamma", (c,), low=0.5, scale=1.5)
            beta = self.param(name, "beta", (c,), scale=0.5)
            mean = self.param(name, "moving_mean", (c,), scale=0.5)
            var = self.param(name, "moving_variance", (c,), low=0.5, scale=2.0)
            rm, rv = mean.detach().clone(), var.detach().clone()
            flat = x.reshape(-1, c)
            y = F.batch_norm(flat, rm, rv, gamma, beta, bool(self.training), 1.0 - momentum, eps)
            self.after[f"{name}/moving_mean"] = rm
            self.after[f"{name}/moving_variance"] = rv
            return y.reshape(x.shape)
        if kind == "add":
            y = ins[0]
            for other in ins[1:]:
                y = y + other
            return activate(y, s.get("activation"), alpha)
        if kind == "activation":
            return activate(x, s["function"], alpha)
        if kind in ("relu", "leaky_relu", "sigmoid", "tanh", "softmax", "linear", "relu6", "hard_sigmoid", "log_softmax"):
            return activate(x, kind, alpha)
        if kind == "binary" or kind in BINARY_WORDS:
            a, b = ins[0], ins[1]
            if a.dim() < b.dim():  # fovea right-aligns the axes after the batch
                a = a.reshape(a.shape[0], *([1] * (b.dim() - a.dim())), *a.shape[1:])
            if b.dim() < a.dim():
                b = b.reshape(b.shape[0], *([1] * (a.dim() - b.dim())), *b.shape[1:])
            op = s.get("op") or BINARY_WORDS[kind]
            return {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div, "max": torch.maximum,
                    "min": torch.minimum, "pow": torch.pow}[op](a, b)
        if kind == "unary" or kind in UNARY_WORDS:
            op = s.get("op") or kind
            return unary(op, x, s.get("alpha"), s.get("beta"))
        if kind == "reduce":
            axes = [int(v) + 1 for v in s["axes"].split(",")]
            keep = s.get("keepdims", "true") == "true"
            op = s.get("op", "mean")
            y = {"mean": lambda: torch.mean(x, dim=axes, keepdim=keep), "sum": lambda: torch.sum(x, dim=axes, keepdim=keep),
                 "max": lambda: torch.amax(x, dim=axes, keepdim=keep), "min": lambda: torch.amin(x, dim=axes, keepdim=keep),
                 "prod": lambda: prod(x, axes, keep),
                 "sum_square": lambda: torch.sum(x * x, dim=axes, keepdim=keep), "l1": lambda: torch.sum(x.abs(), dim=axes, keepdim=keep),
                 "l2": lambda: torch.sqrt(torch.sum(x * x, dim=axes, keepdim=keep)), "log_sum": lambda: torch.log(torch.sum(x, dim=axes, keepdim=keep)),
                 "log_sum_exp": lambda: torch.logsumexp(x, dim=axes, keepdim=keep)}[op]()
            return y.reshape(y.shape[0], 1) if y.dim() == 1 else y  # everything reduced: one value a sample
        if kind == "pad":
            v = [int(p) for p in s["pads"].split(",")]
            pads = [(v[2 * a], v[2 * a + 1]) for a in range(len(v) // 2)]
            pads += [(0, 0)] * (x.dim() - 1 - len(pads))
            mode = s.get("mode", "constant")
            if mode == "constant":
                return F.pad(x, torch_pads(pads), value=float(s.get("value", "0")))
            # reflect/replicate pad the spatial axes of NCHW: the channels (last here) stay unpadded
            y = F.pad(x.movedim(-1, 1), torch_pads(pads[:-1]), mode="reflect" if mode == "reflect" else "replicate")
            return y.movedim(1, -1)
        if kind == "transpose":
            perm = [int(v) + 1 for v in s["perm"].split(",")]
            return x.permute(0, *perm)
        if kind == "slice":
            begin, size, step = ([int(v) for v in s[k].split(",")] for k in ("begin", "size", "step"))
            index = [slice(None)] + [slice(b, b + (n - 1) * st + 1, st) for b, n, st in zip(begin, size, step)]
            return x[tuple(index)]
        if kind == "matmul":
            a, b = ins[0], ins[1]
            if a.dim() < b.dim():  # fovea right-aligns the axes after the batch
                a = a.reshape(a.shape[0], *([1] * (b.dim() - a.dim())), *a.shape[1:])
            if b.dim() < a.dim():
                b = b.reshape(b.shape[0], *([1] * (a.dim() - b.dim())), *b.shape[1:])
            return torch.matmul(a, b)
        if kind == "conv2d_transpose":
            c, filters, groups = x.shape[-1], int(s["filters"]), int(s.get("groups", "1"))
            k = axes_of(s["kernel"], 2)
            st = axes_of(s.get("stride"), 2, (1, 1))
            dl = axes_of(s.get("dilation"), 2, (1, 1))
            op = axes_of(s.get("output_padding"), 2, (0, 0))
            pads = [int(v) for v in s["padding"].split(",")] if s.get("padding", "valid") != "valid" else [0]
            pad = (pads[0], pads[0]) if len(pads) == 1 else tuple(pads[:2])
            kern = self.param(name, "kernel", k + (filters // groups, c), scale=1.0 / math.sqrt(math.prod(k) * c / groups))
            weight = kern.permute(3, 2, 0, 1)  # (KH, KW, F/G, Cin) -> (Cin, F/G, KH, KW)
            y = F.conv_transpose2d(nchw(x), weight, stride=st, padding=pad, output_padding=op, groups=groups, dilation=dl)
            if s.get("bias", "true") in ("true", "yes", "1"):
                y = y + self.param(name, "bias", (filters,)).reshape(1, -1, 1, 1)
            return activate(nhwc(y), act, alpha)
        if kind == "resize":
            size = [int(v) for v in s["size"].split(",")]
            mode = s.get("mode", "linear")
            coords = s.get("coordinates", "half_pixel")
            xc = x.movedim(-1, 1)
            if mode == "nearest":  # torch's nearest is ONNX's asymmetric + floor
                y = F.interpolate(xc, size=size, mode="nearest")
            else:
                y = F.interpolate(xc, size=size, mode=["linear", "bilinear", "trilinear"][len(size) - 1],
                                  align_corners=coords == "align_corners")
            return y.movedim(1, -1)
        if kind == "tensor":
            shape = [int(v) for v in s["shape"].split(",")]
            v = self.param(name, "value", shape)
            return v.unsqueeze(0).expand(x.shape[0], *shape)
        raise ValueError(kind)


BINARY_WORDS = {"multiply": "mul", "subtract": "sub", "divide": "div", "maximum": "max", "minimum": "min", "power": "pow"}
def prod(x, axes, keep):
    """torch.prod takes one axis: the product over several, one at a time."""
    for a in sorted(axes, reverse=True):
        x = torch.prod(x, dim=a, keepdim=keep)
    return x


UNARY_WORDS = ("exp", "log", "sqrt", "erf", "abs", "neg", "reciprocal", "elu", "selu", "celu", "thresholded_relu", "shrink", "softplus",
               "softsign", "hard_swish", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh",
               "floor", "ceil", "round", "sign", "clip", "silu", "gelu")


def unary(op, x, alpha=None, beta=None):
    """fovea's unary functions in PyTorch's terms; alpha, beta as the layer's settings (None: the default)."""
    F = torch.nn.functional
    a = None if alpha is None else float(alpha)
    b = None if beta is None else float(beta)
    if op == "elu":
        return F.elu(x, 1.0 if a is None else a)
    if op == "selu":
        if a is None and b is None:
            return torch.selu(x)
        return (1.0507009873554805 if b is None else b) * torch.where(x > 0, x, (1.6732632423543772 if a is None else a) * torch.expm1(x))
    if op == "celu":
        return F.celu(x, 1.0 if a is None else a)
    if op == "thresholded_relu":
        return torch.where(x > (1.0 if a is None else a), x, torch.zeros_like(x))
    if op == "clip":
        return torch.clamp(x, -float("inf") if a is None else a, float("inf") if b is None else b)
    if op == "shrink":
        lam, bias = 0.5 if a is None else a, 0.0 if b is None else b
        return torch.where(x < -lam, x + bias, torch.where(x > lam, x - bias, torch.zeros_like(x)))
    return {"exp": torch.exp, "log": torch.log, "sqrt": torch.sqrt, "erf": torch.erf, "abs": torch.abs, "neg": torch.neg,
            "reciprocal": torch.reciprocal, "softplus": F.softplus, "softsign": F.softsign, "hard_swish": F.hardswish,
            "sin": torch.sin, "cos": torch.cos, "tan": torch.tan, "asin": torch.asin, "acos": torch.acos, "atan": torch.atan,
            "sinh": torch.sinh, "cosh": torch.cosh, "asinh": torch.asinh, "acosh": torch.acosh, "atanh": torch.atanh,
            "floor": torch.floor, "ceil": torch.ceil, "round": torch.round, "sign": torch.sign, "silu": F.silu, "gelu": F.gelu}[op](x)


def compute(case):
    x = case.rand(case.batch, *case.input_shape).requires_grad_(True)
    y = case.run(x)
    d_output = case.rand(*y.shape)
    (y * d_output).sum().backward()
    tensors = [("input", x), ("output", y), ("d_output", d_output), ("d_input", x.grad)]
    for key, p in case.params.items():
        tensors.append((f"param/{key}", p))
        if p.requires_grad:
            tensors.append((f"grad/{key}", p.grad))
    for key, v in case.after.items():
        tensors.append((f"after/{key}", v))
    return tensors


LOSSES = {"softmax_cross_entropy": 0, "binary_cross_entropy": 1, "mse": 2, "hinge": 3}


def loss_value(kind, y, logits, targets, smoothing):
    """The torch loss on the network output y (logits: the pre-activation for the fused losses)."""
    if kind == "softmax_cross_entropy":
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1, targets.shape[-1]),
                               label_smoothing=smoothing)
    if kind == "binary_cross_entropy":
        t = targets * (1 - smoothing) + 0.5 * smoothing
        return F.binary_cross_entropy_with_logits(logits, t)
    if kind == "mse":
        return F.mse_loss(y, targets)
    if kind == "hinge":
        return F.multi_margin_loss(y.reshape(-1, y.shape[-1]), targets.reshape(-1, targets.shape[-1]).argmax(-1))
    raise ValueError(kind)


class LossCase(Case):
    """A network whose last layer is given twice: `body` ends in the fused activation, `logits_body`
    is the same network ending linear (torch applies the loss to its logits)."""

    def __init__(self, name, text, batch, input_shape, seed, kind, smoothing, onehot):
        super().__init__(name, text, batch, 1, input_shape, seed)
        self.kind, self.smoothing, self.onehot = kind, smoothing, onehot


def compute_loss_case(case):
    x = case.rand(case.batch, *case.input_shape, scale=getattr(case, "rand_scale", 1.0)).requires_grad_(True)
    y = case.run(x)
    last_kind, last = case.layers[-1]
    act = last.get("activation") or (last_kind if last_kind in ("softmax", "sigmoid") else None)
    # logits: undo the fused activation by recomputing the last layer without it
    case.layers[-1] = (last_kind, {k: v for k, v in last.items() if k != "activation"})
    logits = case.run(x) if act in ("softmax", "sigmoid") else y
    case.layers[-1] = (last_kind, last)
    if case.onehot:
        classes = torch.randint(0, y.shape[-1], y.shape[:-1], generator=case.gen)
        targets = F.one_hot(classes, y.shape[-1]).double()
    else:
        targets = case.rand(*y.shape, low=0.0, scale=1.0)
    loss = loss_value(case.kind, y, logits, targets, case.smoothing)
    loss.backward()
    tensors = [("input", x), ("output", y), ("targets", targets), ("d_input", x.grad),
               ("loss", loss.reshape(1)), ("loss_config", torch.tensor([LOSSES[case.kind], case.smoothing]))]
    for key, p in case.params.items():
        tensors.append((f"param/{key}", p))
        if p.requires_grad:
            tensors.append((f"grad/{key}", p.grad))
    return tensors


def loss_cases(first_seed):
    specs = [
        ("loss softmax CE fused", "dense name=d units=5 activation=softmax", (6,), "softmax_cross_entropy", 0.0, True),
        ("loss softmax CE on linear logits", "dense name=d units=4", (3,), "softmax_cross_entropy", 0.0, True),
        ("loss softmax CE label smoothing", "dense name=d units=6 activation=softmax", (5,), "softmax_cross_entropy", 0.1, True),
        ("loss softmax CE large logits", "dense name=d units=3 activation=softmax", (40,), "softmax_cross_entropy", 0.0, True),
        ("loss binary CE fused", "dense name=d units=1 activation=sigmoid", (4,), "binary_cross_entropy", 0.0, False),
        ("loss binary CE multi-label", "dense name=d units=3 activation=sigmoid", (4,), "binary_cross_entropy", 0.2, False),
        ("loss softmax CE per position (conv)", "conv2d name=c filters=3 kernel=1 activation=softmax", (2, 3, 2), "softmax_cross_entropy", 0.0, True),
        ("loss mse", "dense name=d units=3 activation=tanh", (4,), "mse", 0.0, False),
        ("loss hinge", "dense name=d units=5", (4,), "hinge", 0.0, True),
    ]
    out = []
    for i, (name, body, shape, kind, smoothing, onehot) in enumerate(specs):
        text = f"input name=in shape={','.join(map(str, shape))}\n{body}\n"
        case = LossCase(name, text, 4, shape, first_seed + i, kind, smoothing, onehot)
        if "large logits" in name:
            case.rand_scale = 30.0
        out.append(case)
    return out


OPTIMIZERS = {"sgd": 0, "adam": 1}


def optimizer_cases(first_seed):
    """(name, kind, lr, momentum, nesterov, weight decay, beta1, beta2, eps): 3 steps on a dense layer."""
    specs = [
        ("sgd plain", "sgd", 0.1, 0.0, 0, 0.0, 0.9, 0.999, 1e-8),
        ("sgd momentum + weight decay", "sgd", 0.05, 0.9, 0, 0.01, 0.9, 0.999, 1e-8),
        ("sgd nesterov", "sgd", 0.05, 0.8, 1, 0.0, 0.9, 0.999, 1e-8),
        ("adam", "adam", 0.01, 0.0, 0, 0.0, 0.9, 0.999, 1e-8),
        ("adam weight decay, other betas", "adam", 0.003, 0.0, 0, 0.05, 0.8, 0.99, 1e-6),
    ]
    out = []
    for i, (name, kind, lr, mom, nest, wd, b1, b2, eps) in enumerate(specs):
        case = Case("optimizer " + name, "input name=in shape=4\ndense name=d units=3\n", 1, 0, (4,), first_seed + i)
        kernel = case.param("d", "kernel", (4, 3))
        bias = case.param("d", "bias", (3,))
        tensors = [("param/d/kernel", kernel.detach().clone()), ("param/d/bias", bias.detach().clone()),
                   ("opt_config", torch.tensor([OPTIMIZERS[kind], lr, mom, nest, wd, b1, b2, eps]))]
        params = [kernel, bias]
        if kind == "sgd":
            opt = torch.optim.SGD(params, lr=lr, momentum=mom, nesterov=bool(nest), weight_decay=wd)
        else:
            opt = torch.optim.Adam(params, lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd)
        for step in range(3):
            for pname, p in (("kernel", kernel), ("bias", bias)):
                p.grad = case.rand(*p.shape)
                tensors.append((f"step{step}/d/{pname}", p.grad.clone()))
            opt.step()
        tensors += [("final/d/kernel", kernel.detach()), ("final/d/bias", bias.detach())]
        case.tensors = tensors
        out.append(case)
    return out


def read_cases(root):
    """The layer kinds' cases, as tests/test_ops.c reads them: every src/layers/*.cases, then
    src/core/*.cases, in name order; a case's name in the reference is "FILE: NAME"."""
    out = []
    for folder in ("src/layers", "src/core"):
        for path in sorted(glob.glob(os.path.join(root, folder, "*.cases"))):
            file = os.path.basename(path)
            current = None
            for line in open(path).read().splitlines():
                if line.startswith("#") or line.startswith("kinds ") or not line.strip():
                    continue
                if line.startswith("case "):
                    name, _, opts = line[5:].partition("|")
                    current = {"name": f"{file}: {name.strip()}", "text": "", "batch": 3, "training": 0, "scale": 1.0, "torch": True}
                    for opt in opts.split():
                        key, value = opt.split("=")
                        if key == "batch":
                            current["batch"] = int(value)
                        elif key == "training":
                            current["training"] = int(value)
                        elif key == "scale":
                            current["scale"] = float(value)
                        elif key == "checks":
                            current["torch"] = value != "fd"
                    out.append(current)
                else:
                    current["text"] += line + "\n"
    cases = []
    for c in out:
        if not c["torch"]:
            continue
        first = parse(c["text"])[0]
        assert first[0] == "input" and first[1].get("name") == "in", c["name"] + ": the first line must be 'input name=in shape=...'"
        for kind, settings in parse(c["text"]):
            assert "name" in settings, f"{c['name']}: '{kind}' has no name (PyTorch's tensors are keyed by it)"
        shape = tuple(int(v) for v in first[1]["shape"].split(","))
        case = Case(c["name"], c["text"], c["batch"], c["training"], shape, seed=zlib.crc32(c["name"].encode()))
        case.rand_scale = c["scale"]
        cases.append(case)
    return cases


def cases():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    return read_cases(root) + loss_cases(2000) + optimizer_cases(3000)


def write_str(f, s):
    b = s.encode()
    f.write(struct.pack("<I", len(b)))
    f.write(b)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: torch_reference.py OUT.bin")
    all_cases = cases()
    tmp = sys.argv[1] + ".tmp"
    with open(tmp, "wb") as f:
        f.write(b"FVREF001")
        f.write(struct.pack("<I", len(all_cases)))
        for case in all_cases:
            if hasattr(case, "tensors"):
                tensors = case.tensors
            elif isinstance(case, LossCase):
                tensors = compute_loss_case(case)
            else:
                tensors = compute(case)
            write_str(f, case.name)
            write_str(f, case.text)
            f.write(struct.pack("<ii", case.batch, case.training))
            f.write(struct.pack("<I", len(tensors)))
            for key, t in tensors:
                t = t.detach().to(torch.float32).contiguous()
                write_str(f, key)
                f.write(struct.pack("<I", t.dim()))
                f.write(struct.pack(f"<{t.dim()}I", *t.shape))
                f.write(t.numpy().tobytes())
    os.replace(tmp, sys.argv[1])
    print(f"wrote {len(all_cases)} cases to {sys.argv[1]} (torch {torch.__version__})")


if __name__ == "__main__":
    main()
