#!/bin/sh
# npz_fuzz_smoke: builds tests/fuzz/npz_reader_fuzz.cpp with clang++ and libFuzzer, then fuzzes kata's
# .npz reader for a short time from a scratch copy of the seed corpus.
#
# Used by tests/fuzz/CMakeLists.txt when the project compiler is NOT clang (CI builds with g++):
# the fuzzer is compiled here, at test time, by invoking clang++ directly. Exit status 77 (the
# ctest SKIP_RETURN_CODE) means "skipped": no clang++, or clang++ without its fuzzer/sanitizer
# runtime (Debian: packages clang + libclang-rt-14-dev, see tools/deps.sh).
#
# usage: npz_fuzz_smoke.sh <clang++ or empty> <source.cpp> <include dirs, '|'-separated> <corpus dir>
#                          <work dir> <seconds>
set -u
CLANGXX=$1 SOURCE=$2 INCLUDES=$3 CORPUS=$4 WORK=$5 SECONDS_=$6

if [ -z "$CLANGXX" ] || ! command -v "$CLANGXX" >/dev/null 2>&1; then
    echo "SKIP: clang++ not found (install clang and libclang-rt-14-dev to run the npz fuzzer)"
    exit 77
fi
mkdir -p "$WORK" || exit 1
cd "$WORK" || exit 1

# 1. Is the libFuzzer + sanitizer runtime there?
printf '%s\n' '#include <cstddef>' '#include <cstdint>' \
    'extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t*, std::size_t) { return 0; }' > probe.cpp
if ! "$CLANGXX" -fsanitize=fuzzer,address,undefined probe.cpp -o probe >probe.log 2>&1; then
    cat probe.log
    echo "SKIP: $CLANGXX cannot link -fsanitize=fuzzer,address,undefined (missing libclang-rt-*-dev?)"
    exit 77
fi

# 2. Build the fuzzer (a real compile error is a failure, not a skip).
set --
OLDIFS=$IFS IFS='|'
for d in $INCLUDES; do [ -n "$d" ] && set -- "$@" "-I$d"; done
IFS=$OLDIFS
echo "building: $CLANGXX -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined $* $SOURCE"
"$CLANGXX" -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    "$@" "$SOURCE" -o npz_reader_fuzz || { echo "FAIL: the fuzzer does not compile"; exit 1; }

# 3. Fuzz. libFuzzer writes new inputs into the first corpus dir: use a scratch copy, never the sources.
rm -rf corpus_work && mkdir corpus_work && cp "$CORPUS"/* corpus_work/ || exit 1
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ./npz_reader_fuzz -max_total_time="$SECONDS_" -rss_limit_mb=2048 -malloc_limit_mb=512 corpus_work
