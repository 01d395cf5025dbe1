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

    // The dtypes the kernels run (kata/exec/executor.hpp, checks_dtypes): float32 tensors, and int32
    // where an op reads integer indices or labels. There are no int8 or float16 CPU kernels (an int8
    // network made by Int8QuantizationModifier runs on kata::embedded).
    static constexpr bool runs_dtype(op_kind k, int slot, dtype t) {
        if (t == dtype::f32) return true;
        if (t != dtype::i32) return false;
        switch (k) {
        case op_kind::embed:
        case op_kind::embed_filter_grad: return slot == 0;  // the indices
        case op_kind::softmax_cross_entropy:
        case op_kind::sigmoid_cross_entropy:
        case op_kind::top_n_error: return slot == 1;  // the labels
        case op_kind::softmax_cross_entropy_grad:
        case op_kind::sigmoid_cross_entropy_grad: return slot == 2;  // (dy, x, labels)
        default: return false;
        }
    }
    static constexpr std::string_view dtype_rule =
        "the CPU kernels run float32 tensors; int32 only as Embed's indices and as the labels of "
        "SoftmaxCrossEntropy, SigmoidCrossEntropy and TopNError";

    // Sets OpenBLAS's (process-wide) thread count to 1 before the first forward pass.
    static void initialize() { blas::use_single_threaded_blas(); }
};

}  // namespace kata::cpu
