#!/usr/bin/env bash
# kata's test command: bash tools/test.sh
# Installs missing Debian packages, configures build/ (Release, no benchmarks), builds, runs ctest.
# Extra arguments are passed to the cmake configure step (e.g. -DKATA_ENABLE_CUDA=OFF).
# KATA_EMBEDDED=0 skips installing the bare-metal Arm toolchain and QEMU (412 MB download, 2.55 GB on
# disk, ~100 s): the Cortex-M firmware tests then report SKIP instead of running.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/deps.sh
kata_install_deps
if [[ "${KATA_EMBEDDED:-1}" != "0" ]]; then kata_install_embedded_deps; fi
kata_env

jobs=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DKATA_BUILD_TESTS=ON -DKATA_BUILD_EXAMPLES=ON \
    -DKATA_BUILD_BENCH=OFF "$@"
cmake --build build -j"$jobs"
set +e
ctest --test-dir build --output-on-failure -j"$jobs"
status=$?
exit $status
