#!/usr/bin/python3
"""Writes the references for fovea's looking-inside functions (tests/test_inspect.c compares).

Run with Debian's interpreter:  /usr/bin/python3 tests/inspect_reference.py OUT.bin

Two kinds of case, in the file format of tests/torch_reference.py (FVREF001):
  classic convolution: NumPy's np.convolve / np.correlate (1-D) and SciPy's convolve2d / correlate2d
    (2-D, per channel) in every mode, on random sizes including kernels larger than the input and
    even-sized kernels. Tensors: x, k, out, config = [axes, mode (0 full, 1 same, 2 valid), correlate].
  attribution: a small network (its model text, interpreted by torch_reference.py's Case) with
    random weights, one input and a class. Tensors: param/LAYER/NAME, input, class, gradient (d
    logit / d input), saliency (max over channels of |gradient|), guided_gradient and guided
    (guided backpropagation: a ReLU passes only positive gradients, where its input was positive),
    and for each target layer L: gradcam/L, gradcam_up/L (bilinear, align_corners=False, to the
    input's size) and gradcampp/L (pytorch-grad-cam's Grad-CAM++ weights). Computed in float64.
"""
import os
import struct
import sys

import numpy as np
import scipy.signal
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_reference as ref  # noqa: E402  (the layer interpreter)

MODES = ["full", "same", "valid"]


class Plain:
    """A case that is only tensors."""

    def __init__(self, name, tensors):
        self.name, self.text, self.batch, self.training, self.tensors = name, "", 0, 0, tensors


def convolution_cases(rng):
    out = []
    sizes_1d = [(20, 3), (7, 4), (5, 8), (4, 4), (1, 3), (9, 1), (6, 7), (13, 2)]
    for n, m in sizes_1d:
        x = rng.uniform(-1, 1, n).astype(np.float32)
        k = rng.uniform(-1, 1, m).astype(np.float32)
        for mode in range(3):
            for corr in (0, 1):
                f = np.correlate if corr else np.convolve
                y = f(x.astype(np.float64), k.astype(np.float64), MODES[mode])
                out.append(Plain(f"1-D {'correlate' if corr else 'convolve'} {MODES[mode]} n={n} m={m}",
                                 [("x", x), ("k", k), ("out", y), ("config", np.array([1, mode, corr]))]))
    sizes_2d = [(6, 7, 3, 3, 1), (5, 6, 2, 4, 1), (8, 5, 4, 2, 3), (3, 3, 5, 4, 1), (4, 4, 4, 4, 3),
                (2, 3, 5, 6, 1), (9, 9, 1, 1, 1), (7, 5, 6, 2, 1), (10, 12, 5, 5, 3)]
    for h, w, kh, kw, c in sizes_2d:
        x = rng.uniform(-1, 1, (h, w, c)).astype(np.float32)
        k = rng.uniform(-1, 1, (kh, kw)).astype(np.float32)
        for mode in range(3):
            for corr in (0, 1):
                f = scipy.signal.correlate2d if corr else scipy.signal.convolve2d
                try:
                    y = np.stack([f(x[:, :, ch].astype(np.float64), k.astype(np.float64), MODES[mode]) for ch in range(c)], -1)
                except ValueError:  # valid mode with neither larger on both axes: fovea must refuse too
                    y = np.zeros((0,), np.float64)
                out.append(Plain(f"2-D {'correlate2d' if corr else 'convolve2d'} {MODES[mode]} {h}x{w}x{c} * {kh}x{kw}",
                                 [("x", x), ("k", k), ("out", y), ("config", np.array([2, mode, corr]))]))
    return out


def guided_activate(x, name, alpha):
    return GuidedReLU.apply(x) if name == "relu" else PLAIN_ACTIVATE(x, name, alpha)


class GuidedReLU(torch.autograd.Function):
    """Springenberg et al.: the gradient passes where the input was positive and it is positive."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (x > 0) * (g > 0)


PLAIN_ACTIVATE = ref.activate


class Net(ref.Case):
    def run(self, x):
        """As Case.run, keeping every layer's output (Grad-CAM reads them)."""
        self.outputs, prev, self.after = {}, None, {}
        for kind, s in self.layers:
            name = s.get("name")
            ins = [self.outputs[n] for n in s.get("inputs", s.get("input", "")).split(",") if n] or [prev]
            y = x if kind == "input" else self.layer(kind, name, s, ins)
            if y.requires_grad:
                y.retain_grad()
            self.outputs[name] = prev = y
        return prev

    def logits(self, x):
        """The output before the last layer's softmax/sigmoid."""
        kind, last = self.layers[-1]
        self.layers[-1] = (kind, {k: v for k, v in last.items() if k != "activation"})
        y = self.run(x)
        self.layers[-1] = (kind, last)
        return y


