#!/usr/bin/python3
"""ResNet-50 forward on CPU: kata against PyTorch's best setting, interleaved in one invocation.

    /usr/bin/python3 bench/resnet50_vs_torch.py build/bench [rounds]

PyTorch (Debian's 1.13): torchvision-layout ResNet-50 built in plain torch, eval mode,
torch.jit.optimize_for_inference, 2 threads. kata: bench/resnet50_cpu.cpp workers resnet50_cpu_b1 / _b8
(batch 1 and 8): by default the BN-folded NHWC graph in a frozen executor (see that file and
bench/RESULTS.md for the variants).
Each round runs A (kata, median of k passes) then B (torch, median of k passes); the report gives the
median of the per-round medians and the ratio kata/torch (< 1 means kata is faster).
"""
import os
import statistics
import subprocess
import sys
import time

import torch
import torch.nn as nn

torch.set_num_threads(2)


class Bottleneck(nn.Module):
    def __init__(self, cin, planes, stride):
        super().__init__()
        self.c1, self.b1 = nn.Conv2d(cin, planes, 1, bias=False), nn.BatchNorm2d(planes)
        self.c2, self.b2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False), nn.BatchNorm2d(planes)
        self.c3, self.b3 = nn.Conv2d(planes, planes * 4, 1, bias=False), nn.BatchNorm2d(planes * 4)
        self.down = None
        if stride != 1 or cin != planes * 4:
            self.down = nn.Sequential(nn.Conv2d(cin, planes * 4, 1, stride, bias=False), nn.BatchNorm2d(planes * 4))

    def forward(self, x):
        y = torch.relu(self.b1(self.c1(x)))
        y = torch.relu(self.b2(self.c2(y)))
        y = self.b3(self.c3(y))
        return torch.relu(y + (self.down(x) if self.down is not None else x))


def resnet50():
    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for li, (planes, blocks) in enumerate([(64, 3), (128, 4), (256, 6), (512, 3)]):
        for b in range(blocks):
            layers.append(Bottleneck(cin, planes, 2 if (b == 0 and li > 0) else 1))
            cin = planes * 4
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2048, 1000)]
    return nn.Sequential(*layers).eval()


def torch_worker(batch):
    x = torch.randn(batch, 3, 224, 224)
    with torch.no_grad():
        m = torch.jit.optimize_for_inference(torch.jit.script(resnet50()))
        for _ in range(3):
            m(x)

    def run(k):
        ts = []
        with torch.no_grad():
            for _ in range(k):
                t0 = time.perf_counter()
                m(x)
                ts.append((time.perf_counter() - t0) * 1e3)
        return statistics.median(ts)
    return run


def kata_worker(path):
    p = subprocess.Popen([path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready"

    def run(k):
        p.stdin.write(f"{k}\n")
        p.stdin.flush()
        return float(p.stdout.readline())
    return run


def main():
    bench_dir = sys.argv[1] if len(sys.argv) > 1 else "build/bench"
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    os.environ.setdefault("OPENBLAS_CORETYPE", "SkylakeX")
    for batch, k in ((1, 5), (8, 2)):
        a = kata_worker(os.path.join(bench_dir, f"resnet50_cpu_b{batch}"))
        b = torch_worker(batch)
        ka, tb = [], []
        for _ in range(rounds):
            ka.append(a(k))
            tb.append(b(k))
        mk, mt = statistics.median(ka), statistics.median(tb)
        print(f"batch {batch}: kata {mk:.2f} ms  torch(jit optimize_for_inference) {mt:.2f} ms  "
              f"ratio kata/torch {mk / mt:.2f}  ({rounds} interleaved rounds, medians)")


if __name__ == "__main__":
    main()
