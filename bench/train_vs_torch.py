#!/usr/bin/python3
"""One training step on CPU: kata against PyTorch 1.13 on the same model, interleaved in one invocation.

    /usr/bin/python3 bench/train_vs_torch.py build/bench [rounds] [reps] [cpu1]

A step is what nnabla's Updater runs: zero_grad, forward, backward, Adam update. Models (training mode,
BatchNormalization with batch statistics, softmax cross-entropy, mean):
  LeNet-5 with BN at batch 128 (bench/train_step.cpp model 0, worker train_step_lenet_b128)
  CIFAR ResNet-20 at batch 64 (model 1, worker train_step_resnet20_b64)
PyTorch: Debian's 1.13, eager mode (autograd), torch.optim.Adam, 2 threads (the machine's cores).
Rounds alternate A B, B A, ...; the report gives the median of the per-round medians of each engine
and the ratio kata/torch (< 1: kata is faster). The target of issue #11 is kata/torch <= 0.8.
With "cpu1": both engines on one thread (KATA_NUM_THREADS=1, torch.set_num_threads(1)), timed in CPU
time instead of wall time (kata: the worker process's user + system time, /proc/<pid>/stat; torch: the
calling thread's time.thread_time()). Other processes then barely change the figures, where on a loaded
machine the 2-thread wall times mostly measure the scheduler (PyTorch's OpenMP threads wait for each
other: its step slows down several-fold under load, kata's far less); it is the work per step, not the
2-thread target itself.
"""
import os
import platform
import shlex
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ab import interleave, worker as kata_worker  # noqa: E402  (bench/ab.py: worker protocol, A B / B A rounds)

CPU1 = len(sys.argv) > 4 and sys.argv[4] == "cpu1"
torch.set_num_threads(1 if CPU1 else 2)


def lenet_bn():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(256, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


class Basic(nn.Module):
    def __init__(self, cin, maps, stride):
        super().__init__()
        self.c1, self.b1 = nn.Conv2d(cin, maps, 3, stride, 1, bias=False), nn.BatchNorm2d(maps)
        self.c2, self.b2 = nn.Conv2d(maps, maps, 3, 1, 1, bias=False), nn.BatchNorm2d(maps)
        self.short = None
        if stride != 1 or cin != maps:
            self.short = nn.Sequential(nn.Conv2d(cin, maps, 1, stride, bias=False), nn.BatchNorm2d(maps))

    def forward(self, x):
        y = F.relu(self.b1(self.c1(x)))
        y = self.b2(self.c2(y))
        return F.relu(y + (self.short(x) if self.short is not None else x))


def resnet20():
    layers = [nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()]
    cin = 16
    for s in range(3):
        for b in range(3):
            layers.append(Basic(cin, 16 << s, 2 if (b == 0 and s > 0) else 1))
            cin = 16 << s
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)]
    return nn.Sequential(*layers)


def torch_worker(model, batch, shape):
    m = model().train()
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    x = torch.randn(batch, *shape)
    t = torch.randint(0, 10, (batch,))

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(m(x), t)
        loss.backward()
        opt.step()
    for _ in range(3):
        step()

    clock = time.thread_time if CPU1 else time.perf_counter

    def run(k):
        ts = []
        for _ in range(k):
            t0 = clock()
            step()
            ts.append((clock() - t0) * 1e3)
        return statistics.median(ts)
    return run


def kata_cpu_worker(command):
    """bench/ab.py's worker, timed by the process's CPU time per step (mean over the k steps: /proc's
    clock ticks are 10 ms)."""
    import subprocess
    env = dict(os.environ, KATA_NUM_THREADS="1")
    p = subprocess.Popen(shlex.split(command), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    assert p.stdout.readline().split()[0] == "ready"
    tick = os.sysconf("SC_CLK_TCK")

    def cpu():
        f = open(f"/proc/{p.pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / tick

    def run(k):
        c0 = cpu()
        p.stdin.write(f"{k}\n")
        p.stdin.flush()
        p.stdout.readline()
        return (cpu() - c0) * 1e3 / k
    return run


def main():
    bench_dir = sys.argv[1] if len(sys.argv) > 1 else "build/bench"
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 9
    reps = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, torch {torch.__version__}, "
          f"{rounds} interleaved rounds of {reps} steps" + (", one thread each, CPU time" if CPU1 else ""))
    for name, worker, model, batch, shape in [
            ("LeNet-5 + BN, batch 128", "train_step_lenet_b128", lenet_bn, 128, (1, 28, 28)),
            ("ResNet-20 (CIFAR), batch 64", "train_step_resnet20_b64", resnet20, 64, (3, 32, 32))]:
        a = (kata_cpu_worker if CPU1 else kata_worker)(shlex.quote(os.path.join(bench_dir, worker)))
        b = torch_worker(model, batch, shape)
        ta, tb = interleave(a, b, rounds, reps)
        ma, mb = statistics.median(ta), statistics.median(tb)
        paired = statistics.median([x / y for x, y in zip(ta, tb)])
        print(f"{name}: kata {ma:.2f} ms  torch {mb:.2f} ms  kata/torch {ma / mb:.3f} "
              f"(paired median {paired:.3f})")


if __name__ == "__main__":
    main()
