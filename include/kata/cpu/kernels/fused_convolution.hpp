// kata/cpu/kernels/fused_convolution.hpp
//
// CPU kernel for FusedConvolution (kata/ops/fused_convolution.hpp): y = act(conv(x, W, b) + z).
//
// Two paths, chosen at compile time from the op instance (kata::cpu::detail::packed_path(I)):
//   * frozen executors, channel-last group-1 convolutions with parameter weights: the direct NHWC
//     kernel on weights packed at bind time, with the bias as the accumulators' initial value and the
//     residual z and the ReLU applied in the epilogue before the single store (kernels/conv_nhwc.hpp);
//   * frozen executors, channel-last depthwise convolutions (group == C == O) with parameter weights:
//     the depthwise kernel of kernels/convolution.hpp on weights packed at bind time, same epilogue;
//   * frozen executors, channel-last grouped convolutions (1 < group, not depthwise) with parameter
//     weights: the direct grouped kernel of kernels/conv_grouped.hpp on weights packed at bind time,
//     same epilogue;
//   * otherwise (live executors, channel-first convolutions...): the Convolution kernel
//     (kernels/convolution.hpp) writes conv(x, W, b) into y, then one pass applies y = act(y + z).
// Both give the values of the unfused graph bit for bit: the same float additions in the same order
// ((conv + b) + z, then max(0, .)), IEEE addition being commutative for Add2(z, conv).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "../kernel.hpp"
#include "conv_grouped.hpp"
#include "conv_nhwc.hpp"
#include "convolution.hpp"
#include "elementwise.hpp"

namespace kata::cpu {

namespace detail {

// The convolution part as a plain Convolution instance: x, W[, b] (never packed: the fused kernel
// packs itself).
constexpr op_instance conv_part(op_instance I) {
    I.op = op_kind::convolution;
    I.nin = I.attr.has_bias ? 3 : 2;
    for (int k = I.nin; k < max_kernel_inputs; ++k) {
        I.in[k] = shape_t{};
        I.in_layout[k] = layout::none;
        I.in_type[k] = dtype::f32;
    }
    for (bool& f : I.in_frozen) f = false;
    I.attr.has_residual = false;
    I.attr.nonlinearity = nonlinearity_kind::none;
    return I;
}

constexpr int residual_slot(const op_instance& I) { return I.attr.has_bias ? 3 : 2; }

}  // namespace detail

template <>
struct kernel<op_kind::fused_convolution> {
    static constexpr bool bind_time_preparation = true;

    template <op_instance I>
    static constexpr std::size_t prepared_bytes() {
        if constexpr (detail::packed_path(I) || detail::dw_packed_path<I>() || detail::grouped_path(I))
            return kernel<op_kind::convolution>::prepared_bytes<I>();
        else
            return 0;
    }
    template <op_instance I>
    static void prepare(const prepare_io& io) {
        kernel<op_kind::convolution>::prepare<I>(io);
    }
    // W and b (inputs 1 and 2 with a bias) live in the prepared copy on the packed paths; the
    // residual (the next input) is read at every call.
    template <op_instance I>
    static constexpr bool prepared_input(int k) {
        return kernel<op_kind::convolution>::prepared_input<I>(k);
    }
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        if constexpr (detail::packed_path(I))
            return std::size_t(detail::scratch_floats(detail::make_params(I))) * sizeof(float);
        else if constexpr (detail::dw_packed_path<I>())
            return 0;
        else if constexpr (detail::grouped_path(I))
            return std::size_t(detail::grouped_scratch_floats(detail::make_gparams(I))) * sizeof(float);
        else
            return kernel<op_kind::convolution>::workspace_bytes<detail::conv_part(I)>();
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        constexpr bool relu = I.attr.nonlinearity == nonlinearity_kind::relu;
        constexpr bool residual = I.attr.has_residual;
        const float* z = residual ? io.input(detail::residual_slot(I)) : nullptr;
        if constexpr (detail::packed_path(I)) {
            constexpr detail::params P = detail::make_params(I);
            detail::forward(P, io.input(0), reinterpret_cast<const float*>(io.prepared), z, relu, io.output(),
                            reinterpret_cast<float*>(io.workspace));
        } else if constexpr (detail::dw_packed_path<I>()) {
            detail::dw_nhwc_forward<detail::conv_geometry<I>()>(
                io.input(0), reinterpret_cast<const float*>(io.prepared), z, relu, io.output());
        } else if constexpr (detail::grouped_path(I)) {
            detail::grouped_forward(detail::make_gparams(I), io.input(0),
                                    reinterpret_cast<const float*>(io.prepared), z, relu, io.output(),
                                    reinterpret_cast<float*>(io.workspace));
        } else {
            kernel<op_kind::convolution>::run<detail::conv_part(I)>(io);
            if constexpr (residual || relu) {
                float* y = io.output();
                detail::flat_for<I.out.numel()>([&](std::int64_t b, std::int64_t e) {
                    for (std::int64_t i = b; i < e; ++i) {
                        float v = y[i];
                        if constexpr (residual) v = v + z[i];
                        if constexpr (relu) v = v > 0.0f ? v : 0.0f;  // as kernel<relu>
                        y[i] = v;
                    }
                });
            }
        }
    }
};

// The kernel a Convolution / FusedConvolution instance runs on (for profiles and tests): "nhwc..." (the
// direct NHWC kernel; conv_nhwc.hpp's path_name: "nhwc-rows", "nhwc-prepad", "nhwc"), "nhwc-grouped" /
// "nhwc-grouped4" (kernels/conv_grouped.hpp), "depthwise-packed",
// "depthwise-direct", "gemm" (im2col or pointwise + OpenBLAS). A compile-time property of the instance.
template <op_instance I>
constexpr const char* conv_path_name() {
    if constexpr (detail::packed_path(I)) {
        return detail::path_name(detail::make_params(I));
    } else if constexpr (detail::dw_packed_path<I>()) {
        return "depthwise-packed";
    } else if constexpr (detail::grouped_path(I)) {
        return detail::grouped_path_name(detail::make_gparams(I));
    } else {
        constexpr op_instance C = I.op == op_kind::fused_convolution ? detail::conv_part(I) : I;
        if constexpr (detail::use_direct_depthwise<detail::conv_geometry<C>()>())
            return "depthwise-direct";
        else
            return "gemm";
    }
}

}  // namespace kata::cpu
