#!/usr/bin/python3
"""Interleaved A/B timing of two kata benchmark workers (bench/resnet50_cpu.cpp protocol).

    python3 bench/ab.py WORKER_A WORKER_B [rounds] [reps]

Starts both workers, then runs rounds of A (median of reps passes), B (median of reps passes), ...
and prints the median of the per-round medians of each and the ratio B/A (< 1: B is faster).
"""
import os
import statistics
import subprocess
import sys


def worker(path):
    p = subprocess.Popen([path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready"

    def run(k):
        p.stdin.write(f"{k}\n")
        p.stdin.flush()
        return float(p.stdout.readline())
    return run


def main():
    os.environ.setdefault("OPENBLAS_CORETYPE", "SkylakeX")
    a, b = worker(sys.argv[1]), worker(sys.argv[2])
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 7
    reps = int(sys.argv[4]) if len(sys.argv) > 4 else 5
    ta, tb = [], []
    for _ in range(rounds):
        ta.append(a(reps))
        tb.append(b(reps))
    ma, mb = statistics.median(ta), statistics.median(tb)
    print(f"A {ma:.2f} ms  B {mb:.2f} ms  B/A {mb / ma:.3f}  ({rounds} interleaved rounds of {reps}, medians)"
          f"  A per round: {' '.join(f'{t:.1f}' for t in ta)}  B: {' '.join(f'{t:.1f}' for t in tb)}")


if __name__ == "__main__":
    main()
