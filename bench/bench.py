#!/usr/bin/python3
"""fovea against PyTorch on the same work, in one run, alternating, and the ratios.

Run it with bench/run.sh (which builds fovea optimised first). Every measurement runs in its own
process — fovea's bench/fovea_bench and this file's --torch worker — so each has its own peak
RSS; the two alternate (fovea, torch, fovea, torch, ...) so that drift of these noisy 2-core
machines hits both alike, and the ratio reported is the median of the pairwise ratios.
Writes bench/RESULTS.md.
"""
import datetime
import gzip
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FOVEA_BENCH = os.path.join(ROOT, "build-bench", "fovea_bench")
MODELS = ["lenet5", "mnist-cnn", "smile-cnn"]
REPS = int(os.environ.get("BENCH_REPS", "5"))
# Another build's fovea_bench (an earlier commit) to time this one against, alternating: how a
# change moved the speed, on the same machine in the same run, whatever that machine's speed today.
BASELINE = os.environ.get("BENCH_BASELINE")


# ---------------------------------------------------------------------------------------------
# The PyTorch side: the same networks, built from the same model definitions.
def torch_model(path):
    import torch.nn as nn

    layers, shape, last_act = [], None, None
    for raw in open(path):
        tok = raw.split("#")[0].split()
        if not tok or tok[0] == "model":
            continue
        kind, s = tok[0], dict(t.split("=", 1) for t in tok[1:])
        act = s.get("activation")
        if kind == "input":
            shape = [int(v) for v in s["shape"].split(",")]
            if len(shape) == 3:
                shape = [shape[2], shape[0], shape[1]]  # NCHW
            continue
        if kind == "conv2d":
            k = int(s["kernel"].split(",")[0])
            pad = {"same": "same", "valid": 0}[s.get("padding", "valid")]
            layers.append(nn.Conv2d(shape[0], int(s["filters"]), k, padding=pad))
            shape = [int(s["filters"]), shape[1] - (0 if pad == "same" else k - 1), shape[2] - (0 if pad == "same" else k - 1)]
        elif kind == "maxpool2d":
            p = int(s.get("size", "2").split(",")[0])
            layers.append(nn.MaxPool2d(p, int(s.get("stride", str(p)).split(",")[0])))
            shape = [shape[0], shape[1] // p, shape[2] // p]
        elif kind == "flatten":
            layers.append(nn.Flatten())
            shape = [shape[0] * shape[1] * shape[2]]
        elif kind == "dense":
            layers.append(nn.Linear(shape[0], int(s["units"])))
            shape = [int(s["units"])]
        elif kind == "batchnorm":
            momentum = 1.0 - float(s.get("momentum", "0.99"))
            eps = float(s.get("epsilon", "0.001"))
            layers.append((nn.BatchNorm2d if len(shape) == 3 else nn.BatchNorm1d)(shape[0], eps=eps, momentum=momentum))
        elif kind == "dropout":
            layers.append(nn.Dropout(float(s["rate"])))
        else:
            raise ValueError(f"{path}: the benchmark's torch builder does not know '{kind}'")
        last_act = act
        if act == "relu":
            layers.append(nn.ReLU())
        elif act in ("softmax", "sigmoid"):
            pass  # fused into the loss, as fovea does
        elif act not in (None, "linear"):
            raise ValueError(act)
    return nn.Sequential(*layers), shape, last_act


def torch_worker(args):
    import torch

    torch.set_num_threads(2)
    torch.manual_seed(1)
    mode, path = args[0], args[1]
    model, out_shape, last_act = torch_model(path)
    with open(path) as f:
        in_shape = next([int(v) for v in l.split("shape=")[1].split()[0].split(",")] for l in f if l.startswith("input"))
    chw = [in_shape[2], in_shape[0], in_shape[1]] if len(in_shape) == 3 else in_shape
    units = out_shape[0]
    loss_fn = torch.nn.BCEWithLogitsLoss() if units == 1 else torch.nn.CrossEntropyLoss()

    def targets(n):
        return (torch.arange(n) % 2).float().reshape(n, 1) if units == 1 else torch.arange(n) % units

    rss = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    if mode == "train":
        batch, steps = int(args[2]), int(args[3])
        x, y = torch.rand(batch, *chw), targets(batch)
        opt = torch.optim.Adam(model.parameters(), 1e-3)
        model.train()
        for s in range(-5, steps):
            if s == 0:
                start = time.perf_counter()
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()
        print(f"images_per_s={batch * steps / (time.perf_counter() - start):.1f} peak_rss_mb={rss():.1f}")
    elif mode == "infer":
        batch, steps = int(args[2]), int(args[3])
        x = torch.rand(batch, *chw)
        model.eval()
        times = []
        with torch.no_grad():
            for s in range(-5, steps):
                t0 = time.perf_counter()
                model(x)
                if s >= 0:
                    times.append(1e3 * (time.perf_counter() - t0))
        ms = statistics.median(times)
        print(f"median_ms={ms:.4f} images_per_s={batch * 1e3 / ms:.1f} peak_rss_mb={rss():.1f}")
    elif mode == "accuracy":
        target, epochs = float(args[2]), int(args[3])
        data = "/usr/share/datasets/fashion-mnist"
        read = lambda name, skip: torch.frombuffer(bytearray(gzip.open(os.path.join(data, name)).read()[skip:]), dtype=torch.uint8)
        xtr = read("train-images-idx3-ubyte.gz", 16).float().div(255).reshape(-1, 1, 28, 28)
        ytr = read("train-labels-idx1-ubyte.gz", 8).long()
        xte = read("t10k-images-idx3-ubyte.gz", 16).float().div(255).reshape(-1, 1, 28, 28)
        yte = read("t10k-labels-idx1-ubyte.gz", 8).long()
        opt = torch.optim.Adam(model.parameters(), 1e-3)
        start, reached, epoch_reached, acc = time.perf_counter(), -1.0, 0, 0.0
        for epoch in range(epochs):
            model.train()
            order = torch.randperm(len(xtr))
            for k in range(len(xtr) // 64):  # the last partial batch is dropped, as fovea does
                idx = order[k * 64:(k + 1) * 64]
                opt.zero_grad()
                loss_fn(model(xtr[idx]), ytr[idx]).backward()
                opt.step()
            model.eval()
            with torch.no_grad():
                acc = sum((model(xte[i:i + 256]).argmax(1) == yte[i:i + 256]).sum().item() for i in range(0, len(xte), 256)) / len(xte)
            if acc >= target:
                reached, epoch_reached = time.perf_counter() - start, epoch + 1
                break
        print(f"seconds={reached:.1f} epochs={epoch_reached} test_accuracy={acc:.4f} peak_rss_mb={rss():.1f}")


# ---------------------------------------------------------------------------------------------
# The driver.
def run(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS="2")).stdout
    line = out.strip().splitlines()[-1]
    return {k: float(v) for k, v in (kv.split("=") for kv in line.split())}


def fovea(*args):
    return run([FOVEA_BENCH, *map(str, args)])


def torch(*args):
    return run([sys.executable, os.path.abspath(__file__), "--torch", *map(str, args)])


def paired(args, key, reps=REPS):
    """Alternates fovea and torch `reps` times; medians of each and of the pairwise ratios."""
    f, t = [], []
    for _ in range(reps):
        f.append(fovea(*args))
        t.append(torch(*args))
    fv = statistics.median(r[key] for r in f)
    tv = statistics.median(r[key] for r in t)
    ratio = statistics.median(a[key] / b[key] for a, b in zip(f, t))
    rss = (max(r["peak_rss_mb"] for r in f), max(r["peak_rss_mb"] for r in t))
    lo_f, hi_f = min(r[key] for r in f), max(r[key] for r in f)
    lo_t, hi_t = min(r[key] for r in t), max(r[key] for r in t)
    return fv, tv, ratio, rss, (lo_f, hi_f, lo_t, hi_t)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--torch":
        return torch_worker(sys.argv[2:])
    rows, notes = [], []
    model_path = lambda m: os.path.join(ROOT, "models", f"{m}.fv")

    def row(what, unit, result, better_higher=True, goal=""):
        fv, tv, ratio, rss, spread = result
        shown = ratio if better_higher else 1.0 / ratio
        num = (lambda v: f"{v:,.3f}") if unit == "ms" else (lambda v: f"{v:,.0f}")
        speed = f"{shown:.2f}x faster" if better_higher else f"{ratio:.3f}x the time ({shown:.1f}x faster)"
        rows.append((what, f"{num(fv)} {unit}", f"{num(tv)} {unit}", speed, f"{rss[0]:.0f} / {rss[1]:.0f}",
                     f"{num(spread[0])}–{num(spread[1])} / {num(spread[2])}–{num(spread[3])}", goal))
        print(rows[-1], flush=True)

    sgemm = statistics.median(fovea("sgemm", 2048)["sgemm_gflops"] for _ in range(3))
    goals = {"mnist-cnn": ">= 4.5x", "lenet5": ">= 3x", "smile-cnn": ">= 3x"}
    for m in MODELS:
        steps = 20 if m == "smile-cnn" else 60
        row(f"train {m}, batch 64, Adam", "img/s", paired(("train", model_path(m), 64, steps), "images_per_s"), goal=goals[m])
    for m in ("lenet5", "mnist-cnn"):
        row(f"infer {m}, batch 1 (latency)", "ms", paired(("infer", model_path(m), 1, 300), "median_ms"), better_higher=False, goal="<= 0.1x time")
        row(f"infer {m}, batch 256", "img/s", paired(("infer", model_path(m), 256, 20), "images_per_s"), goal=">= 5x")
    acc = paired(("accuracy", model_path("mnist-cnn"), 0.91, 10), "seconds", reps=1)
    row("mnist-cnn to 91% Fashion-MNIST test accuracy", "s", acc, better_higher=False, goal="<= 60 s and < 1/3 of torch")

    # fovea alone: what fit costs over bare training steps, and what each kind of plan needs.
    fit_pairs = []
    for _ in range(3):
        step = fovea("train", model_path("mnist-cnn"), 64, 200)["images_per_s"]
        epoch = fovea("fit", model_path("mnist-cnn"), 64)["images_per_s"]
        fit_pairs.append((epoch, step))
    fit_ratio = statistics.median(e / s for e, s in fit_pairs)
    fit_line = (f"| a real Fashion-MNIST epoch of mnist-cnn through `fv_fit` (batch 64, shuffled) | "
                f"{statistics.median(e for e, _ in fit_pairs):,.0f} img/s | steady training steps: "
                f"{statistics.median(s for _, s in fit_pairs):,.0f} img/s | **{100 * fit_ratio:.0f}%** of the step rate "
                f"(pairs: {', '.join(f'{100 * e / s:.0f}%' for e, s in fit_pairs)}) | >= 95% |")
    vgg = os.path.join(ROOT, "models", "vgg16.fv")
    planned = fovea("memory", vgg, 64)
    rss_train = fovea("memory", vgg, 8, "training")
    rss_infer = fovea("memory", vgg, 8, "inference")
    memory_lines = [
        f"| VGG16 224×224×3, batch 64: activation memory planned | training (activations + gradients) "
        f"{planned['training_mb']:,.0f} MB, inspection {planned['inspection_mb']:,.0f} MB | inference "
        f"**{planned['inference_mb']:,.0f} MB** = {planned['inference_mb'] / planned['largest_mb']:.2f}x the largest activation "
        f"({planned['largest_mb']:,.0f} MB), {100 * planned['inference_mb'] / planned['training_mb']:.0f}% of training | "
        "<= 2x largest, <= 25% of training |",
        f"| VGG16 batch 8: one forward pass, whole-process peak RSS (138 M parameters = 553 MB) | training plan "
        f"{rss_train['peak_rss_mb']:,.0f} MB | inference plan **{rss_infer['peak_rss_mb']:,.0f} MB** | |",
    ]

    baseline_lines = []
    if BASELINE:
        base_commit = subprocess.run(["git", "-C", os.path.dirname(os.path.dirname(os.path.abspath(BASELINE))), "rev-parse", "--short", "HEAD"],
                                     capture_output=True, text=True).stdout.strip() or BASELINE
        for what, args, key, higher in [
            ("train mnist-cnn, batch 64", ("train", model_path("mnist-cnn"), 64, 100), "images_per_s", True),
            ("train smile-cnn, batch 64", ("train", model_path("smile-cnn"), 64, 20), "images_per_s", True),
            ("infer mnist-cnn, batch 256", ("infer", model_path("mnist-cnn"), 256, 20), "images_per_s", True),
            ("infer mnist-cnn, batch 1 (latency)", ("infer", model_path("mnist-cnn"), 1, 300), "median_ms", False),
        ]:
            pairs = [(fovea(*args)[key], run([BASELINE, *map(str, args)])[key]) for _ in range(REPS)]
            ratio = statistics.median(a / b if higher else b / a for a, b in pairs)
            unit = " ms" if key == "median_ms" else " img/s"
            num = (lambda v: f"{v:,.3f}{unit}") if key == "median_ms" else (lambda v: f"{v:,.0f}{unit}")
            baseline_lines.append(f"| {what} | {num(statistics.median(a for a, _ in pairs))} | {num(statistics.median(b for _, b in pairs))} | "
                                  f"**{ratio:.3f}** ({', '.join(f'{(a / b if higher else b / a):.3f}' for a, b in pairs)}) |")
            print(baseline_lines[-1], flush=True)

    layer_lines = []
    for m in MODELS:
        out = subprocess.run([FOVEA_BENCH, "layers", model_path(m), "64"], check=True, capture_output=True, text=True).stdout
        for line in out.strip().splitlines():
            kv = dict(t.split("=") for t in line.split())
            layer_lines.append(f"| {m} | {kv['layer']} | {float(kv['fwd_ms']):.2f} ms, {float(kv['fwd_gflops']):.0f} GFLOP/s "
                               f"({100 * float(kv['fwd_gflops']) / sgemm:.0f}% of sgemm) | {float(kv['bwd_ms']):.2f} ms, "
                               f"{float(kv['bwd_gflops']):.0f} GFLOP/s ({100 * float(kv['bwd_gflops']) / sgemm:.0f}%) |")

    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    import torch as t

    with open(os.path.join(ROOT, "bench", "RESULTS.md"), "w") as f:
        f.write("# fovea vs PyTorch\n\n")
        f.write(f"- machine: {cpu}, {os.cpu_count()} cores; both sides use 2 threads\n")
        f.write(f"- commit {commit}, {datetime.date.today()}, PyTorch {t.__version__}, {REPS} alternating runs per row "
                "(time to accuracy: 1)\n- oneDNN sgemm peak measured in this run: "
                f"{sgemm:.0f} GFLOP/s\n\n")
        f.write("| work | fovea (median) | PyTorch (median) | fovea vs PyTorch (median of pairs) | peak RSS MB fovea / torch | range fovea / torch | goal |\n")
        f.write("|---|---|---|---|---|---|---|\n")
        for r in rows:
            f.write("| " + " | ".join(r) + " |\n")
        f.write("\n## fovea alone: the cost of fit, and plans by purpose\n\n| work | measured | against | result | goal |\n"
                "|---|---|---|---|---|\n")
        f.write("\n".join([fit_line] + memory_lines) + "\n")
        if baseline_lines:
            f.write(f"\n## This commit against commit {base_commit}, alternating ({REPS} pairs; speed ratio > 1: this commit is faster)\n\n"
                    "| work | this commit | baseline | speed ratio, median (pairs) |\n|---|---|---|---|\n")
            f.write("\n".join(baseline_lines) + "\n")
        f.write("\n## fovea's convolutions, each alone (batch 64, training: backward includes the weight gradient, "
                "and the input gradient except for the first layer)\n\n| model | layer | forward | backward |\n|---|---|---|---|\n")
        f.write("\n".join(layer_lines) + "\n")
    print(open(os.path.join(ROOT, "bench", "RESULTS.md")).read())


if __name__ == "__main__":
    main()
