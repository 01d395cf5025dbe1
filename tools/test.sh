#!/usr/bin/env bash
# kata's test command: bash tools/test.sh
# Installs missing Debian packages, configures build/ (Release, no benchmarks), builds, runs ctest.
# Extra arguments are passed to the cmake configure step (e.g. -DKATA_ENABLE_CUDA=OFF).
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/deps.sh
kata_install_deps
kata_env

jobs=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DKATA_BUILD_TESTS=ON -DKATA_BUILD_EXAMPLES=ON \
    -DKATA_BUILD_BENCH=OFF "$@"
cmake --build build -j"$jobs"
set +e
ctest --test-dir build --output-on-failure -j"$jobs"
status=$?
exit $status
