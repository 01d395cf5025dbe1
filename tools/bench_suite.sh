#!/usr/bin/env bash
# kata's benchmark suite (issue #17): bash tools/bench_suite.sh [rounds]
#
# One command sets up and runs everything (nothing of it is a test; tools/test.sh never runs it):
#   1. Debian packages: kata's build dependencies, Debian's PyTorch 1.13 (python3-torch, ~1 GiB the first
#      time; waits while another apt/dpkg process runs);
#   2. a virtual environment $BUILD/suite-venv (python3 on PATH, a pyenv 3.11) with the pinned
#      onnxruntime and OpenVINO of bench/suite_requirements.txt from PyPI;
#   3. bench/suite_export.py under /usr/bin/python3: fixed random weights for ResNet-50, a MobileNetV2-like
#      network, LeNet-5 and a ResNeXt-style grouped/dilated stack, exported to ONNX (opset 13), to kata's
#      parameter names (.npz), with inputs and float64 reference outputs ($BUILD/suite);
#   4. builds kata's workers (bench/suite_worker.cpp: suite_<net>_b<batch>, suite_profile_*) in $BUILD
#      (Release, benchmarks on, CUDA off);
#   5. bench/suite.py: every engine in its own process, verified against the reference, interleaved
#      rounds, medians, kata / best-of(onnxruntime, OpenVINO), peak RSS; under `chrt -f 10` as root;
#      then kata's and onnxruntime's per-layer profiles of MobileNetV2-like at batch 1 and LeNet-5 at
#      batch 64 (where the time goes).
# It prints the machine, the versions and a markdown table for bench/RESULTS.md, and keeps a copy in
# $BUILD/suite/report.md.
#
# Environment: KATA_BENCH_BUILD (default build-bench), KATA_BENCH_ROWS (e.g. "lenet5:64,mobilenet_v2:1";
# default all), KATA_BENCH_RELU6=1 (MobileNetV2 with ReLU6 on every engine: needs ReLU6 in kata, see
# examples/models/mobilenet_v2.hpp), KATA_NATIVE=ON (kata's workers with -march=native).
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/deps.sh

rounds=${1:-9}
build=${KATA_BENCH_BUILD:-build-bench}
relu6=${KATA_BENCH_RELU6:-0}
venv="$build/suite-venv"
models="$build/suite"

# apt refuses to run while another apt/dpkg holds the lock, and a second install must never be started
# next to a running one: wait until none runs (the machine is shared).
wait_for_apt() {
    local waited=0
    while pgrep -x apt-get >/dev/null || pgrep -x apt >/dev/null || pgrep -x dpkg >/dev/null; do
        if ((waited % 60 == 0)); then echo "bench_suite: waiting for another apt/dpkg process to finish..."; fi
        sleep 10
        waited=$((waited + 10))
    done
}
install_packages() {
    local tries
    for tries in 1 2 3 4 5 6; do
        wait_for_apt
        if "$@"; then return 0; fi
        echo "bench_suite: package installation failed (lock taken in between?); retrying in 30 s"
        sleep 30
    done
    return 1
}
install_packages kata_install_deps
install_packages kata_install_packages python3-torch python3-numpy util-linux
kata_env

# 2. The virtual environment, rebuilt when the pinned requirements change.
if [[ ! -x "$venv/bin/python" ]] || ! cmp -s bench/suite_requirements.txt "$venv/requirements.txt"; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -r bench/suite_requirements.txt
    cp bench/suite_requirements.txt "$venv/requirements.txt"
fi

# 3. Export (again when the scripts change or the activation switch flips).
stamp="$models/export.stamp"
want="$(cat bench/suite_models.py bench/suite_export.py bench/suite.py | sha256sum | cut -c1-16) relu6=$relu6"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    rm -rf "$models"
    export_args=("$models")
    if [[ "$relu6" == 1 ]]; then export_args+=(--relu6); fi
    /usr/bin/python3 bench/suite_export.py "${export_args[@]}" 2> >(grep -v -i "warning" >&2)
    echo "$want" > "$stamp"
fi

# 4. kata's workers.
relu6_cmake=OFF
if [[ "$relu6" == 1 ]]; then relu6_cmake=ON; fi
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DKATA_BUILD_TESTS=OFF -DKATA_BUILD_EXAMPLES=OFF \
    -DKATA_BUILD_BENCH=ON -DKATA_ENABLE_CUDA=OFF -DKATA_SUITE_RELU6="$relu6_cmake" \
    -DKATA_NATIVE="${KATA_NATIVE:-OFF}" >/dev/null
targets=()
for w in resnet50_b1 resnet50_b8 mobilenet_v2_b1 lenet5_b1 lenet5_b64 resnext_dilated_b1; do targets+=("suite_$w"); done
targets+=(suite_profile_mobilenet_v2_b1 suite_profile_lenet5_b64)
cmake --build "$build" -j"$(nproc)" --target "${targets[@]}"

# 5. The comparison.
versions() {
    "$venv/bin/python" - <<'PY'
import sys, numpy, onnxruntime, openvino
print(f"onnxruntime {onnxruntime.__version__}, OpenVINO {openvino.__version__.split('-')[0]}, "
      f"numpy {numpy.__version__} (Python {sys.version.split()[0]}, PyPI); ", end="")
PY
    /usr/bin/python3 -c 'import torch; print("PyTorch", torch.__version__, "(Debian python3-torch", end=" ")' 2>/dev/null
    dpkg-query -W -f='${Version})' python3-torch
}
rt=()
if [[ $(id -u) -eq 0 ]] && command -v chrt >/dev/null; then rt=(chrt -f 10); fi
report="$models/report.md"
{
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); kata $(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo '+changes')"
    echo "machine: $(lscpu | sed -n 's/^Model name: *//p') ($(grep -o -m1 'avx512f' /proc/cpuinfo || echo 'no AVX-512')), $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "engines: kata: g++ $(g++ -dumpversion) Release, KATA_NATIVE=${KATA_NATIVE:-OFF}, OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}; $(versions)"
    echo "run: ${rt[*]:-no real-time priority (not root)}; $rounds interleaved rounds; MobileNetV2 activation: $([[ $relu6 == 1 ]] && echo ReLU6 || echo ReLU)"
    echo
    "${rt[@]}" "$venv/bin/python" bench/suite.py --bench-dir "$build/bench" --models "$models" \
        --venv-python "$venv/bin/python" --rounds "$rounds" --json "$models/results.json" ${KATA_BENCH_ROWS:+--rows "$KATA_BENCH_ROWS"}
    echo
    echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$report"

# Where the time goes in the two rows issue #17 names: kata's per-layer profile, then onnxruntime's.
for w in "mobilenet_v2 1" "lenet5 64"; do
    set -- $w
    passes=$([[ $1 == lenet5 ]] && echo 2000 || echo 200)
    echo
    echo "== kata profile: $1, batch $2 (suite_profile_$1_b$2; per layer and per kind of layer)"
    "${rt[@]}" "$build/bench/suite_profile_$1_b$2" "$models/$1/weights.npz" "$models/$1/b$2_io.npz" 1e-4 "$passes"
    echo "== onnxruntime profile: $1, batch $2"
    "${rt[@]}" "$venv/bin/python" bench/suite_engines.py onnxruntime-profile "$models/$1" "$2" "$passes"
done | tee "$models/profile.txt" |
    awk '/^==/ || /^verified/ {print} /^per kind/ || /^onnxruntime per kind/ {p = 1} p {print}
         /^wall median/ || /model_run median/ {p = 0}'
echo
echo "bench_suite: table in $report, full profiles in $models/profile.txt"
