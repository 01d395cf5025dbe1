#!/bin/sh
# clang_smoke: compiles a source with clang++ (-fsyntax-only: every template is instantiated and every
# constant evaluated), at clang's default constant-evaluation budget (-fconstexpr-steps, 2^20 steps per
# evaluation): kata's CMake targets add no budget of their own (issue 16). Exit status 77 (ctest
# SKIP_RETURN_CODE) when no clang++.
#
# usage: clang_smoke.sh <clang++ or empty> <source.cpp> <include dirs, '|'-separated> [-D... definitions]
set -u
CLANGXX=$1 SOURCE=$2 INCLUDES=$3
shift 3
if [ -z "$CLANGXX" ] || ! command -v "$CLANGXX" >/dev/null 2>&1; then
    echo "SKIP: clang++ not found"
    exit 77
fi
DEFINES="$*"
set --
OLDIFS=$IFS IFS='|'
for d in $INCLUDES; do [ -n "$d" ] && set -- "$@" "-I$d"; done
IFS=$OLDIFS
# shellcheck disable=SC2086 # DEFINES: separate words
echo "$CLANGXX -std=c++20 -fsyntax-only $DEFINES $* $SOURCE"
# shellcheck disable=SC2086
exec "$CLANGXX" -std=c++20 -fsyntax-only $DEFINES "$@" "$SOURCE"
