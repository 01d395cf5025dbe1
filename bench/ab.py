#!/usr/bin/python3
"""Interleaved A/B timing of two kata benchmark workers (bench/resnet50_cpu.cpp protocol).

    python3 bench/ab.py WORKER_A WORKER_B [rounds] [reps]

A worker is a command line (split like a shell would, no shell features), e.g.
"env KATA_CPU_SIMD=generic build/bench/suite_lenet5_b64 W.npz IO.npz 1e-4" (bench/suite_worker.cpp's
"ready <err> <max>" greeting is accepted too).

Starts both workers, then runs rounds of A (median of reps passes) and B (median of reps passes), in the
order A B, B A, A B, ..., and prints the median of the per-round medians of each and the ratio B/A (< 1: B is faster), then the
median of the per-round ratios B/A (each round's A and B ran seconds apart, so on a machine whose load
changes from minute to minute the paired ratio is steadier than the ratio of medians) and the number of
rounds in which B was faster.
"""
import os
import shlex
import statistics
import subprocess
import sys


def worker(command):
    p = subprocess.Popen(shlex.split(command), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    greeting = p.stdout.readline().split()
    assert greeting and greeting[0] == "ready", f"{command}: {greeting}"

    def run(k):
        p.stdin.write(f"{k}\n")
        p.stdin.flush()
        return float(p.stdout.readline())
    return run


def interleave(a, b, rounds, reps):
    """Per-round medians of a and b (each a callable: reps -> median ms), in the order A B, B A, A B, ...:
    neither side always runs right after the other's caches and clocks."""
    ta, tb = [], []
    for r in range(rounds):
        if r % 2 == 0:
            ta.append(a(reps))
            tb.append(b(reps))
        else:
            tb.append(b(reps))
            ta.append(a(reps))
    return ta, tb


def main():
    # OpenBLAS misdetects AVX-512 Zen CPUs as AVX2-only; forcing SkylakeX elsewhere (Zen 1: no AVX-512)
    # makes the workers die before their greeting.
    with open("/proc/cpuinfo") as f:
        if " avx512f" in f.read():
            os.environ.setdefault("OPENBLAS_CORETYPE", "SkylakeX")
    a, b = worker(sys.argv[1]), worker(sys.argv[2])
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 7
    reps = int(sys.argv[4]) if len(sys.argv) > 4 else 5
    ta, tb = interleave(a, b, rounds, reps)
    ma, mb = statistics.median(ta), statistics.median(tb)
    print(f"A {ma:.2f} ms  B {mb:.2f} ms  B/A {mb / ma:.3f}  ({rounds} interleaved rounds of {reps}, medians)"
          f"  A per round: {' '.join(f'{t:.1f}' for t in ta)}  B: {' '.join(f'{t:.1f}' for t in tb)}")
    ratios = [y / x for x, y in zip(ta, tb)]
    print(f"paired: median of per-round B/A {statistics.median(ratios):.3f}, B faster in "
          f"{sum(r < 1 for r in ratios)} of {rounds} rounds")


if __name__ == "__main__":
    main()
