"""The benchmark suite's runner: kata against onnxruntime, OpenVINO and PyTorch, interleaved.

    python3 bench/suite.py --bench-dir build-bench/bench --models build-bench/suite \
        --venv-python build-bench/suite-venv/bin/python [--rounds 9] [--rows resnet50:1,lenet5:64]

Normally started by tools/bench_suite.sh, which prepares everything (virtual environment, export,
build) and runs this under `chrt -f 10` when it runs as root. Needs only the standard library.

Per row (network, batch) of bench/suite_export.py's ROWS:
  1. starts the four workers, each engine in its own process: kata (build-bench/bench/suite_<net>_b<B>,
     bench/suite_worker.cpp: timed in C++), onnxruntime and OpenVINO (bench/suite_engines.py under the
     virtual environment's Python) and PyTorch 1.13 (the same script under /usr/bin/python3; timed in
     Python around the call). Each worker first checks its output on the row's input against the float64
     reference (normwise relative error <= --tolerance) and exits with FAIL otherwise: the runner then
     stops with that message, because a benchmark of a wrong network is worthless;
  2. picks the repetitions per round from one warm pass of every engine (rounds of ~--round-ms for
     the slowest engine, at least 3 passes);
  3. runs --rounds rounds; in each, every engine reports the median of the round's passes. The order
     alternates: A B C D, D C B A, A B C D, ... (no engine always runs right after the same one), with a
     short pause between engines (thread pools that spin after a call go to sleep first);
  4. asks every worker for its peak resident memory (VmHWM from /proc/self/status at the end).
Reported per row: the median over rounds of each engine's round medians; kata / best-of(onnxruntime,
OpenVINO) as the ratio of those medians and as the median of the per-round ratios (each round's passes
ran seconds apart: on a machine whose load changes the paired figure is steadier); peak RSS per engine.
Prints a markdown table ready for bench/RESULTS.md.
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# The suite's rows (network, batch); bench/suite_export.py exports exactly these.
ROWS = [("resnet50", 1), ("resnet50", 8), ("mobilenet_v2", 1), ("lenet5", 1), ("lenet5", 64),
        ("resnext_dilated", 1)]
LABELS = {"resnet50": "ResNet-50", "mobilenet_v2": "MobileNetV2-like (depthwise, ReLU)", "lenet5": "LeNet-5",
          "resnext_dilated": "ResNeXt-style (groups 32, dilation 2)"}
ENGINES = ["kata", "onnxruntime", "openvino", "torch"]


class Worker:
    def __init__(self, name, argv, env):
        self.name = name
        if not os.path.exists(argv[0]):
            sys.exit(f"suite: {argv[0]} does not exist (build it first: tools/bench_suite.sh does)")
        # stderr goes to a file (read back on failure): a pipe nobody reads could fill and block the worker.
        self.stderr = tempfile.TemporaryFile(mode="w+")
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr,
                                  text=True, env=env)
        line = self.p.stdout.readline().split()
        if not line or line[0] != "ready":
            self.p.kill()
            self.p.wait()
            sys.exit(f"suite: {name} did not start ({' '.join(argv)}):\n{self.errors()}")
        self.err, self.maxabs = float(line[1]), float(line[2])

    def errors(self):
        self.stderr.seek(0)
        return self.stderr.read().strip()

    def ask(self, cmd):
        self.p.stdin.write(cmd + "\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line:
            self.p.wait()
            sys.exit(f"suite: {self.name} died:\n{self.errors()}")
        return line.split()

    def time(self, reps):
        return float(self.ask(str(reps))[0])

    def rss_kb(self):
        return [int(v) for v in self.ask("rss")]

    def close(self):
        self.p.stdin.close()
        self.p.wait()


def start(engine, net, batch, a, env):
    d = os.path.join(a.models, net)
    if engine == "kata":
        argv = [os.path.join(a.bench_dir, f"suite_{net}_b{batch}"), os.path.join(d, "weights.npz"),
                os.path.join(d, f"b{batch}_io.npz"), str(a.tolerance)]
    else:
        py = a.torch_python if engine == "torch" else a.venv_python
        argv = [py, os.path.join(HERE, "suite_engines.py"), engine, d, str(batch), str(a.tolerance)]
    return Worker(f"{engine} ({net}, batch {batch})", argv, env)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench-dir", default="build-bench/bench")
    ap.add_argument("--models", default="build-bench/suite")
    ap.add_argument("--venv-python", default="build-bench/suite-venv/bin/python")
    ap.add_argument("--torch-python", default="/usr/bin/python3")
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--round-ms", type=float, default=300)
    ap.add_argument("--tolerance", type=float, default=1e-4, help="normwise relative error vs the float64 reference")
    ap.add_argument("--rows", default="", help="comma-separated net:batch (default: all)")
    ap.add_argument("--json", default="", help="also write the raw figures here")
    a = ap.parse_args()
    rows = ROWS if not a.rows else [(r.split(":")[0], int(r.split(":")[1])) for r in a.rows.split(",")]
    env = dict(os.environ)
    with open("/proc/cpuinfo") as f:
        if "avx512f" in f.read():  # OpenBLAS takes AVX-512 Zen CPUs for AVX2-only ones
            env.setdefault("OPENBLAS_CORETYPE", "SkylakeX")

    results = []
    for net, batch in rows:
        workers = {e: start(e, net, batch, a, env) for e in ENGINES}
        warm = {e: statistics.median(w.time(1) for _ in range(3)) for e, w in workers.items()}
        reps = max(3, min(2000, math.ceil(a.round_ms / max(warm.values()))))
        per_round = {e: [] for e in ENGINES}
        for r in range(a.rounds):
            order = ENGINES if r % 2 == 0 else ENGINES[::-1]
            for e in order:
                time.sleep(0.05)
                per_round[e].append(workers[e].time(reps))
        rss = {e: w.rss_kb() for e, w in workers.items()}
        errs = {e: (w.err, w.maxabs) for e, w in workers.items()}
        for w in workers.values():
            w.close()
        med = {e: statistics.median(v) for e, v in per_round.items()}
        best = min(med["onnxruntime"], med["openvino"])
        paired = statistics.median(k / min(o, v) for k, o, v in
                                   zip(per_round["kata"], per_round["onnxruntime"], per_round["openvino"]))
        res = {"net": net, "batch": batch, "reps": reps, "rounds": a.rounds, "median_ms": med,
               "per_round_ms": per_round, "ratio": med["kata"] / best, "paired_ratio": paired,
               "peak_rss_kb": {e: v[0] for e, v in rss.items()}, "errors": errs}
        results.append(res)
        print(f"{net} b{batch} ({reps} passes x {a.rounds} rounds): "
              + "  ".join(f"{e} {med[e]:.3f} ms" for e in ENGINES)
              + f"  kata/best {res['ratio']:.2f} (paired {paired:.2f})", file=sys.stderr, flush=True)

    print("| network | batch | kata | onnxruntime | OpenVINO | PyTorch 1.13 | kata / best (paired) "
          "| peak RSS MiB: kata / ort / OV / torch |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        m, rss = r["median_ms"], r["peak_rss_kb"]
        fmt = (lambda v: f"{v:.3f}") if max(m.values()) < 1 else (lambda v: f"{v:.2f}")
        print(f"| {LABELS[r['net']]} | {r['batch']} | {fmt(m['kata'])} ms | {fmt(m['onnxruntime'])} "
              f"| {fmt(m['openvino'])} | {fmt(m['torch'])} | **{r['ratio']:.2f}** ({r['paired_ratio']:.2f}) | "
              + " / ".join(f"{rss[e] / 1024:.0f}" for e in ENGINES) + " |")
    print()
    print("Output check against the float64 reference (normwise relative error; max abs error):")
    print()
    print("| network | batch | kata | onnxruntime | OpenVINO | PyTorch |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print(f"| {LABELS[r['net']]} | {r['batch']} | "
              + " | ".join(f"{r['errors'][e][0]:.1e}; {r['errors'][e][1]:.1e}" for e in ENGINES) + " |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
