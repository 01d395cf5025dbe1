// kata/ops/convolution.hpp
//
// F::convolution and F::depthwise_convolution: nnabla's Convolution / DepthwiseConvolution.
//
// Layouts (docs/nnabla-semantics.md §0.1): channel-first x (N.., C, S1..Sd), W (O, C/g, k1..kd); channel-last
// x (N.., S1..Sd, C), W (O, k1..kd, C/g). Bias (O,). Output size per spatial axis:
// (i + 2p - d(k-1) - 1) / s + 1. `base_axis` is the index of the first non-batch axis.
//
// Arguments: convolution_args / depthwise_convolution_args (designated initializers) or keywords in any
// order (`F::convolution(x, w, b, group = 2, pad = {1, 1})`, keywords.hpp). Descriptors at the end.
#pragma once

#include "common.hpp"

namespace kata {

struct convolution_args {
    int base_axis = 1;
    dims pad{};
    dims stride{};
    dims dilation{};
    std::int64_t group = 1;
    bool channel_last = false;
};

struct depthwise_convolution_args {
    int base_axis = 1;
    dims pad{};
    dims stride{};
    dims dilation{};
    std::int64_t multiplier = 1;
};

namespace detail {

constexpr std::int64_t conv_out_size(std::int64_t i, std::int64_t k, std::int64_t p, std::int64_t s,
                                     std::int64_t d) {
    return (i + 2 * p - d * (k - 1) - 1) / s + 1;
}

// Fills spatial args and the output spatial sizes; diagnoses non-positive outputs.
constexpr bool conv_spatial(builder& g, op_kind k, var x, const shape_t& w, int first_spatial_x,
                            int first_spatial_w, int nsp, const dims& pad, const dims& stride,
                            const dims& dilation, attributes& a, std::int64_t (&out)[max_spatial]) {
    a.spatial_dims = nsp;
    if (!take_dims(g, k, "pad", pad, nsp, a.pad, 0)) return false;
    if (!take_dims(g, k, "stride", stride, nsp, a.stride, 1)) return false;
    if (!take_dims(g, k, "dilation", dilation, nsp, a.dilation, 1)) return false;
    for (int i = 0; i < nsp; ++i) {
        a.kernel[i] = w.dims[first_spatial_w + i];
        if (a.stride[i] <= 0 || a.dilation[i] <= 0 || a.pad[i] < 0) {
            auto m = g.prefix(k);
            m.append("stride and dilation must be positive and pad non-negative (axis ").append_int(i);
            m.append(": pad ").append_int(a.pad[i]).append(", stride ").append_int(a.stride[i]);
            m.append(", dilation ").append_int(a.dilation[i]).append(")");
            g.fail(m);
            return false;
        }
        out[i] = conv_out_size(x.shape().dims[first_spatial_x + i], a.kernel[i], a.pad[i], a.stride[i],
                               a.dilation[i]);
        if (out[i] <= 0) {
            auto m = g.prefix(k);
            append_var(m, "input x", x).append(" is smaller than the dilated kernel ");
            append_shape(m, w)
                .append(" on spatial axis ")
                .append_int(i)
                .append(" (pad ")
                .append_int(a.pad[i]);
            m.append(", dilation ").append_int(a.dilation[i]).append(")");
            g.fail(m);
            return false;
        }
    }
    return true;
}

constexpr bool check_bias(builder& g, op_kind k, var b, std::int64_t outmaps) {
    if (is_none(b)) return true;
    if (b.ndim() != 1 || b.shape()[0] != outmaps) {
        auto m = g.prefix(k);
        append_var(m, "bias b", b).append(" must have shape (").append_int(outmaps).append(",)");
        g.fail(m);
        return false;
    }
    return true;
}

// The body of F::convolution, shared with QConvolution (kata/ops/quantized.hpp): shape checks and
// inference under the kind `k` (diagnostics name it); `extra` (none for Convolution) is appended as the
// last input after the bias.
constexpr var convolution_node(op_kind k, var x, var w, var b, var extra, convolution_args args) {
    builder& g = *x.g;
    const shape_t& xs = x.shape();
    const shape_t& ws = w.shape();
    attributes a;
    a.base_axis = args.base_axis;
    a.group = args.group;
    a.channel_last = args.channel_last;
    a.has_bias = !is_none(b);
    const int nsp = xs.rank - args.base_axis - 1;
    auto fail_shapes = [&](const char* why) {
        auto m = g.prefix(k);
        m.append(why).append(": ");
        detail::append_var(m, "x", x).append(", ");
        detail::append_var(m, "W", w).append(", group ").append_int(args.group);
        m.append(args.channel_last ? ", channel_last" : ", channel_first");
        g.fail(m);
        return g.function(k, {x, w}, a, xs, x.lay());
    };
    if (args.base_axis < 0 || nsp < 1 || nsp > max_spatial)
        return fail_shapes("needs 1 to 3 spatial axes after base_axis");
    if (ws.rank != nsp + 2) return fail_shapes("W must have rank (spatial axes + 2)");
    if (args.group <= 0) return fail_shapes("group must be positive");
    if (!detail::check_layout(g, k, x, args.channel_last)) return g.function(k, {x, w}, a, xs, x.lay());
    const int cax = args.channel_last ? xs.rank - 1 : args.base_axis;
    const std::int64_t C = xs.dims[cax];
    const std::int64_t O = ws.dims[0];
    const std::int64_t Cw = args.channel_last ? ws.dims[ws.rank - 1] : ws.dims[1];
    if (C % args.group != 0) return fail_shapes("input channels are not divisible by group");
    if (O % args.group != 0) return fail_shapes("output channels W.shape[0] are not divisible by group");
    if (Cw * args.group != C)
        return fail_shapes("input channels of x do not match W (expected C == W in-channels * group)");
    if (!detail::check_bias(g, k, b, O)) return g.function(k, {x, w}, a, xs, x.lay());
    std::int64_t out_sp[max_spatial]{};
    const int fsx = args.channel_last ? args.base_axis : args.base_axis + 1;
    const int fsw = args.channel_last ? 1 : 2;
    if (!detail::conv_spatial(g, k, x, ws, fsx, fsw, nsp, args.pad, args.stride, args.dilation, a, out_sp))
        return g.function(k, {x, w}, a, xs, x.lay());
    shape_t out;
    for (int i = 0; i < args.base_axis; ++i) out.push_back(xs.dims[i]);
    if (!args.channel_last) out.push_back(O);
    for (int i = 0; i < nsp; ++i) out.push_back(out_sp[i]);
    if (args.channel_last) out.push_back(O);
    layout l =
        out.rank >= 3 ? (args.channel_last ? layout::channel_last : layout::channel_first) : layout::none;
    if (is_none(b)) return g.function(k, {x, w}, a, out, l);
    if (!is_none(extra)) return g.function(k, {x, w, b, extra}, a, out, l);
    return g.function(k, {x, w, b}, a, out, l);
}
}  // namespace detail

namespace F {

// nnabla: F.convolution(x, weight, bias=None, base_axis=1, pad=None, stride=None, dilation=None,
//                       group=1, channel_last=False)
constexpr var convolution(var x, var w, var b, convolution_args args = {}) {
    return detail::convolution_node(op_kind::convolution, x, w, b, none, args);
}
constexpr var convolution(var x, var w, convolution_args args = {}) { return convolution(x, w, none, args); }

// nnabla: F.depthwise_convolution(x, weight, bias=None, base_axis=1, pad=None, stride=None,
//                                 dilation=None, multiplier=1). W (C*multiplier, k1..kd).
constexpr var depthwise_convolution(var x, var w, var b, depthwise_convolution_args args = {}) {
    builder& g = *x.g;
    constexpr op_kind k = op_kind::depthwise_convolution;
    const shape_t& xs = x.shape();
    const shape_t& ws = w.shape();
    attributes a;
    a.base_axis = args.base_axis;
    a.group = args.multiplier;
    a.has_bias = !is_none(b);
    const int nsp = xs.rank - args.base_axis - 1;
    auto fail_shapes = [&](const char* why) {
        auto m = g.prefix(k);
        m.append(why).append(": ");
        detail::append_var(m, "x", x).append(", ");
        detail::append_var(m, "W", w).append(", multiplier ").append_int(args.multiplier);
        g.fail(m);
        return g.function(k, {x, w}, a, xs, x.lay());
    };
    if (nsp < 1 || nsp > 2) return fail_shapes("supports 1 or 2 spatial axes after base_axis");
    if (ws.rank != nsp + 1) return fail_shapes("W must have rank (spatial axes + 1)");
    if (!detail::check_layout(g, k, x, false)) return g.function(k, {x, w}, a, xs, x.lay());
    const std::int64_t C = xs.dims[args.base_axis];
    if (args.multiplier <= 0 || ws.dims[0] != C * args.multiplier)
        return fail_shapes("W.shape[0] must equal input channels * multiplier");
    if (!detail::check_bias(g, k, b, ws.dims[0])) return g.function(k, {x, w}, a, xs, x.lay());
    std::int64_t out_sp[max_spatial]{};
    if (!detail::conv_spatial(g, k, x, ws, args.base_axis + 1, 1, nsp, args.pad, args.stride, args.dilation,
                              a, out_sp))
        return g.function(k, {x, w}, a, xs, x.lay());
    shape_t out;
    for (int i = 0; i < args.base_axis; ++i) out.push_back(xs.dims[i]);
    out.push_back(ws.dims[0]);
    for (int i = 0; i < nsp; ++i) out.push_back(out_sp[i]);
    layout l = out.rank >= 3 ? layout::channel_first : layout::none;
    if (is_none(b)) return g.function(k, {x, w}, a, out, l);
    return g.function(k, {x, w, b}, a, out, l);
}
constexpr var depthwise_convolution(var x, var w, depthwise_convolution_args args = {}) {
    return depthwise_convolution(x, w, none, args);
}

// Keyword forms (keywords.hpp).
template <keyword_argument... K>
constexpr var convolution(var x, var w, var b, const K&... kws) {
    return convolution(x, w, b, make_args<convolution_args>(kws...));
}
template <keyword_argument... K>
constexpr var convolution(var x, var w, const K&... kws) {
    return convolution(x, w, none, make_args<convolution_args>(kws...));
}
template <keyword_argument... K>
constexpr var depthwise_convolution(var x, var w, var b, const K&... kws) {
    return depthwise_convolution(x, w, b, make_args<depthwise_convolution_args>(kws...));
}
template <keyword_argument... K>
constexpr var depthwise_convolution(var x, var w, const K&... kws) {
    return depthwise_convolution(x, w, none, make_args<depthwise_convolution_args>(kws...));
}

}  // namespace F

// ---- descriptors (descriptor.hpp) -----------------------------------------------------------------

template <>
struct op_traits<op_kind::convolution> {
    using args = convolution_args;
    static constexpr backward_fn backward = &backward_rule::convolution;
    static constexpr layout_rule channel_last = layout_rule::convolution_like;
    static constexpr args from_attributes(const attributes& a) {
        const int sp = a.spatial_dims;
        return {a.base_axis,
                detail::dims_of(a.pad, sp),
                detail::dims_of(a.stride, sp),
                detail::dims_of(a.dilation, sp),
                a.group,
                a.channel_last};
    }
    static constexpr var rebuild(builder&, const attributes& a, std::span<const var> in) {
        return F::convolution(in[0], in[1], detail::input_or_none(in, 2), from_attributes(a));
    }
};

template <>
struct op_traits<op_kind::depthwise_convolution> {
    using args = depthwise_convolution_args;
    static constexpr backward_fn backward = &backward_rule::depthwise_convolution;
    // No channel_last argument (nnabla has none): converted inputs are transposed back.
    static constexpr layout_rule channel_last = layout_rule::fallback;
    static constexpr args from_attributes(const attributes& a) {
        const int sp = a.spatial_dims;
        return {a.base_axis, detail::dims_of(a.pad, sp), detail::dims_of(a.stride, sp),
                detail::dims_of(a.dilation, sp), a.group};
    }
    static constexpr var rebuild(builder&, const attributes& a, std::span<const var> in) {
        return F::depthwise_convolution(in[0], in[1], detail::input_or_none(in, 2), from_attributes(a));
    }
};

}  // namespace kata

KATA_ADAPT_ARGS(kata::convolution_args, base_axis, pad, stride, dilation, group, channel_last);
KATA_ADAPT_ARGS(kata::depthwise_convolution_args, base_axis, pad, stride, dilation, multiplier);
