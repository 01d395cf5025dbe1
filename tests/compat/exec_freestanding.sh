#!/bin/sh
# exec_freestanding: builds and runs tests/compat/exec_freestanding.cpp with -fno-exceptions -fno-rtti and
# only kata's include directory and Boost.Hana's (a directory holding Hana alone, so that nothing else of
# /usr/include is reachable), then (if arm-none-eabi-g++ is installed) compiles it for a Cortex-M4.
#
# usage: exec_freestanding.sh <c++ compiler> <source.cpp> <kata include dir> <work dir> <dir holding boost/hana.hpp>
set -eu
CXX=$1 SOURCE=$2 INCLUDE=$3 WORK=$4 HANA=$5
mkdir -p "$WORK/hana_only/boost"
ln -sfn "$HANA/boost/hana" "$WORK/hana_only/boost/hana"
ln -sfn "$HANA/boost/hana.hpp" "$WORK/hana_only/boost/hana.hpp"
INCLUDE="$INCLUDE -isystem $WORK/hana_only"
flags="-std=c++20 -O2 -fno-exceptions -fno-rtti -Wall"
echo "$CXX $flags -I$INCLUDE $SOURCE -o $WORK/exec_freestanding"
"$CXX" $flags -I$INCLUDE "$SOURCE" -o "$WORK/exec_freestanding"
"$WORK/exec_freestanding"
echo "host: built without exceptions/RTTI and ran: output matches the closed form"
if command -v arm-none-eabi-g++ >/dev/null 2>&1; then
    arm="-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16"
    echo "arm-none-eabi-g++ $flags $arm -I$INCLUDE -c $SOURCE"
    arm-none-eabi-g++ $flags $arm -I$INCLUDE -c "$SOURCE" -o "$WORK/exec_freestanding_m4.o"
    echo "Cortex-M4: compiled"
else
    echo "arm-none-eabi-g++ not found: Cortex-M4 compile skipped"
fi
