#!/usr/bin/env bash
# bench/deploy_rss.sh -- peak RSS of the ResNet-50 batch-1 deploy path, every copy kept ("keep") against
# one copy of the weights ("drop": apply_conversion(..., replaced_parameters::drop) and a frozen executor
# built with consume_parameters), issue #17 point 4. Interleaved A B B A ... in one invocation; each
# run is its own process; reports the median of the in-process VmHWM and of /usr/bin/time's maxRSS.
#
#     bash bench/deploy_rss.sh [BUILD_DIR] [ROUNDS]     (BUILD_DIR has bench/resnet50_deploy_rss built)
set -euo pipefail
build=${1:-build}
rounds=${2:-5}
exe="$build/bench/resnet50_deploy_rss"
work="$build/bench/deploy_rss"
mkdir -p "$work"
[ -f "$work/resnet50.npz" ] || "$exe" save "$work/resnet50.npz"
: > "$work/runs.txt"
for r in $(seq 1 "$rounds"); do
    if (( r % 2 )); then order="keep drop"; else order="drop keep"; fi
    for m in $order; do
        /usr/bin/time -f "MAXRSS_KB %M" "$exe" "$m" "$work/resnet50.npz" > "$work/$m.$r.out" 2> "$work/$m.$r.err"
        echo "$m $(awk '/^PEAK_KB/ {print $2}' "$work/$m.$r.out") $(awk '/^MAXRSS_KB/ {print $2}' "$work/$m.$r.err") $(awk '/^logits/ {print $3, $4, $6}' "$work/$m.$r.out")" >> "$work/runs.txt"
    done
done
cat "$work/keep.1.out" "$work/drop.1.out"
python3 - "$work/runs.txt" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
res = {}
for m, hwm, maxrss, *logits in rows:
    res.setdefault(m, []).append((int(hwm) / 1024, int(maxrss) / 1024, tuple(logits)))
for m in ("keep", "drop"):
    v = res[m]
    print(f"{m}: peak RSS median {statistics.median(x[0] for x in v):.1f} MiB (VmHWM), "
          f"{statistics.median(x[1] for x in v):.1f} MiB (time maxRSS), runs {len(v)}, "
          f"range {min(x[0] for x in v):.1f}-{max(x[0] for x in v):.1f}")
k = statistics.median(x[0] for x in res["keep"]); d = statistics.median(x[0] for x in res["drop"])
print(f"drop / keep = {d / k:.3f}")
same = len({x[2] for x in res["keep"] + res["drop"]}) == 1
print("logits identical in every run:", same)
PY
