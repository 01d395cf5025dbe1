#!/usr/bin/env bash
# Compile time and peak memory of the ResNet-50 translation units (g++ 12, -O2), issue 2 point 6.
#   bash bench/compile_time.sh [runs]
# Compiles each TU <runs> times (default 3) and prints the median wall time and the peak RSS
# (GNU time's %M). Targets: <= 20 s and <= 2 GB per TU. The demo is two TUs (see
# examples/resnet50_demo_inference.hpp); together they are the ResNet-50 example.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
cxx=${CXX:-g++}
flags="-std=c++20 -O2 -DNDEBUG -Iinclude -Iexamples"
for tu in examples/resnet50_demo.cpp examples/resnet50_demo_inference.cpp bench/resnet50_cpu.cpp; do
    times=(); mems=()
    for ((i = 0; i < runs; i++)); do
        out=$( { /usr/bin/time -f "%e %M" "$cxx" $flags -c "$tu" -o /tmp/kata_ct.o; } 2>&1 | tail -1)
        times+=("${out% *}"); mems+=("${out#* }")
    done
    med_t=$(printf '%s\n' "${times[@]}" | sort -g | sed -n "$(( (runs + 1) / 2 ))p")
    max_m=$(printf '%s\n' "${mems[@]}" | sort -g | tail -1)
    printf '%-32s median %6.2f s  peak %6.0f MB  (%d runs, %s)\n' "$tu" "$med_t" "$((max_m / 1024))" "$runs" "$($cxx --version | head -1)"
done
rm -f /tmp/kata_ct.o
