#!/usr/bin/python3
"""fovea serve under load, on loopback, with wrk (Debian's).

usage: bench/serve.sh (builds fovea, fetches the models)

For each model: `fovea serve` with its defaults (a worker a core, batches of up to 32 within 2 ms);
wrk POSTs one PNG to /predict for 20 s at 1, 8 and 64 connections (2 wrk threads): requests/s, the
median and 99th-percentile latency, errors. Against it, `fovea forward`'s throughput on batches of
32 of the same model (inference plan, 2 threads), timed before the rows; at 64 connections (the goal:
at least 70% of it) alternating rounds, each against fovea forward timed just before and after it,
and the median round is the row: for mnist-cnn MNIST_ROUNDS of 5 s (its speed and the machine's
drift within seconds), for resnet18 ROUNDS of 20 s (its requests take over a second there). Then a soak at 64 connections for SOAK seconds,
sampling the server's resident memory every 10 s. Writes bench/SERVE.md.
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
ROUNDS = 3
MNIST_ROUNDS = 9
LUA = """wrk.method = "POST"
wrk.headers["Content-Type"] = "{type}"
local f = io.open("{png}", "rb")
wrk.body = f:read("*all")
f:close()
"""


def start(fovea, model, extra):
    p = subprocess.Popen([fovea, "serve", model, "--port", "0"] + extra, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = p.stdout.readline()
    m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    if not m:
        raise RuntimeError(f"fovea serve did not start: {line}{p.stdout.read()}")
    return p, int(m.group(1))


def wrk(port, name, script, connections, seconds):
    out = subprocess.run(["wrk", "-t", str(min(2, connections)), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s", "--latency", "-s", script,
                          f"http://127.0.0.1:{port}/v1/models/{name}/predict"], capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))

    def ms(label):
        m = re.search(label + r"%\s+([0-9.]+)(us|ms|s)", out)
        return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]
    errors = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non2xx = int(re.search(r"Non-2xx or 3xx responses: (\d+)", out).group(1)) if "Non-2xx" in out else 0
    return rps, ms("50"), ms("99"), errors + non2xx


def rss_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main():
    fovea, mnist, resnet, soak = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    tmp = tempfile.mkdtemp()
    subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "scripts", "fashion_samples.py"), os.path.join(tmp, "png"), "1"], check=True,
                   capture_output=True)
    png28 = sorted(os.listdir(os.path.join(tmp, "png")))[0]
    import numpy as np
    photo = os.path.join(tmp, "photo.npy")  # resnet18's input already decoded: the server without the JPEG's 10 ms
    np.save(photo, np.random.default_rng(2).random((1, 224, 224, 3), dtype=np.float32))
    models = [("mnist-cnn", mnist, os.path.join(tmp, "png", png28), [], (28, 28, 1)),
              ("resnet18", resnet, "/usr/share/darknet/data/dog.jpg", ["--imagenet"], (224, 224, 3)),
              ("resnet18, .npy", resnet, photo, ["--imagenet"], (224, 224, 3))]
    isa = next((l.split("isa:")[1].strip() for l in subprocess.run([fovea, "forward", os.path.join(ROOT, "models", "lenet5.fv"), "--batch", "1",
                "--repeat", "1"], capture_output=True, text=True, env=dict(os.environ, ONEDNN_VERBOSE="1")).stdout.splitlines() if "isa:" in l), "?")
    rows, soak_rows = [], []
    for name, path, image, extra, shape in models:
        script = os.path.join(tmp, name.replace(", ", "-") + ".lua")
        kind = "application/octet-stream" if image.endswith(".npy") else "image/jpeg" if image.endswith(".jpg") else "image/png"
        open(script, "w").write(LUA.replace("{png}", image).replace("{type}", kind))
        x = os.path.join(tmp, name.replace(", ", "-") + "-32.npy")
        arr = np.random.default_rng(1).random((32,) + shape, dtype=np.float32)
        if path.endswith(".onnx"):
            arr = np.ascontiguousarray(np.moveaxis(arr, -1, 1))
        np.save(x, arr)
        rounds_of, seconds, repeat = (MNIST_ROUNDS, 5, "25") if name == "mnist-cnn" else (ROUNDS, 20, "5")

        def batched():  # fovea forward's images/s at batch 32, 2 threads (the server idle meanwhile): the median pass
            out = subprocess.run([fovea, "forward", path, "--input", x, "--output", os.devnull, "--repeat", repeat, "--threads", "2"],
                                 capture_output=True, text=True).stdout
            return 32 / (float(re.search(r"fovea_ms ([0-9.]+)", out).group(1)) / 1e3)
        server, port = start(fovea, path, extra)
        served = os.path.basename(path).rsplit(".", 1)[0]
        try:
            wrk(port, served, script, 8, 3)  # warm up
            before = batched()
            for c in (1, 8) if not image.endswith(".npy") else ():
                rps, p50, p99, errors = wrk(port, served, script, c, 20)
                rows.append((name, c, rps, p50, p99, errors, before, ""))
            # 64 connections, the goal's row: ROUNDS rounds, each against fovea forward timed just
            # before and just after it (the machine's speed drifts within minutes); the median round
            rounds = []
            for r in range(rounds_of):
                rps, p50, p99, errors = wrk(port, served, script, 64, seconds)
                after = batched()
                rounds.append((rps / ((before + after) / 2), rps, p50, p99, errors, (before + after) / 2))
                before = after
            rounds.sort()
            ratio, rps, p50, p99, errors, base = rounds[len(rounds) // 2]
            rows.append((name, 64, rps, p50, p99, max(r[4] for r in rounds), base, ", ".join(f"{r[0]:.0%}" for r in rounds)))
            if name == "mnist-cnn" and soak > 0:
                samples = []
                proc = subprocess.Popen(["wrk", "-t", "2", "-c", "64", "-d", f"{soak}s", "-s", script,
                                         f"http://127.0.0.1:{port}/v1/models/{served}/predict"], stdout=subprocess.PIPE, text=True)
                t0 = time.time()
                while proc.poll() is None:
                    samples.append((time.time() - t0, rss_mb(server.pid)))
                    time.sleep(10)
                proc.communicate()
                soak_rows = samples
        finally:
            server.terminate()
            server.wait()
    day = datetime.date.today().isoformat()
    md = [f"# fovea serve under load\n\n{day}, written by bench/serve.sh. Machine: 2 cores (the server and wrk share them); oneDNN: *{isa}*. "
          "`fovea serve` defaults (a worker a core, batches of up to 32 within 2 ms); wrk on loopback, 2 threads, 20 s a row at 1 and 8 connections, "
          "POSTing one image to /predict (a 28 x 28 PNG for mnist-cnn, a 768 x 576 JPEG resized and cropped to 224 x 224 for resnet18, "
          "seeded weights; and for resnet18 a 224 x 224 x 3 float32 .npy, the server's work without the photo's decoding and resizing).\n",
          "| model | connections | requests/s | p50 (ms) | p99 (ms) | errors | `fovea forward` batch 32 (images/s) | served / batched |"
          " the rounds |",
          "|---|---|---|---|---|---|---|---|---|"]
    for name, c, rps, p50, p99, errors, batched, each in rows:
        md.append(f"| {name} | {c} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | {errors} | {batched:,.0f} | {rps / batched:.0%} | {each} |")
    md.append(f"\nAt 64 connections, alternating rounds ({MNIST_ROUNDS} of 5 s for mnist-cnn, {ROUNDS} of 20 s for resnet18), each against "
              "`fovea forward` timed just before and just after it "
              "(the mean of the two): the row is the median round, its errors the most of any round.")
    if soak_rows:
        first = statistics.median(r for _, r in soak_rows[1:4]) if len(soak_rows) > 4 else soak_rows[0][1]
        last = statistics.median(r for _, r in soak_rows[-3:])
        md.append(f"\n## Memory over a {soak} s soak (mnist-cnn, 64 connections)\n\nResident memory, sampled every 10 s: "
                  f"{first:.1f} MB after the first half minute, {last:.1f} MB at the end ({(last - first) / first:+.1%}); all samples: "
                  + ", ".join(f"{r:.1f}" for _, r in soak_rows) + " MB.")
    md.append("\nThe served throughput includes, per request, decoding the image (and for resnet18 resizing a 768 x 576 photo), "
              "the HTTP exchange and the JSON, on the same 2 cores as wrk itself; `fovea forward` times the network alone. "
              "The `.npy` row is the same network and batching without the photo's decoding and resizing (JPEGs decode with "
              "libjpeg-turbo and resize with PIL's bilinear algorithm, about 5 ms of a core for this photo; with stb they took 12).")
    open(os.path.join(ROOT, "bench", "SERVE.md"), "w").write("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
