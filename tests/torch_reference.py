#!/usr/bin/python3
"""Writes PyTorch's forward and backward results for random configurations of every fovea layer.

Run with Debian's interpreter (it sees python3-torch):  /usr/bin/python3 tests/torch_reference.py OUT.bin
The C test (tests/test_torch.c) builds the same network from the same model text, loads the same
weights and input, and compares the output, the input gradient and every parameter gradient.

Each case is a fovea model definition (models/README.md) that this script interprets with torch ops,
in float64 so the reference carries no rounding of its own; fovea computes in float32. Tensors are
NHWC throughout (fovea's layout) and permuted to NCHW only around torch's conv/pool/batchnorm calls.

File format (little-endian): b"FVREF001", u32 case count, then per case: str name, str model text,
i32 batch, i32 training, u32 tensor count, and per tensor: str key, u32 rank, u32 dims[rank],
f32 data. A str is u32 length + bytes. Keys: input, output, d_output, d_input, param/LAYER/NAME,
grad/LAYER/NAME, after/LAYER/NAME (a parameter after the step: batch-norm moving statistics).
"""
import math
import os
import struct
import sys

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


def cases():
    """(name, model text, batch, training, input shape). Every layer kind and setting the C code has."""
    c = []
    conv = [
        ("conv2d valid 3x3", "conv2d name=c filters=4 kernel=3", (6, 7, 3)),
        ("conv2d same stride 2 (asymmetric pad)", "conv2d name=c filters=5 kernel=3 stride=2 padding=same", (8, 7, 2)),
        ("conv2d explicit pad, 2x3 kernel, stride 2x1, no bias", "conv2d name=c filters=3 kernel=2,3 stride=2,1 padding=1,2 bias=false", (5, 6, 3)),
        ("conv2d explicit 4 pads", "conv2d name=c filters=2 kernel=3 padding=0,1,2,1", (5, 5, 2)),
        ("conv2d 1x1", "conv2d name=c filters=6 kernel=1", (4, 4, 5)),
        ("conv2d fused relu", "conv2d name=c filters=8 kernel=3 padding=same activation=relu", (6, 6, 3)),
        ("conv2d fused sigmoid, 5x5", "conv2d name=c filters=4 kernel=5 activation=sigmoid", (9, 8, 2)),
        ("conv1d same stride 2", "conv1d name=c filters=4 kernel=3 stride=2 padding=same", (11, 3)),
        ("conv1d valid tanh", "conv1d name=c filters=3 kernel=4 activation=tanh", (9, 2)),
    ]
    conv += [
        ("conv2d groups=2", "conv2d name=c filters=6 kernel=3 groups=2", (6, 5, 4)),
        ("conv2d depthwise (groups = channels), same", "conv2d name=c filters=3 kernel=3 groups=3 padding=same", (6, 6, 3)),
        ("conv2d dilation 2, same", "conv2d name=c filters=4 kernel=3 dilation=2 padding=same activation=relu", (9, 8, 2)),
        ("conv2d dilation 2,1 groups 2 stride 2 explicit pad", "conv2d name=c filters=4 kernel=3 dilation=2,1 groups=2 stride=2 padding=1,2 bias=false", (9, 8, 4)),
        ("conv3d valid 3x3x3", "conv3d name=c filters=3 kernel=3", (4, 5, 6, 2)),
        ("conv3d 2x3x3 stride 2 same relu", "conv3d name=c filters=4 kernel=2,3,3 stride=2 padding=same activation=relu", (5, 6, 7, 3)),
        ("conv3d explicit pad 1, no bias, tanh", "conv3d name=c filters=2 kernel=3 padding=1 bias=false activation=tanh", (3, 4, 4, 2)),
        ("conv3d groups 2 dilation 2", "conv3d name=c filters=4 kernel=2 groups=2 dilation=2", (5, 5, 5, 2)),
    ]
    dense = [
        ("dense", "dense name=d units=5", (7,)),
        ("dense softmax", "dense name=d units=6 activation=softmax", (9,)),
        ("dense over last axis, no bias, leaky", "dense name=d units=4 bias=false activation=leaky_relu alpha=0.2", (3, 5)),
    ]
    pools = []
    for kind in ("maxpool2d", "avgpool2d", "sumpool2d"):
        pools += [
            (f"{kind} 2x2", f"{kind} name=p size=2", (6, 8, 3)),
            (f"{kind} 3x3 stride 1 (overlapping)", f"{kind} name=p size=3 stride=1", (5, 6, 2)),
            (f"{kind} 3x3 stride 2 same", f"{kind} name=p size=3 stride=2 padding=same", (7, 6, 2)),
            (f"{kind} 2x3 explicit pad 1", f"{kind} name=p size=2,3 stride=2 padding=1", (5, 7, 2)),
            (f"{kind} on (L, C)", f"{kind} name=p size=3 stride=2", (9, 3)),
        ]
    pools += [
        ("maxpool3d 2x2x2", "maxpool3d name=p size=2", (4, 6, 6, 2)),
        ("maxpool3d 3 stride 2 same", "maxpool3d name=p size=3 stride=2 padding=same", (5, 5, 6, 2)),
        ("avgpool3d 2 stride 1 same", "avgpool3d name=p size=2 stride=1 padding=same", (3, 4, 5, 2)),
        ("avgpool3d 1x2x2 explicit pad", "avgpool3d name=p size=1,2,2 stride=1,2,2 padding=0,0,1,1,1,1", (3, 5, 5, 2)),
    ]
    others = [
        ("global avgpool", "global_avgpool name=g", (4, 5, 3)),
        ("global avgpool (L, C)", "global_avgpool name=g", (6, 4)),
        ("flatten", "flatten name=f", (3, 4, 2)),
        ("flatten channels first", "flatten name=f channels_first=true", (3, 4, 2)),
        ("reshape", "reshape name=r shape=2,12", (3, 4, 2)),
        ("affine", "affine name=a", (3, 4, 2)),
        ("prelu on maps", "prelu name=p", (3, 4, 5)),
        ("prelu on a vector", "prelu name=p", (6,)),
        ("residual add with a fused relu", "conv2d name=c filters=2 kernel=3 padding=same\nadd name=a inputs=in,c activation=relu", (5, 5, 2)),
        ("add of three with a fused tanh", "dense name=d units=4\nadd name=a inputs=in,d,d activation=tanh", (3, 4)),
        ("conv2d relu6, flatten channels first", "conv2d name=c filters=3 kernel=3 activation=relu6\nflatten name=f channels_first=true", (6, 5, 2)),
        ("dropout (inference)", "dropout name=d rate=0.4", (5, 3)),
    ] + [(f"activation {a}", f"{a} name=a", (4, 6)) for a in ("relu", "sigmoid", "tanh", "softmax", "linear", "relu6")] + [
        ("activation leaky_relu 0.2", "leaky_relu name=a alpha=0.2", (4, 6)),
        ("activation relu6 past 6", "relu6 name=a", (5, 6)),
        ("activation hard_sigmoid past 6", "hard_sigmoid name=a alpha=0.16666667", (5, 6)),
        ("activation log_softmax", "log_softmax name=a", (4, 6)),
        ("dense with a fused log_softmax", "dense name=d units=5 activation=log_softmax", (4,)),
        ("activation layer function=tanh", "activation name=a function=tanh", (3, 5)),
    ]
    tensors = [  # log, sqrt, reciprocal, pow and div read sigmoid outputs (away from their poles)
        ("multiply, same shapes (SiLU)", "sigmoid name=s\nmultiply name=m inputs=in,s", (4, 3, 2)),
        ("multiply, a per-channel gate", "reduce name=g op=mean axes=0,1\nmultiply name=m inputs=in,g", (4, 3, 5)),
        ("binary add (H,1,C) + (1,W,C)", "reduce name=r op=max axes=1\nreduce name=c op=sum axes=0 inputs=in\nbinary name=b op=add inputs=r,c", (3, 4, 2)),
        ("binary add of a lower rank (C) + (H,W,C)", "reduce name=v op=mean axes=0,1 keepdims=false\nbinary name=b op=add inputs=in,v", (3, 4, 2)),
        ("subtract broadcast", "reduce name=g op=sum axes=2\nsubtract name=d inputs=g,in", (3, 4, 2)),
        ("divide", "sigmoid name=s\ndivide name=d inputs=in,s", (3, 4, 2)),
        ("maximum", "neg name=n\nmaximum name=m inputs=in,n", (3, 5)),
        ("minimum", "neg name=n\nminimum name=m inputs=n,in", (3, 5)),
        ("power", "sigmoid name=s\ntanh name=t inputs=in\npower name=p inputs=s,t", (3, 5)),
        ("exp", "exp name=e", (3, 5)),
        ("log", "sigmoid name=s\nlog name=l", (3, 5)),
        ("sqrt", "sigmoid name=s\nsqrt name=q", (3, 5)),
        ("erf", "erf name=e", (4, 5)),
        ("abs", "abs name=a", (3, 5)),
        ("neg", "neg name=n", (3, 5)),
        ("reciprocal", "sigmoid name=s\nreciprocal name=r", (3, 5)),
        ("elu", "elu name=u", (3, 5)),
        ("elu alpha 0.5", "elu name=u alpha=0.5", (3, 5)),
        ("selu", "selu name=u", (3, 5)),
        ("selu alpha 2 scale 3", "selu name=u alpha=2 beta=3", (3, 5)),
        ("celu alpha 2", "celu name=u alpha=2", (3, 5)),
        ("thresholded_relu 0.25", "thresholded_relu name=u alpha=0.25", (3, 5)),
        ("shrink lambda 0.4 bias 0.1", "shrink name=u alpha=0.4 beta=0.1", (3, 5)),
        ("softplus", "softplus name=u", (3, 5)),
        ("softsign", "softsign name=u", (3, 5)),
        ("hard_swish", "affine name=a\nhard_swish name=u", (3, 5)),
        ("sin", "sin name=u", (3, 5)),
        ("cos", "cos name=u", (3, 5)),
        ("tan", "tan name=u", (3, 5)),
        ("asin", "sigmoid name=s\nasin name=u", (3, 5)),
        ("acos", "sigmoid name=s\nacos name=u", (3, 5)),
        ("atan", "atan name=u", (3, 5)),
        ("sinh", "sinh name=u", (3, 5)),
        ("cosh", "cosh name=u", (3, 5)),
        ("asinh", "asinh name=u", (3, 5)),
        ("acosh", "sigmoid name=s\nexp name=e\nacosh name=u", (3, 5)),
        ("atanh", "sigmoid name=s\natanh name=u", (3, 5)),
        ("floor (3x)", "affine name=a\nfloor name=u", (3, 5)),
        ("ceil (3x)", "affine name=a\nceil name=u", (3, 5)),
        ("round (3x)", "affine name=a\nround name=u", (3, 5)),
        ("sign", "sign name=u", (3, 5)),
        ("silu", "affine name=a\nsilu name=u", (3, 5)),
        ("gelu", "affine name=a\ngelu name=u", (3, 5)),
        ("clip to [-0.35, 0.45]", "clip name=u alpha=-0.35 beta=0.45", (3, 5)),
        ("reduce mean over H, W", "reduce name=r op=mean axes=0,1", (3, 4, 2)),
        ("reduce sum over C, dropped", "reduce name=r op=sum axes=2 keepdims=false", (3, 4, 2)),
        ("reduce max over W", "reduce name=r op=max axes=1", (3, 4, 2)),
        ("reduce everything", "reduce name=r op=mean axes=0,1,2 keepdims=false", (3, 4, 2)),
        ("reduce min over W", "reduce name=r op=min axes=1", (3, 4, 2)),
        ("reduce prod over C", "sigmoid name=s\nreduce name=r op=prod axes=2", (3, 4, 2)),
        ("reduce prod over H, W, dropped", "sigmoid name=s\nreduce name=r op=prod axes=0,1 keepdims=false", (3, 4, 2)),
        ("reduce sum_square over H, W", "reduce name=r op=sum_square axes=0,1", (3, 4, 2)),
        ("reduce l1 over W", "reduce name=r op=l1 axes=1", (3, 4, 2)),
        ("reduce l2 over C, dropped", "reduce name=r op=l2 axes=2 keepdims=false", (3, 4, 2)),
        ("reduce log_sum over H", "sigmoid name=s\nreduce name=r op=log_sum axes=0", (3, 4, 2)),
        ("reduce log_sum_exp over W, C", "reduce name=r op=log_sum_exp axes=1,2", (3, 4, 2)),
        ("pad constant (the channels too)", "pad name=p pads=1,2,0,1,1,0 value=0.25", (3, 4, 2)),
        ("pad reflect", "pad name=p pads=2,1,1,3 mode=reflect", (4, 4, 2)),
        ("pad edge", "pad name=p pads=2,1,0,2 mode=edge", (3, 4, 2)),
        ("transpose (H,W,C) -> (C,H,W), then a conv2d", "transpose name=t perm=2,0,1\nconv2d name=c filters=2 kernel=2", (3, 4, 2)),
        ("transpose of rank 4", "transpose name=t perm=3,1,0,2", (2, 3, 4, 2)),
        ("slice with steps", "slice name=s begin=1,0,1 size=2,3,2 step=2,2,1", (5, 6, 3)),
        ("resize bilinear up (half pixel)", "resize name=r size=7,9", (3, 4, 2)),
        ("matmul q k^T", "dense name=q units=5 inputs=in\ndense name=k units=5 inputs=in\ntranspose name=kt perm=1,0 inputs=k\nmatmul name=m inputs=q,kt", (4, 3)),
        ("matmul broadcast (H, M, K) x (K, P)", "reduce name=r op=mean axes=0 keepdims=false inputs=in\ntranspose name=t perm=1,0 inputs=r\nmatmul name=m inputs=in,t", (2, 3, 4)),
        ("conv2d_transpose stride 2, kernel 2 (a decoder's upsampling)", "conv2d_transpose name=t filters=3 kernel=2 stride=2 activation=relu", (3, 4, 2)),
        ("conv2d_transpose 3x3 stride 2, pad 1, output padding, groups", "conv2d_transpose name=t filters=4 kernel=3 stride=2 padding=1 output_padding=1 groups=2", (3, 3, 4)),
        ("conv2d_transpose dilation 2, no bias", "conv2d_transpose name=t filters=2 kernel=2,3 dilation=2 bias=false", (3, 4, 2)),
        ("resize bilinear down", "resize name=r size=3,2", (6, 5, 2)),
        ("resize bilinear, align corners", "resize name=r size=5,7 coordinates=align_corners", (3, 4, 2)),
        ("resize linear (L, C)", "resize name=r size=9", (4, 3)),
        ("resize nearest (asymmetric, floor)", "resize name=r size=7,5 mode=nearest coordinates=asymmetric nearest=floor", (3, 4, 2)),
        ("tensor joined to the data (a class token)", "tensor name=t shape=1,3 inputs=in\nconcat name=c inputs=t,in axis=0", (4, 3)),
        ("concat along the first axis", "concat name=c inputs=in,in axis=0", (2, 3, 2)),
        ("x * erf(x * scale + shift): GELU's form", "affine name=a\nerf name=e\nmultiply name=m inputs=in,e", (3, 6)),
    ]
    for name, line, shape in conv + dense + pools + others + tensors:
        c.append((name, line, 3, 0, shape))
    c.append(("batchnorm training", "batchnorm name=b momentum=0.9 epsilon=0.001", 4, 1, (5, 4, 3)))
    c.append(("batchnorm inference", "batchnorm name=b", 4, 0, (5, 4, 3)))
    c.append(("batchnorm on (C)", "batchnorm name=b momentum=0.8 epsilon=0.01", 6, 1, (7,)))
    resid = "\n".join([
        "conv2d name=c1 filters=3 kernel=3 padding=same activation=relu",
        "batchnorm name=b1",
        "conv2d name=c2 filters=3 kernel=3 padding=same",
        "add name=sum inputs=in,c2",
        "relu name=r",
    ])
    c.append(("residual block (training)", resid, 2, 1, (6, 5, 3)))
    inception = "\n".join([
        "conv2d name=a filters=2 kernel=1 activation=relu",
        "conv2d name=b filters=3 kernel=3 padding=same inputs=in",
        "maxpool2d name=p size=3 stride=1 padding=same inputs=in",
        "concat name=cat inputs=a,b,p",
        "conv2d name=out filters=2 kernel=1 activation=tanh",
    ])
    c.append(("inception-style concat block", inception, 2, 0, (5, 6, 3)))
    c.append(("concat of the input with itself", "concat name=cat inputs=in,in", 2, 0, (3, 4, 2)))
    small_cnn = "\n".join([
        "conv2d name=c1 filters=4 kernel=3 activation=relu",
        "conv2d name=c2 filters=6 kernel=3 activation=relu",
        "maxpool2d name=p size=2 stride=2",
        "flatten name=f",
        "dense name=d1 units=16 activation=relu",
        "dense name=d2 units=10 activation=softmax",
    ])
    c.append(("mnist-cnn in miniature", small_cnn, 3, 0, (10, 10, 1)))
    out = []
    for i, (name, body, batch, training, shape) in enumerate(c):
        text = f"input name=in shape={','.join(map(str, shape))}\n{body}\n"
        case = Case(name, text, batch, training, shape, seed=1000 + i)
        if "past 6" in name:  # inputs in (-9, 9): ReLU6's upper corner is crossed
            case.rand_scale = 9.0
        out.append(case)
    return out + loss_cases(2000) + optimizer_cases(3000)


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
