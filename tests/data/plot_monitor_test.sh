#!/usr/bin/env bash
# ctest plot_monitor: tools/plot_monitor.sh draws a generated .series.txt / .timer.txt to PNG and SVG.
# Exit 77 (ctest SKIP) when gnuplot is not installed.
#   plot_monitor_test.sh <repository root> <work dir>
set -euo pipefail
root="$1"
work="$2"
if ! command -v gnuplot >/dev/null 2>&1; then
    echo "gnuplot not installed (gnuplot-nox): skipped"
    exit 77
fi
rm -rf "$work"
mkdir -p "$work/monitor"
# A MonitorSeries-style file: "<iter> <value>" every 10 iterations, a decreasing loss.
for ((i = 9; i < 1000; i += 10)); do echo "$i $(awk -v i="$i" 'BEGIN { printf "%g", 2.3 * exp(-i / 300) + 0.1 }')"; done \
    >"$work/monitor/Training-loss.series.txt"
for ((i = 99; i < 1000; i += 100)); do echo "$i 0.$((90 - i / 25))"; done >"$work/monitor/Valid-error.series.txt"
printf '9 0.5 10 0.5\n19 0.25 10 0.75\n' >"$work/monitor/Training-time.timer.txt"

bash "$root/tools/plot_monitor.sh" -o "$work/curves.png" "$work/monitor"
bash "$root/tools/plot_monitor.sh" -o "$work/curves.svg" --logy -t "loss and time" \
    "$work/monitor/Training-loss.series.txt" "$work/monitor/Training-time.timer.txt"

fail() { echo "FAIL: $*"; exit 1; }
[[ "$(head -c 8 "$work/curves.png" | od -An -tx1 | tr -d ' \n')" == "89504e470d0a1a0a" ]] || fail "curves.png is not a PNG"
(($(stat -c %s "$work/curves.png") > 5000)) || fail "curves.png is suspiciously small"
grep -q "<svg" "$work/curves.svg" || fail "curves.svg is not SVG"
grep -q "Training loss" "$work/curves.svg" || fail "curves.svg has no 'Training loss' key"
grep -q "Training time \[s/iter\]" "$work/curves.svg" || fail "curves.svg has no timer key"
ls "$work"/*.tmp.* >/dev/null 2>&1 && fail "temporary file left behind"
# Errors: a missing input, a directory without series files.
if bash "$root/tools/plot_monitor.sh" -o "$work/x.png" "$work/absent" 2>/dev/null; then fail "missing input accepted"; fi
mkdir -p "$work/empty"
if bash "$root/tools/plot_monitor.sh" -o "$work/x.png" "$work/empty" 2>/dev/null; then fail "empty directory accepted"; fi
echo "plot_monitor: OK"
