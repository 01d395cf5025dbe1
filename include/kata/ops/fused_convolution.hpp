// kata/ops/fused_convolution.hpp
//
// F::fused_convolution: nnabla's FusedConvolution without its batch-normalization part,
//     y = nonlinearity(convolution(x, W, b) + z)        (z optional, nonlinearity relu or identity)
// which is what kata::FuseConvolutionEpilogueModifier (kata/converters/fuse_convolution_epilogue.hpp)
// makes of Convolution [-> Add2] [-> ReLU] so that every backend sees one node it can run with the
// residual addition and the ReLU in the convolution's epilogue.
//
// nnabla's FusedConvolution(x, weight, bias, beta, gamma, mean, variance, z; conv args, decay_rate, eps,
// batch_stat, nonlinearity='relu', nonlinearity_args, pad_mode, constant_value) can also apply a batch
// normalization between the convolution and the addition; kata folds batch normalizations into the
// convolution first (BatchNormalizationFoldingModifier), so its node has no beta/gamma/mean/variance
// inputs, and supports the nonlinearities relu and identity (kata::nonlinearity_kind). Node inputs in
// nnabla order: x, W[, b][, z] (attributes.has_bias / has_residual say which are present).
//
// Shapes, layouts and arguments are those of F::convolution (every check of a convolution applies;
// diagnostics name FusedConvolution); z must have the output's shape and dtype (no broadcasting).
#pragma once

#include "convolution.hpp"
#include "descriptor.hpp"

namespace kata {

struct fused_convolution_args {
    int base_axis = 1;
    dims pad{};
    dims stride{};
    dims dilation{};
    std::int64_t group = 1;
    bool channel_last = false;
    nonlinearity_kind nonlinearity = nonlinearity_kind::relu;  // nnabla's default 'relu'
};

namespace F {

constexpr var fused_convolution(var x, var w, var b, var z, fused_convolution_args args = {}) {
    builder& g = *x.g;
    constexpr op_kind k = op_kind::fused_convolution;
    // The convolution part is inferred and checked by F::convolution, whose node then becomes the fused
    // one (its edges are the last ones of the builder, so z can be appended to them).
    const bool failed_before = g.failed;
    const var y = convolution(
        x, w, b, {args.base_axis, args.pad, args.stride, args.dilation, args.group, args.channel_last});
    if (!failed_before &&
        g.failed) {  // "Convolution in scope ...: ..." -> "FusedConvolution in scope ...: ..."
        message_string m("Fused");
        m.append(g.error.view());
        g.error = m;
    }
    node& n = g.nodes[std::size_t(y.id)];
    n.op = k;
    n.attr.nonlinearity = args.nonlinearity;
    n.attr.has_residual = !is_none(z);
    if (is_none(z)) return y;
    if (!(z.shape() == n.shape) || z.type() != n.type ||
        (z.lay() != layout::none && n.lay != layout::none && z.lay() != n.lay)) {
        auto m = g.prefix(k);
        detail::append_var(m, "residual z", z).append(" (").append(dtype_name(z.type())).append(", ");
        m.append(layout_name(z.lay())).append(") must have the output's shape ");
        append_shape(m, n.shape).append(", dtype and layout (").append(dtype_name(n.type)).append(", ");
        m.append(layout_name(n.lay)).append(")");
        g.fail(m);
        return y;
    }
    g.edges.push_back(z.id);
    ++n.num_inputs;
    return y;
}

}  // namespace F

// ---- descriptor (descriptor.hpp) ------------------------------------------------------------------

namespace op_args {
// The node's arguments as the viewer and exporters see them: the convolution's, then nnabla's
// `nonlinearity` string ("relu" or "identity").
struct fused_convolution {
    int base_axis = 1;
    dims pad{};
    dims stride{};
    dims dilation{};
    std::int64_t group = 1;
    bool channel_last = false;
    std::string_view nonlinearity = "relu";
};
}  // namespace op_args

template <>
struct op_traits<op_kind::fused_convolution> {
    using args = op_args::fused_convolution;
    static constexpr backward_fn backward = &backward_rule::fused_convolution;
    // The fusion converter runs after the channel-last conversion; a fused node met by a layout
    // conversion is transposed around (always correct).
    static constexpr layout_rule channel_last = layout_rule::fallback;
    static constexpr args from_attributes(const attributes& a) {
        const int sp = a.spatial_dims;
        return {a.base_axis,
                detail::dims_of(a.pad, sp),
                detail::dims_of(a.stride, sp),
                detail::dims_of(a.dilation, sp),
                a.group,
                a.channel_last,
                a.nonlinearity == nonlinearity_kind::relu ? "relu" : "identity"};
    }
    // Inputs x, W[, b][, z]: attributes.has_bias / has_residual say which are present.
    static constexpr var rebuild(builder&, const attributes& a, std::span<const var> in) {
        std::size_t i = 2;
        const var b = a.has_bias ? detail::input_or_none(in, i++) : none;
        const var z = a.has_residual ? detail::input_or_none(in, i++) : none;
        const int sp = a.spatial_dims;
        return F::fused_convolution(in[0], in[1], b, z,
                                    {a.base_axis, detail::dims_of(a.pad, sp), detail::dims_of(a.stride, sp),
                                     detail::dims_of(a.dilation, sp), a.group, a.channel_last,
                                     a.nonlinearity});
    }
};

}  // namespace kata

KATA_ADAPT_ARGS(kata::op_args::fused_convolution, base_axis, pad, stride, dilation, group, channel_last,
                nonlinearity);
