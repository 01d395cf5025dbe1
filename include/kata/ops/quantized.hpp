// kata/ops/quantized.hpp
//
// The int8 inference ops: QConvolution and QAffine (op kinds qconvolution, qaffine), the layers of an
// int8 network as kata::Int8QuantizationModifier derives it from a float one
// (kata/converters/int8_quantization.hpp, docs/embedded.md "int8 inference").
//
// Why op kinds of their own and not a Convolution/Affine node with int8 dtypes: the arithmetic is a
// different function (integer accumulation, a per-channel requantization table as a fourth input, an
// int8 result), so it needs its own descriptor (arguments, rebuild, no backward, not an inner product
// for BN folding) and its own kernels; a float kernel must never run it by accident. The names follow
// nnabla's (Convolution, Affine) with a Q prefix; ONNX's QLinearConv/QLinearMatMul take float scales and
// zero points at run time, these take the integer multiplier and shift tables that int8 hardware paths
// (TFLite Micro, CMSIS-NN) use, so they are not given ONNX's names.
//
// Arithmetic (exact integer arithmetic: identical on every target and in the numpy reference
// tools/fixtures/make_int8_fixtures.py):
//   x        int8, real value s_x x             (symmetric per tensor: zero point 0)
//   W        int8, nnabla's layout, real value s_w[o] W (symmetric, one scale per output channel)
//   b        int32 (O), real value s_x s_w[o] b
//   requant  int32 (2, O): row 0 the multiplier m[o] in [2^30, 2^31), row 1 the shift r[o] in [1, 62],
//            m[o] 2^-r[o] ~ s_x s_w[o] / s_y
//   acc[o] = b[o] + sum x W (int32),   y = clamp((acc m + 2^(r-1)) >> r, -128, 127) (64-bit product,
//   round half up)
// Why symmetric activations (zero point 0): ReLU (max(x, 0)) and max pooling then work on the codes
// and keep the scale, padding with the code 0 is padding with the real value 0 (zero-point-correct by
// construction), and the accumulation needs no zero-point correction terms; the price is one bit of
// resolution on non-negative tensors (ReLU outputs use codes 0..127). Why a fixed-point multiplier and
// shift instead of a float scale: integer-only kernels (no FPU needed), and results that agree bit for
// bit between the host, the Cortex-M4/M55 and the reference.
//
// Shapes are checked as for Convolution/Affine (pad, stride, dilation, groups, channel-last, base_axis
// all allowed), plus: x and W int8, b int32 with W's output channels, requant int32 (2, O). A mismatch
// is a compile error naming QConvolution/QAffine, the scope and the shapes.
#pragma once

#include "affine.hpp"
#include "common.hpp"
#include "convolution.hpp"

namespace kata {

namespace detail {

// A need_grad=false parameter of dtype `t` (int8 weights, int32 biases and requantization tables).
constexpr var typed_parameter(builder& g, std::string_view name, shape_t shape, dtype t) {
    const var p = g.parameter(name, shape, {}, false);
    g.nodes[std::size_t(p.id)].type = t;
    return p;
}

// Checks the dtypes and the requantization table of a quantized layer with `outputs` output channels.
constexpr bool check_quantized_inputs(op_kind k, var x, var w, var b, var rq, std::int64_t outputs) {
    builder& g = *x.g;
    auto fail = [&](const char* why) {
        auto m = g.prefix(k);
        m.append(why).append(": ");
        append_var(m, "x", x).append(", ");
        append_var(m, "W", w);
        if (!is_none(b)) append_var(m.append(", "), "b", b);
        if (!is_none(rq)) append_var(m.append(", "), "requant", rq);
        g.fail(m);
        return false;
    };
    if (is_none(b) || is_none(rq)) return fail("needs a bias b and a requantization table");
    if (x.type() != dtype::i8 || w.type() != dtype::i8) return fail("x and W must be int8");
    if (b.type() != dtype::i32 || rq.type() != dtype::i32) return fail("b and requant must be int32");
    if (rq.ndim() != 2 || rq.shape()[0] != 2 || rq.shape()[1] != outputs)
        return fail("requant must have shape (2, output channels)");
    return true;
}

}  // namespace detail

namespace F {

// int8 convolution: x (B, C, spatial...) int8, W (O, C/group, k...) int8, b (O) int32, requant (2, O)
// int32; the arguments of F::convolution.
constexpr var qconvolution(var x, var w, var b, var rq, convolution_args args = {}) {
    constexpr op_kind k = op_kind::qconvolution;
    const std::int64_t O = w.ndim() > 0 ? w.shape()[0] : 0;
    if (!detail::check_quantized_inputs(k, x, w, b, rq, O))
        return x.g->function(k, {x, w}, {}, x.shape(), x.lay());
    return detail::convolution_node(k, x, w, b, rq, args);
}

// int8 inner product: x (B..., K...) int8, W (K, O...) int8, b (O...) int32, requant (2, prod O...)
// int32; the arguments of F::affine.
constexpr var qaffine(var x, var w, var b, var rq, affine_args args = {}) {
    constexpr op_kind k = op_kind::qaffine;
    const std::int64_t O = w.ndim() > 1 ? w.shape().prod_from(1) : 0;
    if (!detail::check_quantized_inputs(k, x, w, b, rq, O))
        return x.g->function(k, {x, w}, {}, x.shape(), x.lay());
    return detail::affine_node(k, x, w, b, rq, args);
}

}  // namespace F

template <>
struct op_traits<op_kind::qconvolution> {
    using args = convolution_args;
    static constexpr layout_rule channel_last = layout_rule::fallback;
    static constexpr args from_attributes(const attributes& a) {
        return op_traits<op_kind::convolution>::from_attributes(a);
    }
    static constexpr var rebuild(builder&, const attributes& a, std::span<const var> in) {
        return F::qconvolution(in[0], in[1], in[2], in[3], from_attributes(a));
    }
};

template <>
struct op_traits<op_kind::qaffine> {
    using args = affine_args;
    static constexpr layout_rule channel_last = layout_rule::fallback;
    static constexpr args from_attributes(const attributes& a) { return {a.base_axis}; }
    static constexpr var rebuild(builder&, const attributes& a, std::span<const var> in) {
        return F::qaffine(in[0], in[1], in[2], in[3], from_attributes(a));
    }
};

}  // namespace kata
