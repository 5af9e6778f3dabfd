#!/usr/bin/python3
"""Data-parallel training over MPI on this machine, and the scaling model for many machines.

usage: bench/distributed.sh (builds fovea with MPI, exports the networks)

1. mnist-cnn, one epoch of 12,800 Fashion-MNIST images at batch 64: 2 ranks x 1 thread
   (mpirun -np 2) against 1 process x 2 threads, alternating, whole-process time.
2. A network with ResNet50-sized gradients (an MLP of 23.2 million weights, 93 MB; little compute a
   weight, so communication shows): 10 steps on 2 ranks with the gradients summed in 2 MB buckets
   as backward goes (the default) and in one sum after backward (--bucket-mb 0), against 1 process x 2
   threads; the time each step waited for the sums.
3. The compute time of a training step on this machine (fovea forward: forward and backward,
   2 threads) of mnist-cnn (batch 64), ResNet50 and VGG16 (batch 16), and from it and the ring
   allreduce's cost the scaling efficiency predicted on 2 to 128 such machines.
Writes bench/DISTRIBUTED.md and the table between the markers in docs/DISTRIBUTED.md.
"""
import datetime
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPS = 3
MPIRUN = ["mpirun", "--allow-run-as-root", "-q", "-np", "2"]
MLP = """model mlp-93mb
input shape=28,28,1
flatten
dense units=8192 activation=relu
dense units=2048 activation=relu
dense units=10 activation=softmax
"""
GRADIENT_MB = {"mnist-cnn": 1199882 * 4 / 1e6, "resnet50": 25557032 * 4 / 1e6, "vgg16": 138357544 * 4 / 1e6}
BANDWIDTHS = [10, 25, 100]   # Gbit/s
MACHINES = [2, 8, 32, 128]
LATENCY = 30e-6              # seconds a message over TCP on Ethernet, each of a ring's 2(N-1) steps
BUCKET_MB = 25               # what each sum carries at scale (--bucket-mb 25; PyTorch DDP's default)


def run(cmd, env=None):
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {r.stderr[-800:]}")
    return r.stdout, time.perf_counter() - t0


