#!/usr/bin/env bash
# How compile time grows with the graph (issue 16): compiles chain-50/100/200/400 and ResNet-50/101/152
# (examples/models/chain.hpp, resnet.hpp) at four cumulative stages, one small generated translation
# unit each, and prints wall time, user CPU time and peak RSS per stage, then the exponent k of
# time ~ nodes^k fitted over chain-50 .. chain-400 (least squares on log-log).
#
#   bash bench/compile_scaling.sh [-n nets] [-s stages] [-r runs] [-I kata_include_dir] [-t timeout_s]
#
#   stages   lift      kata::network<...> (the graph lifted into a type)
#            convert   + kata::convert<Net, BatchNormalizationFoldingModifier{}, ChannelLastModifier{}>
#            live      + kata::cpu::executor<converted> instantiated (constructor and call)
#            frozen    + kata::cpu::frozen_executor<converted> instantiated as well
#   nets     headers,chain-50,chain-100,chain-200,chain-400,resnet-50,resnet-101,resnet-152 (default:
#            all); `headers` is the same TUs without a network (what including the headers costs)
#   runs     compiles per cell (default 1); the medians are printed
#   -I       kata's include directory (default: this checkout's), e.g. an older checkout's, to compare
#            before/after with the same generated TUs and models
#   -t       per-compile time limit in seconds (default 1200)
# Environment: CXX (default g++), KATA_SCALING_FLAGS (extra flags appended, e.g.
# -fconstexpr-ops-limit=68719476736 to see the times past g++'s default limit).
#
# Flags: what a user gets from find_package(kata) plus -O2: -std=gnu++20 -pthread and the include
# directories (kata's interface adds no g++ option; in particular no constexpr limit), -DNDEBUG.
# A compile that fails prints FAIL and the reason (g++'s constexpr operation limit, ...), not a number;
# its diagnostics are kept in /tmp/kata_scaling_<net>-<stage>.log.
# Compiles run one at a time (the machine is shared); user CPU time is less sensitive to other load
# than wall time, so both are printed. Needs GNU time (/usr/bin/time, Debian package `time`).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

nets="headers,chain-50,chain-100,chain-200,chain-400,resnet-50,resnet-101,resnet-152"
stages="lift,convert,live,frozen"
runs=1
kata_inc="$repo/include"
limit=1200
while getopts "n:s:r:I:t:" opt; do
    case $opt in
    n) nets=$OPTARG ;;
    s) stages=$OPTARG ;;
    r) runs=$OPTARG ;;
    I) kata_inc=$(cd "$OPTARG" && pwd) ;;
    t) limit=$OPTARG ;;
    *) sed -n '2,24p' "$0"; exit 2 ;;
    esac
done
cxx=${CXX:-g++}
[[ -x /usr/bin/time ]] || { echo "compile_scaling.sh: needs GNU time (apt-get install time)" >&2; exit 1; }
flags="-std=gnu++20 -O2 -DNDEBUG -pthread -I$kata_inc -I$repo/examples ${KATA_SCALING_FLAGS:-}"
work=$(mktemp -d /tmp/kata_scaling.XXXXXX)
trap 'rm -rf "$work"' EXIT

source "$repo/bench/compile_tu.sh"
net_info() { kata_tu_net_info "$1"; }
write_tu() { kata_write_tu "$1" "$2" "$kata_inc" "$work/$1-$2.cpp"; }

seconds_elapsed() {  # GNU time's "h:mm:ss" or "m:ss.ss" -> seconds
    awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s}' "$1"
}

# Compiles one TU; prints "wall user rss_mb" or "FAIL <reason>".
compile_one() {
    local tu=$1 log=$work/log.txt tv=$work/time.txt
    rm -f "$tv"
    if timeout "$limit" /usr/bin/time -v -o "$tv" $cxx $flags -c "$tu" -o "$work/out.o" > "$log" 2>&1; then
        echo "$(seconds_elapsed "$tv") $(awk -F': ' '/User time/ {print $2}' "$tv")" \
             "$(awk -F': ' '/Maximum resident set size/ {printf "%d", $2 / 1024}' "$tv")"
        return
    fi
    local why="error"
    if grep -q "evaluation operation count exceeds limit" "$log"; then why="g++ constexpr ops limit"
    elif grep -q "constexpr loop iteration count exceeds" "$log"; then why="g++ constexpr loop limit"
    elif grep -q "maximum step limit\|exceeded maximum number of steps" "$log"; then why="clang constexpr step limit"
    elif grep -q "template instantiation depth exceeds\|recursive template instantiation exceeded" "$log"; then
        why="template depth"
    elif grep -q "memory exhausted\|Cannot allocate memory" "$log"; then why="out of memory"
    elif ! grep -q "error" "$log"; then why="killed or timed out"
    fi
    local wall=""
    [[ -s $tv ]] && wall=$(seconds_elapsed "$tv")
    echo "FAIL $why after ${wall:-$limit} s"
    cp "$log" "/tmp/kata_scaling_$(basename "$tu" .cpp).log" 2>/dev/null || true
}

median() { sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

IFS=, read -r -a net_list <<< "$nets"
IFS=, read -r -a stage_list <<< "$stages"
echo "# compile_scaling.sh $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -n), $(nproc) cores," \
     "$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $($cxx --version | head -1); flags: $flags; runs per cell: $runs"
declare -A cell
for net in "${net_list[@]}"; do
    for stage in "${stage_list[@]}"; do
        write_tu "$net" "$stage"
        walls=(); users=(); rsss=(); fail=""
        for ((r = 0; r < runs; r++)); do
            res=$(compile_one "$work/$net-$stage.cpp")
            if [[ $res == FAIL* ]]; then fail=${res#FAIL }; break; fi
            read -r w u m <<< "$res"
            walls+=("$w"); users+=("$u"); rsss+=("$m")
        done
        if [[ -n $fail ]]; then
            cell[$net,$stage]="FAIL ($fail)"
            printf '%-11s %-8s FAIL: %s\n' "$net" "$stage" "$fail"
        else
            w=$(printf '%s\n' "${walls[@]}" | median); u=$(printf '%s\n' "${users[@]}" | median)
            m=$(printf '%s\n' "${rsss[@]}" | sort -g | tail -1)
            cell[$net,$stage]="$w $u $m"
            printf '%-11s %-8s wall %7.2f s  user %7.2f s  peak %6d MB\n' "$net" "$stage" "$w" "$u" "$m"
        fi
    done
done

echo
echo "wall s / user s / peak MB per cumulative stage (lift -> + convert -> + live executor -> + frozen executor):"
echo
header="| network | nodes |"; rule="|---|---|"
for stage in "${stage_list[@]}"; do header+=" $stage |"; rule+="---|"; done
echo "$header"; echo "$rule"
for net in "${net_list[@]}"; do
    info=$(net_info "$net"); row="| $net | ${info##*|} |"
    for stage in "${stage_list[@]}"; do
        c=${cell[$net,$stage]}
        if [[ $c == FAIL* ]]; then row+=" $c |"; else read -r w u m <<< "$c"; row+=" $w / $u / $m |"; fi
    done
    echo "$row"
done

# Exponent k of t = a * nodes^k over the chain networks measured (the target needs all four), on the
# raw figures and on the figures minus the `headers` row of the same stage (what the graph costs).
echo
echo "fitted exponent k (t ~ nodes^k) over the chain networks, log-log least squares, wall / user / peak RSS"
echo "(then the same minus the headers-only TU of the stage):"
for stage in "${stage_list[@]}"; do
    pts=""; npts=0; failed=0
    base=${cell[headers,$stage]:-}
    [[ $base == FAIL* ]] && base=""
    for net in "${net_list[@]}"; do
        [[ $net == chain-* ]] || continue
        c=${cell[$net,$stage]}
        if [[ $c == FAIL* ]]; then failed=1; continue; fi
        info=$(net_info "$net")
        pts+="${info##*|} $c"$'\n'; npts=$((npts + 1))
    done
    if ((npts < 2)); then
        printf '  %-8s n/a (%d chain point(s) compiled%s)\n' "$stage" "$npts" "$( ((failed)) && echo ", the others failed")"
        continue
    fi
    printf '%s' "$pts" | awk -v stage="$stage" -v failed="$failed" -v base="$base" '
        function fit(col,   i, sx, sy, sxx, sxy) {
            sx = sy = sxx = sxy = 0
            for (i = 1; i <= n; i++) { sx += x[i]; sy += y[col, i]; sxx += x[i] * x[i]; sxy += x[i] * y[col, i] }
            return (n * sxy - sx * sy) / (n * sxx - sx * sx)
        }
        function lg(v) { return log(v > 0.01 ? v : 0.01) }
        BEGIN { nb = split(base, b, " ") }
        {
            n++; x[n] = log($1)
            for (c = 1; c <= 3; c++) { y[c, n] = lg($(c + 1)); y[c + 3, n] = lg($(c + 1) - (nb == 3 ? b[c] : 0)) }
        }
        END {
            printf "  %-8s %.2f / %.2f / %.2f", stage, fit(1), fit(2), fit(3)
            if (nb == 3) printf "   net of headers: %.2f / %.2f / %.2f", fit(4), fit(5), fit(6)
            printf "  (%d points%s)\n", n, failed ? ", some failed" : ""
        }'
done
