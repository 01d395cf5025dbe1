#!/bin/sh
# clang_smoke: compiles tests/compat/clang_smoke.cpp with clang++ (-fsyntax-only: every template is
# instantiated and every constant evaluated). Exit status 77 (ctest SKIP_RETURN_CODE) when no clang++.
#
# usage: clang_smoke.sh <clang++ or empty> <source.cpp> <include dirs, '|'-separated>
set -u
CLANGXX=$1 SOURCE=$2 INCLUDES=$3
if [ -z "$CLANGXX" ] || ! command -v "$CLANGXX" >/dev/null 2>&1; then
    echo "SKIP: clang++ not found"
    exit 77
fi
set --
OLDIFS=$IFS IFS='|'
for d in $INCLUDES; do [ -n "$d" ] && set -- "$@" "-I$d"; done
IFS=$OLDIFS
# The same constant-evaluation budget the kata CMake target gives clang (CMakeLists.txt).
echo "$CLANGXX -std=c++20 -fsyntax-only -fconstexpr-steps=1000000000 $* $SOURCE"
exec "$CLANGXX" -std=c++20 -fsyntax-only -fconstexpr-steps=1000000000 "$@" "$SOURCE"
