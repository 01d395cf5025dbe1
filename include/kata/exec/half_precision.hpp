// kata/exec/half_precision.hpp
//
// Mixed precision as a backend adaptor: exec::half_precision_backend<Inner, G> runs graph G on Inner's
// kernels with binary16 (fp16) activations and gradients and float32 parameters -- nnabla's
// type_config='half' training setting (docs/training.md, "Mixed precision"):
//
//   * every kernel's float output (each forward activation, each backward gradient, the loss) is rounded
//     to binary16 right after the kernel (exec::round_to_half: nearest-even, subnormals, overflow to
//     inf), so every buffer a kernel reads holds an fp16 value;
//   * a parameter a kernel reads (weights, biases, the loss-scale seed "@loss_scale") is read through a
//     binary16-rounded copy in the kernel's workspace, as nnabla casts the float parameter to half for
//     a half function; the parameter itself (the master weight), the solver's state and the gradient
//     accumulators (AccumulateGrad's "P@grad" leaves) stay float32;
//   * BatchNormalization's kernels read gamma, beta and the running statistics in float32 and update
//     the statistics in place (nnabla's cuDNN half BN keeps them float, kata's kernels write them).
//
// Why an adaptor and not fp16 kernels: the numbers are those of fp16 storage with fp32 compute for any
// backend, with no copy of any kernel; the graph (and so its memory plan and kernel instantiations) is
// the float32 graph's, so the switch is a type argument (kata::train::training_graph's precision) and
// costs one thin wrapper per kernel. What it is not: 2-byte storage (the buffers stay 4 bytes; see
// docs/training.md) and fp16 arithmetic inside a kernel (sums accumulate in float, like cuDNN's and
// nnabla's half kernels with float accumulation).
//
// Which parameter inputs are cast is read from a compile-time table of G indexed by the node id
// (kernel_io::node); the workspace of a kernel grows by room for float copies of its float inputs.
// The adaptor has no bind-time preparation: use it with live executors (training executors are).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "../core/graph.hpp"
#include "half_rounding.hpp"
#include "kernel_io.hpp"
#include "memory_plan.hpp"
#include "op_instance.hpp"

namespace kata::exec {

namespace detail {

// Kernels that read their parameter inputs in float32 (and may write them): BatchNormalization's
// statistics and affine parameters, and the gradient accumulators.
constexpr bool reads_parameters_in_float(op_kind k) {
    return k == op_kind::batch_normalization || k == op_kind::fused_batch_normalization ||
           k == op_kind::batch_normalization_grad || k == op_kind::batch_normalization_gamma_grad ||
           k == op_kind::accumulate_grad;
}

// Per node: bit k set when input k is a float32 parameter the kernel reads as a binary16 copy.
template <auto const& G>
inline constexpr auto half_cast_inputs = [] {
    std::array<std::uint16_t, G.size()> mask{};
    for (std::size_t i = 0; i < G.size(); ++i) {
        const node& n = G.nodes[i];
        if (n.op == op_kind::input || n.op == op_kind::parameter || reads_parameters_in_float(n.op)) continue;
        for (int k = 0; k < n.num_inputs && k < max_kernel_inputs; ++k) {
            const node& in = G.input_node(int(i), k);
            if (in.op == op_kind::parameter && in.type == dtype::f32) mask[i] |= std::uint16_t(1u << k);
        }
    }
    return mask;
}();

template <class Inner, op_kind K>
concept inner_has_kernel = requires {
    sizeof(typename Inner::template kernel<K>);
};

constexpr std::size_t half_align(std::size_t v) {
    return (v + std::size_t(arena_alignment) - 1) / std::size_t(arena_alignment) *
           std::size_t(arena_alignment);
}

}  // namespace detail

template <class Inner, auto const& G>
struct half_precision_backend {
    static constexpr std::string_view executor_name = "kata::exec::executor (fp16 activations)";
    static constexpr bool stages_inputs = [] {
        if constexpr (requires { Inner::stages_inputs; })
            return bool(Inner::stages_inputs);
        else
            return true;
    }();
    static void initialize() {
        if constexpr (requires { Inner::initialize(); }) Inner::initialize();
    }

    template <op_kind K>
    requires detail::inner_has_kernel<Inner, K>
    struct kernel {
        using inner = typename Inner::template kernel<K>;

        // Room for a float copy of every float input that might be a parameter (the table that says
        // which ones are is indexed at run time: an upper bound keeps one instantiation per op_instance).
        template <op_instance I>
        static constexpr std::size_t cast_bytes() {
            if constexpr (detail::reads_parameters_in_float(K)) {
                return 0;
            } else {
                std::size_t s = 0;
                for (int k = 0; k < I.nin && k < max_kernel_inputs; ++k)
                    if (I.in_type[k] == dtype::f32)
                        s += detail::half_align(std::size_t(I.in[k].numel()) * sizeof(float));
                return s;
            }
        }
        template <op_instance I>
        static constexpr std::size_t workspace_bytes() {
            return detail::half_align(inner::template workspace_bytes<I>()) + cast_bytes<I>();
        }

        template <op_instance I>
        static void run(const kernel_io& io) {
            if constexpr (cast_bytes<I>() > 0) {
                const std::uint16_t mask = detail::half_cast_inputs<G>[std::size_t(io.node)];
                if (mask != 0) {
                    void* ins[I.nin > 0 ? I.nin : 1];
                    std::byte* at = io.workspace + detail::half_align(inner::template workspace_bytes<I>());
                    for (int k = 0; k < I.nin; ++k) {
                        ins[k] = io.in[k];
                        if (!((mask >> k) & 1u)) continue;
                        float* copy = reinterpret_cast<float*>(at);
                        copy_round_to_half(static_cast<const float*>(io.in[k]), copy, I.in[k].numel());
                        ins[k] = copy;
                        at += detail::half_align(std::size_t(I.in[k].numel()) * sizeof(float));
                    }
                    kernel_io cast = io;
                    cast.in = ins;
                    inner::template run<I>(cast);
                    round_output<I>(io);
                    return;
                }
            }
            inner::template run<I>(io);
            round_output<I>(io);
        }

    private:
        template <op_instance I>
        static void round_output(const kernel_io& io) {
            if constexpr (K != op_kind::accumulate_grad && I.type == dtype::f32)
                round_to_half(io.output<float>(), I.out.numel());
        }
    };
};

}  // namespace kata::exec
