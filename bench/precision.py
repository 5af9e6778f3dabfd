#!/usr/bin/python3
"""Reduced precision: fovea in fp32 and bf16 against PyTorch (fp32, and bf16 autocast) and ONNX
Runtime (fp32), on the same 2 threads, alternating, in one run. Writes bench/PRECISION.md.

usage: bench/precision.sh (builds fovea optimised, exports the networks, fetches onnxruntime-node)
       /usr/bin/python3 bench/precision.py FOVEA FOVEA_BENCH MODEL_DIR ORT_DIR

  training   mnist-cnn and lenet5, batch 64, Adam, steady-state images/s: fovea_bench train ... fp32|bf16
             against PyTorch in fp32 and under torch.autocast("cpu", dtype=torch.bfloat16);
  inference  resnet50 and mobilenet_v2 (torchvision, weights=None, seeded; ONNX) at batch 1 and 16:
             `fovea forward` in fp32, bf16 and int8 (the model quantised by `fovea quantize` on 64
             random images: the speed does not depend on the scales) against ONNX Runtime fp32 and
             PyTorch bf16 autocast;
  accuracy   Fashion-MNIST test accuracy of mnist-cnn (5 epochs) and lenet5 (10 epochs), cosine
             schedule, trained in fp32 and in bf16, and the fp32 model quantised to int8.
Each measurement is its own process; the runtimes alternate for BENCH_REPS rounds (default 3); the
tables give medians and the median of the per-round ratios. BENCH_NETWORKS=vgg16 (names, comma-
separated) times only those networks' inference and prints their rows instead of writing the file.
"""
import datetime
import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPS = int(os.environ.get("BENCH_REPS", "3"))
THREADS = 2
PASSES = {1: 20, 16: 4}
sys.path.insert(0, os.path.join(ROOT, "bench"))


def torch_train(path, batch, steps, precision):
    import torch

    from bench import torch_model

    torch.set_num_threads(THREADS)
    torch.manual_seed(1)
    model, out_shape, _ = torch_model(path)
    with open(path) as f:
        in_shape = next([int(v) for v in l.split("shape=")[1].split()[0].split(",")] for l in f if l.startswith("input"))
    x, y = torch.rand(batch, in_shape[2], in_shape[0], in_shape[1]), torch.arange(batch) % out_shape[0]
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    model.train()
    for s in range(-5, steps):
        if s == 0:
            start = time.perf_counter()
        opt.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    print(f"images_per_s={batch * steps / (time.perf_counter() - start):.1f}")


def torch_infer(name, batch, passes, x_path):
    import numpy as np
    import torch
    import torchvision

    torch.set_num_threads(THREADS)
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)(weights=None).eval()
    x = torch.from_numpy(np.load(x_path))
    times = []
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        for s in range(-3, passes):
            t0 = time.perf_counter()
            model(x)
            if s >= 0:
                times.append((time.perf_counter() - t0) * 1e3)
    print(f"torch_ms {statistics.median(times):.3f}")


def run(cmd, env):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {r.stderr[-800:]}")
    return r.stdout


def number(out, pattern):
    return float(re.search(pattern, out).group(1))


def alternate(cmds, pattern, env):
    """{name: [value per round]}: each command once per round, in order, REPS rounds."""
    got = {k: [] for k in cmds}
    for _ in range(REPS):
        for k, cmd in cmds.items():
            got[k].append(number(run(cmd, env), pattern))
    return got


def ratio(got, a, b):
    return statistics.median(x / y for x, y in zip(got[a], got[b]))


def isa(fovea, onnx, x, env):
    """What oneDNN reports it runs on, and the implementation of the first bf16 convolution."""
    out = run([fovea, "forward", onnx, "--input", x, "--output", os.devnull, "--precision", "bf16"], dict(env, ONEDNN_VERBOSE="1"))
    line = next((l for l in out.splitlines() if "isa:" in l), "isa: unknown").split("isa:")[1].strip()
    conv = next((l.split(",")[4] for l in out.splitlines() if ",exec," in l and "convolution" in l and "bf16" in l), "none")
    return line, conv


