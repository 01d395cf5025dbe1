#!/usr/bin/python3
"""Fashion-MNIST epoch time: kata against PyTorch 1.13 on the same network, interleaved in one invocation.

    /usr/bin/python3 bench/fashion_mnist_vs_torch.py build/bench [rounds] [reps] [steps] [batches] [threads]

The network and the training of examples/train_fashion_mnist.cpp (issue #12, point 7): LeNet with BN
(examples/models/lenet_bn_fashion.hpp), Adam lr 1e-3, batch 64, softmax cross-entropy, mean. An epoch is
937 training iterations over the shuffled 60000 images plus the evaluation of the 10000 test images
(100 batches of 100). Both engines run the two parts on the real data (Debian's dataset-fashion-mnist):
  train: a pass = `steps` iterations: next batch of the shuffled training set (bytes -> float / 255),
         zero_grad, forward, backward, Adam, the top-1 error of the batch (the trainer's bookkeeping);
         kata: bench/train_fashion_mnist_epoch train (the NaiveClassificationTrainer's Updater);
         PyTorch: eager autograd, torch.optim.Adam;
  eval:  a pass = `batches` test batches of 100, test-mode BN, top-1 count;
         PyTorch: model.eval() under torch.no_grad().
Each engine in its own process, 2 threads (torch.set_num_threads(2); KATA_NUM_THREADS=2; `threads` sets
another count: 1 compares the engines per core, which a loaded machine distorts less, since a 2-thread
pass waits for whichever of its threads the other processes delay, and PyTorch's OpenMP threads suffer
more from that than kata's pool). Rounds
alternate A B, B A, ... (bench/ab.py); per round the median of `reps` passes. The report gives the
median of the per-round medians, kata/torch (< 1: kata is faster) and the median of the per-round
ratios, and the epoch estimate 937 / steps * train + 100 / batches * eval. Target of issue #12: <= 0.8.
"""
import gzip
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ab import interleave, worker as kata_worker  # noqa: E402  (bench/ab.py: worker protocol, A B / B A rounds)

DATA = "/usr/share/datasets/fashion-mnist"
TRAIN_ITERS, TEST_BATCHES = 60000 // 64, 10000 // 100


def idx(name, offset):
    for path in (os.path.join(DATA, name + ".gz"), os.path.join(DATA, name)):
        if os.path.exists(path):
            with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
                return np.frombuffer(f.read(), np.uint8, offset=offset)
    sys.exit(f"SKIP: {name} not found in {DATA} (apt-get install dataset-fashion-mnist)")


def lenet_bn_fashion():
    return nn.Sequential(
        nn.Conv2d(1, 32, 5, padding=2), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 5), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 5 * 5, 256), nn.ReLU(), nn.Linear(256, 10))


def torch_train(steps):
    images = torch.from_numpy(idx("train-images-idx3-ubyte", 16).reshape(60000, 1, 28, 28).copy())
    labels = torch.from_numpy(idx("train-labels-idx1-ubyte", 8).astype(np.int64))
    torch.manual_seed(313)
    m = lenet_bn_fashion().train()
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    state = {"order": torch.randperm(60000), "pos": 0}

    def step():
        if state["pos"] + 64 > 60000:
            state["order"], state["pos"] = torch.randperm(60000), 0
        b = state["order"][state["pos"]:state["pos"] + 64]
        state["pos"] += 64
        x, t = images[b].float().div_(255.0), labels[b]
        opt.zero_grad()
        y = m(x)
        F.cross_entropy(y, t).backward()
        opt.step()
        return (y.argmax(1) != t).float().mean().item()
    return passes(lambda: [step() for _ in range(steps)])


def torch_eval(batches):
    images = torch.from_numpy(idx("t10k-images-idx3-ubyte", 16).reshape(10000, 1, 28, 28).copy())
    labels = torch.from_numpy(idx("t10k-labels-idx1-ubyte", 8).astype(np.int64))
    m = lenet_bn_fashion().eval()
    state = {"pos": 0}

    def batch():
        if state["pos"] + 100 > 10000:
            state["pos"] = 0
        x = images[state["pos"]:state["pos"] + 100].float().div_(255.0)
        t = labels[state["pos"]:state["pos"] + 100]
        state["pos"] += 100
        with torch.no_grad():
            return int((m(x).argmax(1) == t).sum())
    return passes(lambda: [batch() for _ in range(batches)])


def passes(one_pass):
    one_pass()  # warm

    def run(k):
        ts = []
        for _ in range(k):
            t0 = time.perf_counter()
            one_pass()
            ts.append((time.perf_counter() - t0) * 1e3)
        return statistics.median(ts)
    return run


def main():
    bench_dir = sys.argv[1] if len(sys.argv) > 1 else "build/bench"
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    reps = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    steps = int(sys.argv[4]) if len(sys.argv) > 4 else 50
    batches = int(sys.argv[5]) if len(sys.argv) > 5 else 20
    threads = int(sys.argv[6]) if len(sys.argv) > 6 else 2
    torch.set_num_threads(threads)
    os.environ["KATA_NUM_THREADS"] = str(threads)
    cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo"], capture_output=True, text=True)
    print(f"# {cpu.stdout.strip() or platform.machine()}, {os.cpu_count()} cpus, torch {torch.__version__}, "
          f"{threads} threads, {rounds} interleaved rounds of {reps} passes; load average {os.getloadavg()[0]:.1f}")
    worker = os.path.join(bench_dir, "train_fashion_mnist_epoch")
    medians = {}
    for part, count, per_epoch, torch_side in [("train", steps, TRAIN_ITERS, torch_train),
                                               ("eval", batches, TEST_BATCHES, torch_eval)]:
        a = kata_worker(f"{shlex.quote(worker)} {part} {count}")
        b = torch_side(count)
        ta, tb = interleave(a, b, rounds, reps)
        ma, mb = statistics.median(ta), statistics.median(tb)
        paired = statistics.median([x / y for x, y in zip(ta, tb)])
        medians[part] = (ma * per_epoch / count, mb * per_epoch / count)
        print(f"{part} ({count} {'iterations' if part == 'train' else 'batches'} per pass): kata {ma:.1f} ms  "
              f"torch {mb:.1f} ms  kata/torch {ma / mb:.3f} (paired median {paired:.3f})  "
              f"per round kata {' '.join(f'{t:.0f}' for t in ta)}  torch {' '.join(f'{t:.0f}' for t in tb)}")
    ka = sum(v[0] for v in medians.values()) / 1e3
    tb = sum(v[1] for v in medians.values()) / 1e3
    print(f"epoch estimate ({TRAIN_ITERS} iterations + {TEST_BATCHES} test batches): kata {ka:.1f} s  "
          f"torch {tb:.1f} s  kata/torch {ka / tb:.3f}; load average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
