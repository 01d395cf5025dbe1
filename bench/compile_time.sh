#!/usr/bin/env bash
# Compile time and peak memory of the ResNet-50 translation units (g++ 12, -O2), issue 2 point 6.
#   bash bench/compile_time.sh [runs]
# Compiles each TU <runs> times (default 3) and prints the median wall time and the peak RSS
# (GNU time's %M). Targets: <= 20 s and <= 2 GB per TU. The demo is two TUs (see
# examples/resnet50_demo_inference.hpp); together they are the ResNet-50 example.
# The training-step TUs of issue #11 point 7 (bench/train_step.cpp: LeNet-5 with BN, target <= 10 s;
# ResNet-50, target <= 30 s and 2 GB) are timed the same way; user CPU seconds are printed as well
# (robust when the machine is shared, wall time is not).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
cxx=${CXX:-g++}
flags="-std=c++20 -O2 -DNDEBUG -Iinclude -Iexamples"
# "<file>[:<extra flags>]"
for entry in examples/resnet50_demo.cpp examples/resnet50_demo_inference.cpp bench/resnet50_cpu.cpp \
    "bench/train_step.cpp:-DKATA_BENCH_MODEL=0" "bench/train_step.cpp:-DKATA_BENCH_MODEL=2"; do
    tu=${entry%%:*}; extra=""
    [[ $entry == *:* ]] && extra=${entry#*:}
    times=(); users=(); mems=()
    for ((i = 0; i < runs; i++)); do
        out=$( { /usr/bin/time -f "%e %U %M" "$cxx" $flags $extra -c "$tu" -o /tmp/kata_ct.o; } 2>&1 | tail -1)
        read -r t u m <<< "$out"
        times+=("$t"); users+=("$u"); mems+=("$m")
    done
    med_t=$(printf '%s\n' "${times[@]}" | sort -g | sed -n "$(( (runs + 1) / 2 ))p")
    med_u=$(printf '%s\n' "${users[@]}" | sort -g | sed -n "$(( (runs + 1) / 2 ))p")
    max_m=$(printf '%s\n' "${mems[@]}" | sort -g | tail -1)
    printf '%-32s %-22s median %6.2f s (user %6.2f s)  peak %6.0f MB  (%d runs, %s)\n' "$tu" "$extra" "$med_t" \
        "$med_u" "$((max_m / 1024))" "$runs" "$($cxx --version | head -1)"
done
rm -f /tmp/kata_ct.o
