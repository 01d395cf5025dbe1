#!/usr/bin/env bash
# bench/deploy_rss.sh -- peak RSS of the ResNet-50 batch-1 deploy path (issue #17 point 4): every copy
# kept ("keep") against one copy of the weights ("drop": apply_conversion(..., replaced_parameters::drop)
# and a frozen executor built with consume_parameters); optionally also a baseline binary built from
# an older include/ with -DKATA_DEPLOY_RSS_BASELINE ("base", keep path only). Interleaved in one
# invocation (the order rotates every round); each run is its own process; reports medians of the
# in-process VmHWM and of /usr/bin/time's maximum resident set size, and checks that every run printed
# the same logits.
#
#     bash bench/deploy_rss.sh [BUILD_DIR] [ROUNDS] [BASELINE_EXE]
set -euo pipefail
build=${1:-build}
rounds=${2:-5}
baseline=${3:-}
exe="$build/bench/resnet50_deploy_rss"
work="$build/bench/deploy_rss"
mkdir -p "$work"
[ -f "$work/resnet50.npz" ] || "$exe" save "$work/resnet50.npz"
runs=("keep:$exe:keep" "drop:$exe:drop")
[ -n "$baseline" ] && runs+=("base:$baseline:keep")
: > "$work/runs.txt"
for r in $(seq 1 "$rounds"); do
    n=${#runs[@]}
    for i in $(seq 0 $((n - 1))); do
        IFS=: read -r label bin mode <<< "${runs[$(((i + r) % n))]}"
        out="$work/$label.$r"
        /usr/bin/time -f "MAXRSS_KB %M" "$bin" "$mode" "$work/resnet50.npz" > "$out.out" 2> "$out.err"
        echo "$label $(awk '/^PEAK_KB/ {print $2}' "$out.out") $(awk '/^MAXRSS_KB/ {print $2}' "$out.err")" \
             "$(awk '/^logits/ {print $3, $4, $6}' "$out.out")" >> "$work/runs.txt"
    done
done
for s in "${runs[@]}"; do echo "== ${s%%:*} (round 1)"; cat "$work/${s%%:*}.1.out"; done
python3 - "$work/runs.txt" <<'PY'
import statistics, sys
res = {}
for line in open(sys.argv[1]):
    f = line.split()
    if f:
        res.setdefault(f[0], []).append((int(f[1]) / 1024, int(f[2]) / 1024, tuple(f[3:])))
for m, v in res.items():
    print(f"{m}: peak RSS median {statistics.median(x[0] for x in v):.1f} MiB (VmHWM; range "
          f"{min(x[0] for x in v):.1f}-{max(x[0] for x in v):.1f}), {statistics.median(x[1] for x in v):.1f} MiB "
          f"(time's maxRSS), {len(v)} runs")
med = {m: statistics.median(x[0] for x in v) for m, v in res.items()}
for m in med:
    if m != "drop":
        print(f"drop / {m} = {med['drop'] / med[m]:.3f}")
print("logits identical in every run:", len({x[2] for v in res.values() for x in v}) == 1)
PY
