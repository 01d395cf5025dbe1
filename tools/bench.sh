#!/usr/bin/env bash
# kata's benchmarks (not tests): bash tools/bench.sh [rounds]
# Installs what they need (the test dependencies, GNU time, Debian's PyTorch 1.13 for the baseline:
# ~1 GiB the first time), builds build-bench/ (Release, benchmarks on) and runs
#   1. ResNet-50 forward at batch 1 and 8, kata interleaved with PyTorch's best CPU setting
#      (bench/resnet50_vs_torch.py: medians and the kata/PyTorch ratio);
#   2. the compile time and peak memory of the ResNet-50 translation units (bench/compile_time.sh);
#   3. the benchmark suite: kata against onnxruntime, OpenVINO and PyTorch on ResNet-50, MobileNetV2-like,
#      LeNet-5 and a grouped/dilated ResNeXt-style stack (tools/bench_suite.sh: its own Python
#      environment, ONNX export, verification, interleaved medians, peak RSS).
# Record what it prints, with date and machine, in bench/RESULTS.md. Timings on shared machines are
# noisy: compare the interleaved ratios, and prefer a quiet machine (chrt -f 10 as root helps).
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/deps.sh
kata_install_deps
kata_install_packages time python3-torch python3-numpy
kata_env

rounds=${1:-7}
# CUDA off: the CPU benchmarks do not use it, and tools/bench_suite.sh configures the same build folder
# so (flipping the option between the two would reconfigure and rebuild every time).
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DKATA_BUILD_TESTS=OFF -DKATA_BUILD_EXAMPLES=OFF \
    -DKATA_BUILD_BENCH=ON -DKATA_ENABLE_CUDA=OFF
cmake --build build-bench -j"$(nproc)" --target resnet50_cpu_b1 resnet50_cpu_b8
/usr/bin/python3 bench/resnet50_vs_torch.py build-bench/bench "$rounds"
bash bench/compile_time.sh 3
bash tools/bench_suite.sh
