#!/bin/sh
# clang_smoke: compiles a source with clang++ (-fsyntax-only: every template is instantiated and every
# constant evaluated). Exit status 77 (ctest SKIP_RETURN_CODE) when no clang++.
#
# usage: clang_smoke.sh <clang++ or empty> <source.cpp> <include dirs, '|'-separated> [default]
#   default: compile at clang's default constant-evaluation budget (-fconstexpr-steps 2^20 per
#            evaluation) instead of the budget kata's CMake target gives clang (issue 16: ctest
#            clang_resnet152_default_steps checks that ResNet-152's whole pipeline needs no more).
set -u
CLANGXX=$1 SOURCE=$2 INCLUDES=$3 BUDGET=${4:-kata}
if [ -z "$CLANGXX" ] || ! command -v "$CLANGXX" >/dev/null 2>&1; then
    echo "SKIP: clang++ not found"
    exit 77
fi
set --
OLDIFS=$IFS IFS='|'
for d in $INCLUDES; do [ -n "$d" ] && set -- "$@" "-I$d"; done
IFS=$OLDIFS
# The same constant-evaluation budget the kata CMake target gives clang (CMakeLists.txt), unless asked
# for clang's default.
STEPS=-fconstexpr-steps=1000000000
[ "$BUDGET" = default ] && STEPS=
echo "$CLANGXX -std=c++20 -fsyntax-only $STEPS $* $SOURCE"
exec "$CLANGXX" -std=c++20 -fsyntax-only $STEPS "$@" "$SOURCE"
