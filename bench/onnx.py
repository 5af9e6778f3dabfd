#!/usr/bin/python3
"""ImageNet-class inference: fovea against PyTorch and against ONNX Runtime (npm onnxruntime-node)
on the same 2 threads, the same ONNX-exported networks and inputs, alternating, in one run.

usage: bench/onnx.sh (builds fovea, exports the networks, fetches onnxruntime-node, runs this).
       /usr/bin/python3 bench/onnx.py FOVEA MODEL_DIR ORT_DIR [NAME...]

For each network (resnet50, vgg16, mobilenet_v2; torchvision, weights=None, seeded) and batch (1,
16) each runtime runs in its own process: load, 3 warm-up passes, then R timed passes, whose
median it prints with its peak RSS. The three alternate (fovea, PyTorch, ORT, fovea, ...) for
BENCH_REPS rounds (default 3); the table gives the median of each runtime's medians and the median
of the per-round ratios. PyTorch runs the torchvision module itself (not the ONNX file), in eval
mode with torch.no_grad(). Writes bench/ONNX_RESULTS.md.
"""
import datetime
import os
import platform
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPS = int(os.environ.get("BENCH_REPS", "3"))
THREADS = 2
PASSES = {1: 20, 16: 4}


def torch_worker(name, batch, passes):
    """Runs in its own process: the torchvision network on the same input, median ms and peak RSS."""
    import resource
    import time

    import numpy as np
    import torch
    import torchvision

    torch.set_num_threads(THREADS)
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)(weights=None).eval()
    x = torch.from_numpy(np.load(sys.argv[5]))
    times = []
    with torch.no_grad():
        for _ in range(3):
            model(x)
        for _ in range(passes):
            t0 = time.perf_counter()
            model(x)
            times.append((time.perf_counter() - t0) * 1e3)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"torch_ms {statistics.median(times):.3f} rss_mb {rss:.0f}")


def run(cmd, env=None):
    """(median ms, peak RSS MB) of one runtime's process."""
    r = subprocess.run(["/usr/bin/time", "-f", "maxrss_kb %M"] + cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {r.stderr[-500:]}")
    ms = float(re.search(r"(?:fovea|torch|ort)_ms ([0-9.]+)", r.stdout).group(1))
    rss = float(re.search(r"maxrss_kb ([0-9]+)", r.stderr).group(1)) / 1024
    return ms, rss


def main():
    fovea, model_dir, ort_dir = sys.argv[1:4]
    names = sys.argv[4:] or ["resnet50", "vgg16", "mobilenet_v2"]
    env = dict(os.environ, OMP_NUM_THREADS=str(THREADS), NODE_PATH=os.path.join(ort_dir, "node_modules"))
    rows = []
    for name in names:
        onnx = os.path.join(model_dir, f"{name}.onnx")
        for batch in (1, 16):
            x = os.path.join(model_dir, f"bench-{batch}.npy")
            if not os.path.exists(x):
                import numpy as np

                np.save(x, np.random.RandomState(batch).randn(batch, 3, 224, 224).astype(np.float32))
            passes = PASSES[batch]
            cmds = {
                "fovea": [fovea, "forward", onnx, "--input", x, "--output", os.path.join(model_dir, "out-fovea.npy"),
                          "--repeat", str(passes), "--threads", str(THREADS)],
                "torch": ["/usr/bin/python3", os.path.abspath(__file__), "--torch", name, str(batch), str(passes), x],
                "ort": ["node", os.path.join(ROOT, "tests", "ort_run.js"), onnx, x, os.path.join(model_dir, "out-ort.npy"),
                        str(THREADS), str(passes)],
            }
            got = {k: [] for k in cmds}
            for _ in range(REPS):
                for k, cmd in cmds.items():
                    got[k].append(run(cmd, env))
            med = {k: statistics.median(v[0] for v in got[k]) for k in got}
            rss = {k: max(v[1] for v in got[k]) for k in got}
            vs_torch = statistics.median(f[0] / t[0] for f, t in zip(got["fovea"], got["torch"]))
            vs_ort = statistics.median(f[0] / o[0] for f, o in zip(got["fovea"], got["ort"]))
            row = (name, batch, med["fovea"], med["torch"], med["ort"], vs_torch, vs_ort, rss["fovea"], rss["torch"], rss["ort"])
            rows.append(row)
            print(f"{name} batch {batch}: fovea {med['fovea']:.1f} ms, PyTorch {med['torch']:.1f} ms, ORT {med['ort']:.1f} ms; "
                  f"fovea/PyTorch {vs_torch:.2f}, fovea/ORT {vs_ort:.2f}; peak RSS {rss['fovea']:.0f} / {rss['torch']:.0f} / "
                  f"{rss['ort']:.0f} MB", flush=True)
    with open(os.path.join(ROOT, "bench", "ONNX_RESULTS.md"), "w") as f:
        f.write(f"# ImageNet-class inference: fovea, PyTorch, ONNX Runtime\n\n"
                f"{datetime.date.today()}, {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
                f"{THREADS} threads each; {REPS} alternating rounds, each the median of {PASSES[1]} (batch 1) or "
                f"{PASSES[16]} (batch 16) passes after 3 warm-up passes. Written by bench/onnx.sh.\n\n"
                "| network | batch | fovea ms | PyTorch ms | ONNX Runtime ms | fovea / PyTorch | fovea / ORT | "
                "peak RSS fovea / PyTorch / ORT (MB) |\n|---|---|---|---|---|---|---|---|\n")
        for r in rows:
            f.write(f"| {r[0]} | {r[1]} | {r[2]:.1f} | {r[3]:.1f} | {r[4]:.1f} | {r[5]:.2f} | {r[6]:.2f} | "
                    f"{r[7]:.0f} / {r[8]:.0f} / {r[9]:.0f} |\n")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--torch":
        torch_worker(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        main()