def gradcam(a, g, plus_plus):
    """a, g: (H, W, K) feature maps and d score / d maps -> (H, W)."""
    if plus_plus:  # pytorch-grad-cam's GradCAMPlusPlus.get_cam_weights
        g2, g3 = g ** 2, g ** 3
        sum_a = a.sum(dim=(0, 1))
        aij = g2 / (2 * g2 + sum_a * g3 + 1e-6)
        aij = torch.where(g != 0, aij, torch.zeros_like(aij))
        weights = (torch.clamp(g, min=0) * aij).sum(dim=(0, 1))
    else:
        weights = g.mean(dim=(0, 1))
    return torch.relu((a * weights).sum(dim=-1))


def attribution_case(name, text, shape, klass, targets, seed):
    case = Net(name, text, 1, 0, shape, seed)
    x = case.rand(1, *shape, low=0.0, scale=1.0).requires_grad_(True)
    score = case.logits(x)[0, klass]
    score.backward()
    gradient = x.grad.detach().clone()[0]
    tensors = [(f"param/{k}", p) for k, p in case.params.items()]
    tensors += [("input", x[0]), ("class", torch.tensor([float(klass)])), ("score", score.reshape(1)),
                ("gradient", gradient), ("saliency", gradient.abs().amax(dim=-1))]
    for layer in targets:
        a, g = case.outputs[layer][0].detach(), case.outputs[layer].grad[0]
        cam = gradcam(a, g, False)
        up = F.interpolate(cam[None, None], size=shape[:2], mode="bilinear", align_corners=False)[0, 0]
        tensors += [(f"gradcam/{layer}", cam), (f"gradcam_up/{layer}", up), (f"gradcampp/{layer}", gradcam(a, g, True))]
    ref.activate = guided_activate
    x.grad = None
    case.logits(x)[0, klass].backward()
    ref.activate = PLAIN_ACTIVATE
    tensors += [("guided_gradient", x.grad[0]), ("guided", x.grad[0].abs().amax(dim=-1))]
    case = Plain(name, tensors)
    case.text = text
    return case


def attribution_cases():
    cnn = """input name=in shape=10,10,2
conv2d name=c1 filters=4 kernel=3 activation=relu
conv2d name=c2 filters=5 kernel=3 padding=same activation=relu
maxpool2d name=p size=2
flatten name=f
dense name=d1 units=6 activation=relu
dense name=out units=4 activation=softmax
"""
    residual = """input name=in shape=8,8,3
conv2d name=c1 filters=4 kernel=3 padding=same
batchnorm name=bn
activation name=r function=relu
conv2d name=c2 filters=4 kernel=3 padding=same activation=relu
add name=a inputs=r,c2
global_avgpool name=g
dense name=out units=3
"""
    leaky = """input name=in shape=9,7,3
conv2d name=c1 filters=3 kernel=3 activation=leaky_relu alpha=0.1
conv2d name=c2 filters=4 kernel=3 stride=2 activation=tanh
flatten name=f
dense name=out units=5 activation=sigmoid
"""
    return [
        attribution_case("attribution: CNN with fused ReLUs and max pooling", cnn, (10, 10, 2), 2, ["c2", "p", "c1"], 5000),
        attribution_case("attribution: residual block, batch norm, standalone ReLU, linear output", residual, (8, 8, 3), 1,
                         ["a", "c1", "r"], 5001),
        attribution_case("attribution: leaky ReLU, tanh, strided, sigmoid output", leaky, (9, 7, 3), 4, ["c2", "c1"], 5002),
    ]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: inspect_reference.py OUT.bin")
    torch.set_default_dtype(torch.float64)
    cases = convolution_cases(np.random.default_rng(7)) + attribution_cases()
    tmp = sys.argv[1] + ".tmp"
    with open(tmp, "wb") as f:
        f.write(b"FVREF001")
        f.write(struct.pack("<I", len(cases)))
        for case in cases:
            ref.write_str(f, case.name)
            ref.write_str(f, case.text)
            f.write(struct.pack("<ii", case.batch, case.training))
            f.write(struct.pack("<I", len(case.tensors)))
            for key, t in case.tensors:
                a = (t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)).astype(np.float32)
                ref.write_str(f, key)
                f.write(struct.pack("<I", a.ndim))
                f.write(struct.pack(f"<{a.ndim}I", *a.shape))
                f.write(np.ascontiguousarray(a).tobytes())
    os.replace(tmp, sys.argv[1])
    print(f"wrote {len(cases)} cases to {sys.argv[1]}")


if __name__ == "__main__":
    main()
