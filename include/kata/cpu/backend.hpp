// kata/cpu/backend.hpp
//
// The CPU backend of kata's executor (kata/exec/executor.hpp): its kernels (kata/cpu/kernels/*.hpp,
// one specialisation of kata::cpu::kernel per op kind) and its once-per-executor set-up.
//
// Kernels are specialised per op_instance, split their work over kata's thread pool
// (kata/cpu/parallel.hpp), GEMMs included, and run OpenBLAS single-threaded (its threaded driver
// allocates at every call, kata/cpu/gemm.hpp). The convolutions prepare their weights at bind time in
// frozen executors (packed for the direct NHWC kernel, kernels/conv_nhwc.hpp).
#pragma once

#include <string_view>

#include "gemm.hpp"
#include "kernel.hpp"
#include "kernels.hpp"

namespace kata::cpu {

struct backend {
    template <op_kind K>
    using kernel = cpu::kernel<K>;

    static constexpr std::string_view executor_name = "kata::cpu::executor";

    // Sets OpenBLAS's (process-wide) thread count to 1 before the first forward pass.
    static void initialize() { blas::use_single_threaded_blas(); }
};

}  // namespace kata::cpu
