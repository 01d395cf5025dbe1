#!/usr/bin/env bash
# Installs kata's Debian 12 build dependencies if missing (quick no-op when all are present).
# Sourced by tools/test.sh and tools/demo.sh; can also be run directly.
kata_install_deps() {
    kata_install_packages g++ cmake make libboost1.81-dev xtensor-dev xtl-dev libxsimd-dev libxtensor-blas-dev \
        libopenblas-dev doctest-dev graphviz \
        clang libclang-rt-14-dev clang-format  # clang + its fuzzer runtime: ctest npz_fuzz_smoke; clang-format: ctest format_check
    # Fashion-MNIST's IDX files (31 MB): the int8 LeNet is checked on the whole test set
    # (test_embedded_int8_lenet; without the package that part reports SKIP).
    kata_install_packages dataset-fashion-mnist
    # gnuplot: tools/plot_monitor.sh draws training curves from monitor files (ctest plot_monitor SKIPs without it).
    kata_install_packages gnuplot-nox
    # Open MPI: kata::mpi and the data-parallel training test (ctest -L '^mpi$'; without it not registered).
    kata_install_packages libopenmpi-dev openmpi-bin
}

# The bare-metal Arm toolchain and QEMU for the embedded firmware tests (ctest -L embedded; without them
# those tests SKIP). Measured on the project's Debian 12 machine (2026-12-03): 412 MB downloaded, 2.55 GB
# installed (the multilib newlib + libstdc++ for every Arm core are most of it), ~100 s for download +
# unpack; a clean firmware sub-build then takes ~20 s per board and the runs < 1 s under QEMU.
kata_install_embedded_deps() {
    kata_install_packages gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm
}

# Benchmarks only (never the tests): Debian's oneDNN for bench/onednn_layers.cpp, the per-layer rate of a
# production kernel library on the shapes of kata's profiles (issue #17 point 2; 18 s to install).
kata_install_bench_deps() {
    # ocl-icd-opencl-dev: Debian's oneDNN CMake config requires OpenCL's headers (a "Recommends:" of libdnnl-dev).
    kata_install_packages libdnnl-dev ocl-icd-opencl-dev
}

# kata_install_packages <debian packages...>: installs those that are missing, in one apt-get call.
kata_install_packages() {
    local missing=() p
    for p in "$@"; do
        if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]]; then
            missing+=("$p")
        fi
    done
    if ((${#missing[@]})); then
        echo "kata: installing missing packages: ${missing[*]}"
        local sudo=""
        if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
        export DEBIAN_FRONTEND=noninteractive
        $sudo apt-get update -q
        $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
    fi
}

kata_env() {
    if [[ -x /usr/local/cuda/bin/nvcc && -z "${CUDACXX:-}" ]]; then
        export CUDACXX=/usr/local/cuda/bin/nvcc
    fi
    # OpenBLAS misdetects AVX-512 Zen CPUs as AVX2-only; force the AVX-512 kernels where available.
    if [[ -z "${OPENBLAS_CORETYPE:-}" ]] && grep -qw avx512f /proc/cpuinfo 2>/dev/null; then
        export OPENBLAS_CORETYPE=SkylakeX
    fi
}

# bash tools/deps.sh            kata's build dependencies
# bash tools/deps.sh embedded   also the bare-metal Arm toolchain and QEMU (embedded firmware tests)
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    set -euo pipefail
    kata_install_deps
    if [[ "${1:-}" == "embedded" ]]; then kata_install_embedded_deps; fi
fi
