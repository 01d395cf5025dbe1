// kata/embedded/kernels/quantized.hpp
//
// Embedded kernels for the int8 inference ops QConvolution and QAffine (kata/ops/quantized.hpp states
// the arithmetic): int8 x and W, int32 accumulation starting from the int32 bias, and the per-channel
// fixed-point requantization detail::requantize (kata/embedded/kernel.hpp) to int8. QConvolution runs
// the convolution family's direct loop (kernels/convolution.hpp) with int8 operands and an int32
// accumulator: pad, stride, dilation, groups, channel-last and base_axis as for Convolution. Padding
// skips the taps outside the input, i.e. pads with the code 0, which is the real value 0 because
// activations are symmetric (zero point 0). Integer arithmetic throughout: the results are the same bit
// for bit on every target.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../kernel.hpp"
#include "convolution.hpp"

namespace kata::embedded {

namespace detail {

// Whether the node's operands have the dtypes of a quantized layer (F::qconvolution / F::qaffine check
// them when the graph is built; this catches a node written by hand).
constexpr bool quantized_operands(const op_instance& I) {
    return I.type == dtype::i8 && I.nin == 4 && I.in_type[0] == dtype::i8 && I.in_type[1] == dtype::i8 &&
           I.in_type[2] == dtype::i32 && I.in_type[3] == dtype::i32;
}

}  // namespace detail

template <>
struct kernel<op_kind::qconvolution> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        static_assert(detail::quantized_operands(I),
                      "kata::embedded: QConvolution takes int8 x and W, int32 b and requant, gives int8");
        static_assert(detail::fits_index(I),
                      "kata::embedded: QConvolution tensor too large for the target's index");
        constexpr std::int64_t C = I.in[0].dims[detail::channel_axis<I>()];
        constexpr index O = index(I.in[1].dims[0]);
        constexpr detail::geometry g = detail::make_geometry(I, C, O, I.attr.group, false);
        const std::int32_t* rq = io.input<std::int32_t>(3);
        detail::convolve<g>(io.input<std::int8_t>(0), io.input<std::int8_t>(1), io.input<std::int32_t>(2),
                            io.output<std::int8_t>(), [rq](index o, std::int32_t acc) {
                                return detail::requantize(acc, rq[o], rq[O + o]);
                            });
    }
};

template <>
struct kernel<op_kind::qaffine> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    // x (B, K), W (K, O). One output at a time (a column of W): the accumulator stays in a register, no
    // int32 row buffer.
    template <op_instance I>
    static void run(const kernel_io& io) {
        static_assert(detail::quantized_operands(I),
                      "kata::embedded: QAffine takes int8 x and W, int32 b and requant, gives int8");
        static_assert(detail::fits_index(I),
                      "kata::embedded: QAffine tensor too large for the target's index");
        constexpr index B = index(I.in[0].prod(0, I.attr.base_axis));
        constexpr index K = index(I.in[0].prod_from(I.attr.base_axis));
        constexpr index O = index(I.in[1].prod_from(1));
        const std::int8_t* x = io.input<std::int8_t>(0);
        const std::int8_t* W = io.input<std::int8_t>(1);
        const std::int32_t* bias = io.input<std::int32_t>(2);
        const std::int32_t* rq = io.input<std::int32_t>(3);
        std::int8_t* y = io.output<std::int8_t>();
        for (index r = 0; r < B; ++r) {
            const std::int8_t* xr = x + r * K;
            for (index o = 0; o < O; ++o) {
                std::int32_t acc = bias[o];
                for (index k = 0; k < K; ++k) acc += std::int32_t(xr[k]) * std::int32_t(W[k * O + o]);
                y[r * O + o] = detail::requantize(acc, rq[o], rq[O + o]);
            }
        }
    }
};

}  // namespace kata::embedded
