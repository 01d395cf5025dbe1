#!/usr/bin/env bash
# Training curves from nnabla/kata monitor files, drawn by gnuplot (Debian: gnuplot-nox; tools/deps.sh).
#
#   bash tools/plot_monitor.sh [-o curves.png|curves.svg] [-t title] [--logy] <monitor dir | *.series.txt | *.timer.txt>...
#
# A directory stands for all its *.series.txt files. Each file becomes one line, titled by its name
# ("Training-loss.series.txt" -> "Training loss"). *.series.txt lines are "<iter> <value>" (MonitorSeries);
# *.timer.txt lines are "<iter> <sec since last> <iters since last> <total sec>" (MonitorTimeElapsed),
# plotted as seconds per iteration. The output format follows the extension of -o (.png: pngcairo, or
# gnuplot's libgd png where cairo is missing; .svg: svg). Default output: curves.png.
set -euo pipefail

out="curves.png"
title="training curves"
logy=0
files=()
while (($#)); do
    case "$1" in
    -o) out="$2"; shift 2 ;;
    -t) title="$2"; shift 2 ;;
    --logy) logy=1; shift ;;
    -h | --help) sed -n '2,10p' "$0"; exit 0 ;;
    *)
        if [[ -d "$1" ]]; then
            shopt -s nullglob
            found=("$1"/*.series.txt)
            shopt -u nullglob
            if ((${#found[@]} == 0)); then echo "plot_monitor: no *.series.txt in $1" >&2; exit 2; fi
            files+=("${found[@]}")
        elif [[ -f "$1" ]]; then
            files+=("$1")
        else
            echo "plot_monitor: $1: no such file or directory" >&2; exit 2
        fi
        shift ;;
    esac
done
if ((${#files[@]} == 0)); then echo "usage: plot_monitor.sh [-o out.png|out.svg] [-t title] [--logy] <dir|files>..." >&2; exit 2; fi
if ! command -v gnuplot >/dev/null 2>&1; then
    echo "plot_monitor: gnuplot not found (apt-get install gnuplot-nox, or bash tools/deps.sh)" >&2
    exit 3
fi

case "$out" in
*.svg) terminal="set terminal svg size 900,540 dynamic enhanced font 'sans,11'" ;;
*.png)
    if gnuplot -e "set terminal" 2>&1 | grep -q pngcairo; then
        terminal="set terminal pngcairo size 900,540 enhanced font 'sans,10'"
    else
        terminal="set terminal png size 900,540"
    fi ;;
*) echo "plot_monitor: -o must end in .png or .svg: $out" >&2; exit 2 ;;
esac

# gnuplot string literal: single quotes doubled.
quote() { printf "'%s'" "${1//\'/\'\'}"; }

plots=()
for f in "${files[@]}"; do
    base=$(basename "$f")
    case "$base" in
    *.series.txt) name=${base%.series.txt}; using="using 1:2" ;;
    *.timer.txt) name="${base%.timer.txt} [s/iter]"; using="using 1:(\$2/\$3)" ;;
    *) echo "plot_monitor: $f: not a .series.txt or .timer.txt file" >&2; exit 2 ;;
    esac
    plots+=("$(quote "$f") $using with lines lw 2 title $(quote "${name//-/ }")")
done

# Written to a temporary file in the same directory and renamed: a reader never sees half a plot.
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
script="$terminal
set output $(quote "$tmp")
set title $(quote "$title") noenhanced
set xlabel 'iteration'
set grid
set key outside right top noenhanced
set datafile commentschars '#'
"
((logy)) && script+="set logscale y
"
script+="plot $(IFS=,; echo "${plots[*]}")
"
printf '%s' "$script" | gnuplot
mv -f "$tmp" "$out"
echo "plot_monitor: wrote $out"