def main():
    fovea, fovea_bench, model_dir, ort_dir = sys.argv[1:5]
    env = dict(os.environ, OMP_NUM_THREADS=str(THREADS), NODE_PATH=os.path.join(ort_dir, "node_modules"))
    me = os.path.abspath(__file__)
    lines = []

    only = os.environ.get("BENCH_NETWORKS")
    train_rows = []
    for m in () if only else ("mnist-cnn", "lenet5"):
        path = os.path.join(ROOT, "models", f"{m}.fv")
        cmds = {p: [fovea_bench, "train", path, "64", "60", p] for p in ("fp32", "bf16")}
        cmds.update({f"torch-{p}": ["/usr/bin/python3", me, "--torch-train", path, "64", "30", p] for p in ("fp32", "bf16")})
        got = alternate(cmds, r"images_per_s=([0-9.]+)", env)
        med = {k: statistics.median(v) for k, v in got.items()}
        row = (m, med["fp32"], med["bf16"], med["torch-fp32"], med["torch-bf16"], ratio(got, "bf16", "fp32"),
               ratio(got, "bf16", "torch-bf16"), ratio(got, "fp32", "torch-fp32"))
        train_rows.append(row)
        print(f"train {m}: " + ", ".join(f"{k} {v:,.0f} img/s" for k, v in med.items()), flush=True)

    infer_rows = []
    for name in only.split(",") if only else ("resnet50", "mobilenet_v2"):
        onnx = os.path.join(model_dir, f"{name}.onnx")
        for batch in (1, 16):
            x = os.path.join(model_dir, f"bench-{batch}.npy")
            if not os.path.exists(x):
                import numpy as np

                np.save(x, np.random.RandomState(batch).randn(batch, 3, 224, 224).astype(np.float32))
            n = str(PASSES[batch])
            cmds = {p: [fovea, "forward", onnx, "--input", x, "--output", os.devnull, "--repeat", n, "--threads", str(THREADS),
                        "--precision", p] for p in ("fp32", "bf16")}
            quantised = os.path.join(model_dir, f"{name}.q.fvm")
            if not os.path.exists(os.path.join(model_dir, "calib-y.npy")):
                import numpy as np

                calib = np.random.RandomState(7).randn(64, 224, 224, 3).astype(np.float32)
                np.save(os.path.join(model_dir, "calib-x.npy"), calib)
                np.save(os.path.join(model_dir, "calib-y.npy"), np.zeros(64, np.int64))
            if batch == 1:  # quantised by this build's fovea quantize, not a file an older one left
                run([fovea, "quantize", onnx, "--data", os.path.join(model_dir, "calib-x.npy") + "," + os.path.join(model_dir, "calib-y.npy"),
                     "--calibrate", "64", "-o", quantised], env)
            x_last = os.path.join(model_dir, f"bench-{batch}-nhwc.npy")
            if not os.path.exists(x_last):
                import numpy as np

                np.save(x_last, np.load(x).transpose(0, 2, 3, 1).copy())
            cmds["int8"] = [fovea, "forward", quantised, "--input", x_last, "--output", os.devnull, "--repeat", n, "--threads", str(THREADS)]
            cmds["ort"] = ["node", os.path.join(ROOT, "tests", "ort_run.js"), onnx, x, os.devnull, str(THREADS), n]
            cmds["torch-bf16"] = ["/usr/bin/python3", me, "--torch-infer", name, str(batch), n, x]
            got = alternate(cmds, r"(?:fovea|ort|torch)_ms ([0-9.]+)", env)
            med = {k: statistics.median(v) for k, v in got.items()}
            infer_rows.append((name, batch, med["fp32"], med["bf16"], med["int8"], med["ort"], med["torch-bf16"], ratio(got, "bf16", "ort"),
                               ratio(got, "int8", "ort"), ratio(got, "fp32", "ort"), ratio(got, "bf16", "torch-bf16")))
            print(f"infer {name} batch {batch}: " + ", ".join(f"{k} {v:.1f} ms" for k, v in med.items()), flush=True)

    acc_rows = []
    if only:
        for r in infer_rows:
            print(f"| {r[0]} | {r[1]} | {r[2]:.1f} | {r[3]:.1f} | {r[4]:.1f} | {r[5]:.1f} | {r[6]:.1f} | **{r[7]:.2f}** | **{r[8]:.2f}** | {r[9]:.2f} | "
                  f"{r[10]:.2f} |")
        return
    if os.environ.get("BENCH_ACCURACY", "1") != "0":
        for m, epochs in (("mnist-cnn", 5), ("lenet5", 10)):
            row = [m]
            for p in ("fp32", "bf16"):
                saved = os.path.join(model_dir, f"{m}-{p}.fvm")
                t0 = time.perf_counter()
                out = run([fovea, "train", os.path.join(ROOT, "models", f"{m}.fv"), "--data", "fashion-mnist", "--epochs", str(epochs),
                           "--schedule", "cosine", "--precision", p, "--out", saved], env)
                row += [float(re.findall(r"accuracy ([0-9.]+)%", out)[-1]), time.perf_counter() - t0]
            out = run([fovea, "quantize", os.path.join(model_dir, f"{m}-fp32.fvm"), "--data", "fashion-mnist", "--test", "-o",
                       os.path.join(model_dir, f"{m}.q.fvm")], env)
            row += [float(re.search(r"int8 ([0-9.]+)%", out).group(1)), int(re.search(r"([0-9]+) layers in int8", out).group(1))]
            acc_rows.append(row)
            print(f"accuracy {row}", flush=True)

    isa_line, conv_impl = isa(fovea, os.path.join(model_dir, "resnet50.onnx"), os.path.join(model_dir, "bench-1.npy"), env)
    lines += [f"# Reduced precision: fovea fp32, bf16 and int8, PyTorch, ONNX Runtime\n",
              f"{datetime.date.today()}, {THREADS} threads each, {REPS} alternating rounds. oneDNN reports: *{isa_line}*; "
              f"fovea's bf16 ResNet50 convolutions ran `{conv_impl}`. Written by bench/precision.sh.\n",
              "## Training, batch 64, Adam (images/s, steady state; higher is better)\n",
              "| model | fovea fp32 | fovea bf16 | PyTorch fp32 | PyTorch bf16 autocast | fovea bf16 / fp32 | fovea bf16 / PyTorch bf16 | fovea fp32 / PyTorch fp32 |",
              "|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r[0]} | {r[1]:,.0f} | {r[2]:,.0f} | {r[3]:,.0f} | {r[4]:,.0f} | {r[5]:.2f}x | **{r[6]:.2f}x** | {r[7]:.2f}x |" for r in train_rows]
    lines += ["\n## Inference (ms per batch, median; lower is better)\n",
              "| network | batch | fovea fp32 | fovea bf16 | fovea int8 | ONNX Runtime fp32 | PyTorch bf16 autocast | fovea bf16 / ORT fp32 (time) | "
              "fovea int8 / ORT fp32 | fovea fp32 / ORT fp32 | fovea bf16 / PyTorch bf16 |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r[0]} | {r[1]} | {r[2]:.1f} | {r[3]:.1f} | {r[4]:.1f} | {r[5]:.1f} | {r[6]:.1f} | **{r[7]:.2f}** | **{r[8]:.2f}** | {r[9]:.2f} | "
              f"{r[10]:.2f} |" for r in infer_rows]
    if acc_rows:
        lines += ["\n## Accuracy: Fashion-MNIST test set (`fovea train --schedule cosine`, seed 1; `fovea quantize --test`)\n",
                  "| model | fp32 | bf16 | bf16 - fp32 | int8 (fp32 model quantised) | int8 - fp32 | layers in int8 | training time fp32 / bf16 (s) |",
                  "|---|---|---|---|---|---|---|---|"]
        lines += [f"| {r[0]} | {r[1]:.2f}% | {r[3]:.2f}% | {r[3] - r[1]:+.2f} | {r[5]:.2f}% | {r[5] - r[1]:+.2f} | {r[6]} | {r[2]:.0f} / {r[4]:.0f} |"
                  for r in acc_rows]
    with open(os.path.join(ROOT, "bench", "PRECISION.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--torch-train":
        torch_train(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    elif len(sys.argv) > 1 and sys.argv[1] == "--torch-infer":
        torch_infer(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    else:
        main()
