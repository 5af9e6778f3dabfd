#!/usr/bin/python3
"""The Python binding (python/fovea.py) on Debian's Python and NumPy: training mlp-2d on NumPy arrays
gives the very weights `fovea train` gives on the same arrays with the same seed; evaluation,
prediction, the picture functions as arrays; library errors as fovea.Error.

usage: FOVEA_LIBRARY=build/libfovea.so test_python.py FOVEA SOURCE_DIR
"""
import ctypes
import os
import subprocess
import sys
import tempfile

import numpy as np
import scipy.signal

fovea_cli, src = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(src, "python"))
import fovea  # noqa: E402

passed = failed = 0


def check(what, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAILED: {what} {detail}")


# the binding's mirror of fovea.h against the library's own layout (fv_abi_layout): every struct,
# field offset and size, and enum value; a member the library's table leaves out would show as a
# gap wider than the next field's alignment
problems = fovea._check_layout()
check("the binding's structs and enums equal the library's", not problems, "; ".join(problems))
for cls in fovea._STRUCTS:
    fields = [getattr(cls, f[0]) for f in cls._fields_]
    ends = [f.offset + f.size for f in fields]
    gaps = [fields[i + 1].offset - ends[i] for i in range(len(fields) - 1)] + [ctypes.sizeof(cls) - ends[-1]]
    aligns = [ctypes.alignment(f[1]) for f in cls._fields_[1:]] + [ctypes.alignment(cls)]
    check(f"{cls._c_name_}: no member missing (only padding between fields)", all(g < a for g, a in zip(gaps, aligns)), str(gaps))

rng = np.random.default_rng(4)
n = 1000  # two overlapping 2-D Gaussian clouds, as the mlp-2d accuracy test
y = rng.integers(0, 2, n)
x = (rng.normal(size=(n, 2)) + np.where(y[:, None] == 1, 1.0, -1.0)).astype(np.float32)
with tempfile.TemporaryDirectory() as tmp:
    np.save(os.path.join(tmp, "x.npy"), x)
    np.save(os.path.join(tmp, "y.npy"), y.astype(np.int64))
    cli_model = os.path.join(tmp, "cli.fvm")
    subprocess.run([fovea_cli, "train", os.path.join(src, "models", "mlp-2d.fv"), "--data", f"{tmp}/x.npy,{tmp}/y.npy", "--epochs", "5",
                    "--batch", "32", "--seed", "3", "--no-test", "--out", cli_model], check=True, stdout=subprocess.DEVNULL)
    net = fovea.Net.load(os.path.join(src, "models", "mlp-2d.fv")).fit(x, y, epochs=5, batch_size=32, seed=3)
    mine, theirs = net.weights(), fovea.Net.load(cli_model).weights()
    check("the same parameters", list(mine) == list(theirs), f"{list(mine)} vs {list(theirs)}")
    check("the binding's weights equal the CLI's, bit for bit", all(np.array_equal(mine[k], theirs[k]) for k in mine))
    metrics = net.evaluate(x, y)
    check("evaluate: accuracy as fovea evaluate --json", 0.85 < metrics["accuracy"] <= 1 and metrics["samples"] == n, metrics["accuracy"])
    p = net.predict(x[:5])
    check("predict: probabilities", p.shape == (5, 1) and np.all((p >= 0) & (p <= 1)), p)
    net.save(os.path.join(tmp, "py.fvm"))
    check("save and load back", np.array_equal(fovea.Net.load(os.path.join(tmp, "py.fvm")).weights()["dense_1/kernel"], mine["dense_1/kernel"]))

# precision: bf16 and int8 near fp32 on the trained network
p32 = net.predict(x[:200])
net.precision = "bf16"
check("precision: bf16 set", net.precision == "bf16")
try:
    p16 = net.predict(x[:200])
    check("bf16 predictions within bf16's rounding of fp32's", np.abs(p16 - p32).max() < 2e-2, np.abs(p16 - p32).max())
except fovea.Error as e:  # oneDNN 2.6 has bf16 kernels on AVX-512 only, and must say so
    check("bf16 refused only on a CPU without AVX-512", "no bf16 kernel" in str(e) and " avx512f" not in open("/proc/cpuinfo").read(), str(e))
net.precision = "fp32"
report = net.quantize(x, y, samples=256)
check("quantize: a report and int8", net.precision == "int8" and report["samples"] == 256 and len(report["candidates"]) >= 1, report)
p8 = net.predict(x[:200])
check("int8 predictions agree with fp32's", np.mean((p8 > 0.5) == (p32 > 0.5)) >= 0.98, np.mean((p8 > 0.5) == (p32 > 0.5)))
try:
    net.precision = "fp16"
    check("an unknown precision raises", False)
except fovea.Error as e:
    check("an unknown precision raises fovea.Error", "fp16" in str(e), str(e))

cnn = fovea.Net.from_text("input shape=12,12,1\nconv2d filters=4 kernel=3 activation=relu\nconv2d name=last filters=6 kernel=3 "
                          "activation=relu\nmaxpool2d size=2\nflatten\ndense units=3 activation=softmax\n")
image = rng.random((12, 12, 1), dtype=np.float32)
heat = cnn.saliency(image)
check("saliency: an (H, W) array", heat.shape == (12, 12) and np.all(np.isfinite(heat)) and heat.max() > 0, heat.shape)
smooth = cnn.saliency(image, method="smoothgrad", samples=4)
check("SmoothGrad differs from vanilla", smooth.shape == (12, 12) and not np.array_equal(smooth, heat))
cam = cnn.gradcam(image, class_index=1)
check("Grad-CAM: an (H, W) array, at least 0", cam.shape == (12, 12) and cam.min() >= 0)
maps = cnn.feature_maps(image, "last")
check("feature maps: a picture", maps.ndim == 3 and maps.shape[2] == 3 and 0 <= maps.min() and maps.max() <= 1, maps.shape)
check("filters: a picture", cnn.filters("conv2d_1").shape[2] == 3)
k = rng.random((4, 3), dtype=np.float32)
check("convolve2d equals SciPy", np.allclose(fovea.convolve2d(image[..., 0], k), scipy.signal.convolve2d(image[..., 0], k, "same"), atol=1e-6))
try:
    fovea.Net.load("/nonexistent/model.fvm")
    check("a missing file raises fovea.Error", False)
except fovea.Error as e:
    check("a missing file raises fovea.Error with fovea's message", "/nonexistent/model.fvm" in str(e), str(e))
try:
    cnn.saliency(image, class_index=7)
    check("a class out of range raises", False)
except fovea.Error as e:
    check("a class out of range raises fovea.Error", "class 7 is out of range" in str(e), str(e))
check("library_version", fovea.library_version().count(".") == 2)
print(f"{passed} passed, {failed} failed")
sys.exit(0 if failed == 0 and passed > 0 else 1)
