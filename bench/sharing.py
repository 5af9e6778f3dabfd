#!/usr/bin/python3
"""A fair share of the CPU: fovea's 2-thread time against its 1-thread time while 0, 1 or 2 busy
loops hold the machine's cores, with fovea's spin-then-sleep policy (its default, tools/fovea.c)
and with libgomp's default (GOMP_SPINCOUNT=300000, what fovea ran before), next to ONNX Runtime's
2-thread/1-thread ratio in the same run. Writes bench/SHARING.md.

usage: bench/sharing.sh
       /usr/bin/python3 bench/sharing.py FOVEA MODEL_DIR ORT_DIR

Work: mobilenet_v2 and resnet50 at batch 1 (`fovea forward ... --repeat`, median ms) and a class
dream of mnist-cnn (`fovea dream`, 100 steps, wall time). Each measurement is its own process;
within a load the runs alternate for BENCH_REPS rounds (default 3); the table gives medians.
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


def timed(cmd, env):
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = (time.perf_counter() - t0) * 1e3
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {r.stderr[-500:]}")
    m = re.search(r"(?:fovea|ort)_ms ([0-9.]+)", r.stdout)
    return float(m.group(1)) if m else wall


def main():
    fovea, model_dir, ort_dir = sys.argv[1:4]
    base = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OMP_NUM_THREADS")}
    base["NODE_PATH"] = os.path.join(ort_dir, "node_modules")
    x = os.path.join(model_dir, "bench-1.npy")
    work = {}
    for name, repeat in (("mobilenet_v2", 20), ("resnet50", 5)):
        onnx = os.path.join(model_dir, f"{name}.onnx")
        work[f"{name} batch 1"] = {
            "fovea": lambda t, onnx=onnx, repeat=repeat: [fovea, "forward", onnx, "--input", x, "--output", os.devnull, "--repeat", str(repeat),
                                                         "--threads", str(t)],
            "ort": lambda t, onnx=onnx, repeat=repeat: ["node", os.path.join(ROOT, "tests", "ort_run.js"), onnx, x, os.devnull, str(t), str(repeat)],
        }
    work["dream, mnist-cnn, 100 steps"] = {
        "fovea": lambda t: [fovea, "dream", os.path.join(ROOT, "models", "mnist-cnn.fv"), "--class", "3", "--steps", "100", "-o",
                            os.path.join(model_dir, "dream.png"), "--threads", str(t)],
    }
    rows = []
    for busy in (0, 1, 2):
        loops = [subprocess.Popen(["/bin/sh", "-c", "while :; do :; done"]) for _ in range(busy)]
        try:
            for what, runners in work.items():
                got = {}
                for _ in range(REPS):
                    for policy, env in (("fair", base), ("spin", dict(base, GOMP_SPINCOUNT="300000"))):
                        for t in (1, 2):
                            got.setdefault(("fovea", policy, t), []).append(timed(runners["fovea"](t), env))
                    if "ort" in runners:
                        for t in (1, 2):
                            got.setdefault(("ort", "", t), []).append(timed(runners["ort"](t), base))
                med = {k: statistics.median(v) for k, v in got.items()}
                ort = (med[("ort", "", 2)], med[("ort", "", 1)]) if ("ort", "", 1) in med else None
                rows.append((busy, what, med[("fovea", "fair", 1)], med[("fovea", "fair", 2)], med[("fovea", "spin", 2)], ort))
                print(rows[-1], flush=True)
        finally:
            for p in loops:
                p.kill()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "")
    lines = ["# A fair share of the CPU: 2 threads against 1 beside busy programs\n",
             f"{datetime.date.today()}, {cpu}, {os.cpu_count()} cores; {REPS} alternating rounds, medians (ms). Busy loops: "
             "`sh -c 'while :; do :; done'`, one per core taken. *fair*: fovea as it runs (threads spin 1,000 rounds, then sleep); "
             "*spin*: libgomp's default (GOMP_SPINCOUNT=300000), what fovea ran before. Written by bench/sharing.sh.\n",
             "| busy loops | work | fovea 1 thread | fovea 2 threads | 2 / 1 | fovea 2 threads, libgomp's default spin | 2 / 1 | ORT 2 / 1 threads (ms) | ORT 2 / 1 |",
             "|---|---|---|---|---|---|---|---|---|"]
    for busy, what, t1, t2, spin2, ort in rows:
        o = f"{ort[0]:.1f} / {ort[1]:.1f} | {ort[0] / ort[1]:.2f}" if ort else "| "
        lines.append(f"| {busy} | {what} | {t1:.1f} | {t2:.1f} | **{t2 / t1:.2f}** | {spin2:.1f} | {spin2 / t1:.2f} | {o} |")
    with open(os.path.join(ROOT, "bench", "SHARING.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