def buckets_of(mb):
    return max(1, int(-(-mb // BUCKET_MB)))


def allreduce_seconds(mb, n, gbit):
    """Ring allreduce: 2(N-1)/N of the bytes cross each link, and 2(N-1) latencies a bucket."""
    return 2 * (n - 1) / n * mb * 8e6 / (gbit * 1e9) + 2 * (n - 1) * LATENCY * buckets_of(mb)


def overlapped_step(fwd, bwd, t, buckets):
    """Every bucket but the last (the first layers') is summed while backward goes on; the last
    starts when backward ends."""
    return fwd + max(bwd, t * (buckets - 1) / buckets) + t / buckets


def main():
    fovea, onnx_dir = sys.argv[1:3]
    env = dict(os.environ)
    env.pop("OMP_NUM_THREADS", None)
    tmp = tempfile.mkdtemp()
    subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "tests", "fashion_subset.py"), os.path.join(tmp, "data"), "12800"], check=True)
    subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "tests", "fashion_subset.py"), os.path.join(tmp, "small"), "640"], check=True)
    mlp = os.path.join(tmp, "mlp.fv")
    open(mlp, "w").write(MLP)
    isa = next((l.split("isa:")[1].strip() for l in run([fovea, "forward", os.path.join(ROOT, "models", "lenet5.fv"), "--batch", "1", "--repeat", "1"],
                                                          dict(env, ONEDNN_VERBOSE="1"))[0].splitlines() if "isa:" in l), "unknown")

    # 1. mnist-cnn: 2 ranks x 1 thread against 1 process x 2 threads
    train = [fovea, "train", os.path.join(ROOT, "models", "mnist-cnn.fv"), "--data", os.path.join(tmp, "data"), "--epochs", "1",
             "--batch", "64", "--no-test", "--seed", "1"]
    cnn = {"one": [], "two": [], "wait": []}
    for _ in range(REPS):
        cnn["one"].append(run(train + ["--threads", "2"], env)[1])
        out, s = run(MPIRUN + train, env)
        cnn["two"].append(s)
        cnn["wait"].append(float(re.search(r"\(([0-9.]+)%\) of it waiting", out).group(1)))
    one, two = statistics.median(cnn["one"]), statistics.median(cnn["two"])

    # 2. ResNet50-sized gradients: overlap or not
    step = [fovea, "train", mlp, "--data", os.path.join(tmp, "small"), "--epochs", "1", "--batch", "64", "--no-test", "--optimizer", "sgd"]
    big = {"overlap": [], "after": [], "one": []}
    for _ in range(REPS):
        for name, extra in (("overlap", []), ("after", ["--bucket-mb", "0"])):
            out, _ = run(MPIRUN + step + extra, env)
            m = re.search(r"steps took ([0-9.]+) s, ([0-9.]+) s", out)
            big[name].append((float(m.group(1)) / 10, float(m.group(2)) / 10))
        out, s = run(step + ["--threads", "2"], env)
        big["one"].append(float(re.search(r"(\d+)ms/step", out).group(1)) / 1e3)
    med = {k: (statistics.median(a for a, _ in v), statistics.median(b for _, b in v)) for k, v in big.items() if k != "one"}
    one_step = statistics.median(big["one"])
    hidden = 1 - med["overlap"][1] / med["after"][1] if med["after"][1] > 0 else 0.0

    # 3. compute per step (forward + backward, 2 threads) and the scaling model
    steps = {}
    for name, model, batch in (("mnist-cnn", os.path.join(ROOT, "models", "mnist-cnn.fv"), 64),
                               ("resnet50", os.path.join(onnx_dir, "resnet50.onnx"), 16),
                               ("vgg16", os.path.join(onnx_dir, "vgg16.onnx"), 16)):
        out, _ = run([fovea, "forward", model, "--batch", str(batch), "--repeat", "3", "--threads", "2"], env)
        m = re.search(r"forward ([0-9.]+) ms, backward ([0-9.]+) ms", out)
        steps[name] = (batch, float(m.group(1)) / 1e3, float(m.group(2)) / 1e3)

    rows = []
    for name, (batch, fwd, bwd) in steps.items():
        mb, compute = GRADIENT_MB[name], fwd + bwd
        for gbit in BANDWIDTHS:
            cells = []
            for n in MACHINES:
                t = allreduce_seconds(mb, n, gbit)
                after = compute / (compute + t)
                overlapped = compute / overlapped_step(fwd, bwd, t, buckets_of(mb))
                cells.append(f"{100 * after:.0f}% / {100 * overlapped:.0f}%")
            rows.append(f"| {name} | {mb:.1f} | {batch} | {1e3 * compute:,.0f} | {gbit} | {1e3 * allreduce_seconds(mb, 128, gbit):,.0f} | " + " | ".join(cells) + " |")
    header = ("| network | gradients (MB) | batch a machine | step compute (ms) | Gbit/s | allreduce at 128 (ms) | "
              + " | ".join(f"{n} machines" for n in MACHINES) + " |\n|" + "---|" * (6 + len(MACHINES)))
    table = header + "\n" + "\n".join(rows)
    day = datetime.date.today().isoformat()
    model_note = (f"Efficiency = compute / step time, without overlap / with the sums overlapping backward (step = forward + "
                  f"max(backward, allreduce x (B-1)/B) + allreduce / B for B buckets: the last bucket, the first layers', starts when "
                  f"backward ends); weak scaling (the batch a machine fixed). Allreduce: ring, 2(N-1)/N x bytes / bandwidth "
                  f"+ 2(N-1) x {LATENCY * 1e6:.0f} us a {BUCKET_MB} MB bucket. Step compute measured {day} on this 2-core machine "
                  f"(oneDNN: {isa}), fp32, `fovea forward` (forward + backward, 2 threads). Horovod's published figures, 512 GPUs "
                  f"(25 Gbit/s RoCE): 90% for ResNet-101, 68% for VGG-16.")

    md = f"""# Data-parallel training: fovea over MPI

{day}, written by bench/distributed.sh. Machine: 2 cores; oneDNN: *{isa}*. {REPS} alternating rounds, medians.

## 2 ranks x 1 thread against 1 process x 2 threads (one machine, loopback)

| work | 1 process x 2 threads | 2 ranks x 1 thread (mpirun -np 2) | 2 ranks / 1 process (time) | steps' time waiting for sums (2 ranks) |
|---|---|---|---|---|
| mnist-cnn, one epoch of 12,800 images, batch 64 (whole process, s) | {one:.2f} | {two:.2f} | {two / one:.2f}x | {statistics.median(cnn['wait']):.0f}% |
| 93 MB of gradients (ResNet50-sized MLP), a step at batch 64 (ms) | {1e3 * one_step:.0f} | {1e3 * med['overlap'][0]:.0f} (2 MB buckets, overlapping backward) / {1e3 * med['after'][0]:.0f} (one sum after backward) | {med['overlap'][0] / one_step:.2f}x / {med['after'][0] / one_step:.2f}x | {100 * med['overlap'][1] / med['overlap'][0]:.0f}% / {100 * med['after'][1] / med['after'][0]:.0f}% |

The overlap hid {100 * hidden:.0f}% of the waiting for the 93 MB sums ({1e3 * med['after'][1]:.0f} ms a step waited with one sum after
backward, {1e3 * med['overlap'][1]:.0f} ms with buckets summed as backward finished their layers).

## The scaling model

{model_note}

<!-- scaling table -->
{table}
<!-- end scaling table -->
"""
    open(os.path.join(ROOT, "bench", "DISTRIBUTED.md"), "w").write(md)
    doc = os.path.join(ROOT, "docs", "DISTRIBUTED.md")
    text = open(doc).read()
    text = re.sub(r"<!-- scaling table -->.*<!-- end scaling table -->", lambda _: f"<!-- scaling table -->\n{model_note}\n\n{table}\n<!-- end scaling table -->",
                  text, flags=re.S)
    open(doc, "w").write(text)
    print(md)


if __name__ == "__main__":
    main()
