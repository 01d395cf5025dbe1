#!/usr/bin/env bash
# The compile-time budgets of issue 16 point 3: g++ -O2, one translation unit each, lift + BN folding +
# channel-last + frozen executor (stage `budget` of bench/compile_tu.sh: compile_scaling.sh's `frozen`
# TU without its live-executor function), against the budgets:
#
#   ResNet-50   (442 nodes)    10 s / 1 GB
#   ResNet-152  (1,292 nodes)  20 s / 1.5 GB
#   chain-400   (3,201 nodes)  30 s / 2 GB
#
#   bash bench/compile_budgets.sh [-r runs] [-n nets] [-I include_dir] [-B include_dir_b]
#
#   -r  compiles per TU (default 3); medians of wall and user seconds, the largest peak RSS
#   -n  resnet-50,resnet-152,chain-400 (default: all three)
#   -I  kata's include directory (default: this checkout's include/)
#   -B  a second include directory: A/B pairs compiled back to back, alternating A B, B A, ... (run r
#       pairs), then the medians of each side and the median of the per-pair ratios B/A. Under load only
#       the ratio means much: say the load (printed) next to the figures.
# Flags: what find_package(kata) gives plus -O2 (-std=gnu++20 -pthread, the include directories, -DNDEBUG);
# no constexpr limit. CXX overrides g++. Wall and user CPU seconds and peak RSS come from GNU time
# (/usr/bin/time); run it un-niced (these are measurements). Issue 16's figures are wall seconds: on a
# quiet machine wall = user + the compiler's system time (page faults: ~0.5-1 s on these VMs), and both
# are judged against the budget; under load only user seconds and the B/A ratio mean much.
# KATA_BUDGET_KEEP=1 keeps the generated TUs (the directory is printed) to compile one by hand:
# g++ -std=gnu++20 -O2 -DNDEBUG -pthread -Iinclude -Iexamples -c <tu>.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

runs=3
nets="resnet-50,resnet-152,chain-400"
inc_a="$repo/include"
inc_b=""
while getopts "r:n:I:B:" opt; do
    case $opt in
    r) runs=$OPTARG ;;
    n) nets=$OPTARG ;;
    I) inc_a=$(cd "$OPTARG" && pwd) ;;
    B) inc_b=$(cd "$OPTARG" && pwd) ;;
    *) sed -n '2,22p' "$0"; exit 2 ;;
    esac
done
cxx=${CXX:-g++}
[[ -x /usr/bin/time ]] || { echo "compile_budgets.sh: needs GNU time (apt-get install time)" >&2; exit 1; }
work=$(mktemp -d /tmp/kata_budgets.XXXXXX)
if [[ -z ${KATA_BUDGET_KEEP:-} ]]; then trap 'rm -rf "$work"' EXIT; fi

source "$repo/bench/compile_tu.sh"
budget_of() {  # name -> "budget seconds|budget MB"
    case $1 in
    resnet-50) echo "10|1000" ;;
    resnet-152) echo "20|1500" ;;
    chain-400) echo "30|2000" ;;
    *) echo "compile_budgets.sh: '$1' has no budget (resnet-50, resnet-152, chain-400)" >&2; exit 2 ;;
    esac
}
# The TU is written once, against A's include directory, and compiled against A and B.
write_tu() { kata_write_tu "$1" budget "$inc_a" "$work/$1.cpp"; }

compile_one() {  # include_dir tu -> "wall_s user_s peak_mb" or "FAIL"
    local tv=$work/time.txt
    if /usr/bin/time -f "%e %U %M" -o "$tv" $cxx -std=gnu++20 -O2 -DNDEBUG -pthread -I"$1" -I"$repo/examples" \
        -c "$2" -o "$work/out.o" > "$work/log.txt" 2>&1; then
        awk '{printf "%.2f %.2f %d\n", $1, $2, $3 / 1024}' "$tv"
    else
        echo "FAIL"
        cp "$work/log.txt" "/tmp/kata_budget_$(basename "$2" .cpp).log"
    fi
}
median() { sort -g | awk '{a[NR] = $1} END {if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

echo "# compile_budgets.sh $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -n), $(nproc) cores," \
     "$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), load $(load)"
echo "# $($cxx --version | head -1); -std=gnu++20 -O2 -DNDEBUG -pthread; A = $inc_a${inc_b:+; B = $inc_b}"
[[ -n ${KATA_BUDGET_KEEP:-} ]] && echo "# TUs kept in $work"
IFS=, read -r -a net_list <<< "$nets"
summary=()
for net in "${net_list[@]}"; do
    info=$(budget_of "$net"); budget_s=${info%|*}; budget_mb=${info#*|}
    write_tu "$net"
    ua=(); ub=(); wa=(); wb=(); ratios=(); ma=0; mb=0; fail=""
    for ((r = 0; r < runs; r++)); do
        order="a"
        [[ -n $inc_b ]] && { ((r % 2 == 0)) && order="a b" || order="b a"; }
        line="$net run $((r + 1)) (load $(load)):"
        for side in $order; do
            inc=$inc_a; [[ $side == b ]] && inc=$inc_b
            res=$(compile_one "$inc" "$work/$net.cpp")
            if [[ $res == FAIL ]]; then fail="$side"; line+=" $side FAIL"; continue; fi
            read -r w u m <<< "$res"
            if [[ $side == a ]]; then
                ua+=("$u"); wa+=("$w"); ((m > ma)) && ma=$m
            else
                ub+=("$u"); wb+=("$w"); ((m > mb)) && mb=$m
            fi
            line+=" $side wall ${w} s user ${u} s ${m} MB"
        done
        if [[ -n $inc_b && -z $fail ]]; then
            ratios+=("$(awk -v a="${ua[-1]}" -v b="${ub[-1]}" 'BEGIN {printf "%.3f", b / a}')")
        fi
        echo "  $line"
    done
    verdict() {  # wall_s user_s peak_mb -> "met" / "missed"
        awk -v w="$1" -v u="$2" -v m="$3" -v bs="$budget_s" -v bm="$budget_mb" \
            'BEGIN {t = (w <= bs && u <= bs) ? "time met" : "time MISSED"; s = (m <= bm) ? "memory met" : "memory MISSED";
                    printf "%s (wall %.0f %%, user %.0f %% of %d s), %s", t, 100 * w / bs, 100 * u / bs, bs, s}'
    }
    if [[ -n $fail ]]; then
        summary+=("$net: a compile failed (diagnostics in /tmp/kata_budget_$net.log)")
        continue
    fi
    med_a=$(printf '%s\n' "${ua[@]}" | median)
    medw_a=$(printf '%s\n' "${wa[@]}" | median)
    s="$net (budget $budget_s s / $budget_mb MB): A wall $medw_a s user $med_a s / $ma MB: $(verdict "$medw_a" "$med_a" "$ma")"
    if [[ -n $inc_b ]]; then
        med_b=$(printf '%s\n' "${ub[@]}" | median)
        medw_b=$(printf '%s\n' "${wb[@]}" | median)
        med_r=$(printf '%s\n' "${ratios[@]}" | median)
        s+="; B wall $medw_b s user $med_b s / $mb MB: $(verdict "$medw_b" "$med_b" "$mb"); B/A (user) median of pairs $med_r"
    fi
    summary+=("$s")
done
echo
echo "medians of wall and user seconds, largest peak RSS (load at the end $(load)):"
printf '  %s\n' "${summary[@]}"
