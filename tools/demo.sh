#!/usr/bin/env bash
# Builds and runs the ResNet-50 demo: bash tools/demo.sh [demo args...]
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/deps.sh
kata_install_deps
kata_env

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DKATA_BUILD_EXAMPLES=ON -DKATA_BUILD_BENCH=OFF
cmake --build build -j"$(nproc)" --target resnet50_demo
exec ./build/examples/resnet50_demo "$@"
