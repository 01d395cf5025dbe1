// kata/ops/deconvolution.hpp
//
// F::deconvolution and F::depthwise_deconvolution: nnabla's Deconvolution (transposed convolution)
// and DepthwiseDeconvolution.
//
// Layouts (docs/nnabla-semantics.md §0.1): channel-first x (N.., C, S..), W (C, O/g, k..); channel-last x
// (N.., S.., C), W (C, k.., O/g). Output size: (i - 1) s - 2p + d (k - 1) + 1 + output_padding.
// Depthwise: W (C, k..), output channels C / divisor (input channels c*divisor .. c*divisor+divisor-1
// all contribute to output channel c, like a grouped transposed convolution with C/divisor groups).
//
// Arguments: deconvolution_args / depthwise_deconvolution_args or keywords in any order
// (keywords.hpp). Descriptors at the end.
#pragma once

#include "convolution.hpp"

namespace kata {

struct deconvolution_args {
    int base_axis = 1;
    dims pad{};
    dims stride{};
    dims dilation{};
    std::int64_t group = 1;
    bool channel_last = false;
    dims output_padding{};
};

struct depthwise_deconvolution_args {
    int base_axis = 1;
    dims pad{};
    dims stride{};
    dims dilation{};
    std::int64_t divisor = 1;
};

namespace detail {

constexpr bool deconv_spatial(builder& g, op_kind k, var x, const shape_t& w, int fsx, int fsw, int nsp,
                              const dims& pad, const dims& stride, const dims& dilation, const dims& opad,
                              attributes& a, std::int64_t (&out)[max_spatial]) {
    a.spatial_dims = nsp;
    if (!take_dims(g, k, "pad", pad, nsp, a.pad, 0)) return false;
    if (!take_dims(g, k, "stride", stride, nsp, a.stride, 1)) return false;
    if (!take_dims(g, k, "dilation", dilation, nsp, a.dilation, 1)) return false;
    if (!take_dims(g, k, "output_padding", opad, nsp, a.output_padding, 0)) return false;
    for (int i = 0; i < nsp; ++i) {
        a.kernel[i] = w.dims[fsw + i];
        if (a.stride[i] <= 0 || a.dilation[i] <= 0 || a.pad[i] < 0 || a.output_padding[i] < 0 ||
            (a.output_padding[i] >= a.stride[i] && a.output_padding[i] >= a.dilation[i])) {
            auto m = g.prefix(k);
            m.append("invalid spatial arguments on axis ")
                .append_int(i)
                .append(" (pad ")
                .append_int(a.pad[i]);
            m.append(", stride ").append_int(a.stride[i]).append(", dilation ").append_int(a.dilation[i]);
            m.append(", output_padding ").append_int(a.output_padding[i]);
            m.append("): output_padding must be smaller than stride or dilation: ");
            append_var(m, "x", x).append(", W ");
            append_shape(m, w);
            g.fail(m);
            return false;
        }
        out[i] = (x.shape().dims[fsx + i] - 1) * a.stride[i] - 2 * a.pad[i] +
                 a.dilation[i] * (a.kernel[i] - 1) + 1 + a.output_padding[i];
        if (out[i] <= 0) {
            auto m = g.prefix(k);
            append_var(m, "input x", x).append(" gives a non-positive output size on spatial axis ");
            m.append_int(i).append(" (pad ").append_int(a.pad[i]).append(", stride ").append_int(a.stride[i]);
            m.append(", dilation ").append_int(a.dilation[i]).append(") with W ");
            append_shape(m, w);
            g.fail(m);
            return false;
        }
    }
    return true;
}

}  // namespace detail

namespace F {

// nnabla: F.deconvolution(x, weight, bias=None, base_axis=1, pad=None, stride=None, dilation=None,
//                         group=1, channel_last=False, output_padding=None)
constexpr var deconvolution(var x, var w, var b, deconvolution_args args = {}) {
    builder& g = *x.g;
    constexpr op_kind k = op_kind::deconvolution;
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
    if (ws.dims[0] != C) return fail_shapes("W.shape[0] must equal the input channels");
    if (C % args.group != 0) return fail_shapes("input channels are not divisible by group");
    const std::int64_t O = (args.channel_last ? ws.dims[ws.rank - 1] : ws.dims[1]) * args.group;
    if (!detail::check_bias(g, k, b, O)) return g.function(k, {x, w}, a, xs, x.lay());
    std::int64_t out_sp[max_spatial]{};
    const int fsx = args.channel_last ? args.base_axis : args.base_axis + 1;
    const int fsw = args.channel_last ? 1 : 2;
    if (!detail::deconv_spatial(g, k, x, ws, fsx, fsw, nsp, args.pad, args.stride, args.dilation,
                                args.output_padding, a, out_sp))
        return g.function(k, {x, w}, a, xs, x.lay());
    shape_t out;
    for (int i = 0; i < args.base_axis; ++i) out.push_back(xs.dims[i]);
    if (!args.channel_last) out.push_back(O);
    for (int i = 0; i < nsp; ++i) out.push_back(out_sp[i]);
    if (args.channel_last) out.push_back(O);
    layout l =
        out.rank >= 3 ? (args.channel_last ? layout::channel_last : layout::channel_first) : layout::none;
    if (is_none(b)) return g.function(k, {x, w}, a, out, l);
    return g.function(k, {x, w, b}, a, out, l);
}
constexpr var deconvolution(var x, var w, deconvolution_args args = {}) {
    return deconvolution(x, w, none, args);
}

// nnabla: F.depthwise_deconvolution(x, weight, bias=None, base_axis=1, pad=None, stride=None,
//                                   dilation=None, divisor=1). W (C, k1..kd); output C/divisor.
constexpr var depthwise_deconvolution(var x, var w, var b, depthwise_deconvolution_args args = {}) {
    builder& g = *x.g;
    constexpr op_kind k = op_kind::depthwise_deconvolution;
    const shape_t& xs = x.shape();
    const shape_t& ws = w.shape();
    attributes a;
    a.base_axis = args.base_axis;
    a.group = args.divisor;
    a.has_bias = !is_none(b);
    const int nsp = xs.rank - args.base_axis - 1;
    auto fail_shapes = [&](const char* why) {
        auto m = g.prefix(k);
        m.append(why).append(": ");
        detail::append_var(m, "x", x).append(", ");
        detail::append_var(m, "W", w).append(", divisor ").append_int(args.divisor);
        g.fail(m);
        return g.function(k, {x, w}, a, xs, x.lay());
    };
    if (nsp < 1 || nsp > 2) return fail_shapes("supports 1 or 2 spatial axes after base_axis");
    if (ws.rank != nsp + 1) return fail_shapes("W must have rank (spatial axes + 1)");
    if (!detail::check_layout(g, k, x, false)) return g.function(k, {x, w}, a, xs, x.lay());
    const std::int64_t C = xs.dims[args.base_axis];
    if (ws.dims[0] != C) return fail_shapes("W.shape[0] must equal the input channels");
    if (args.divisor <= 0 || C % args.divisor != 0)
        return fail_shapes("input channels not divisible by divisor");
    if (!detail::check_bias(g, k, b, C / args.divisor)) return g.function(k, {x, w}, a, xs, x.lay());
    std::int64_t out_sp[max_spatial]{};
    if (!detail::deconv_spatial(g, k, x, ws, args.base_axis + 1, 1, nsp, args.pad, args.stride, args.dilation,
                                dims{}, a, out_sp))
        return g.function(k, {x, w}, a, xs, x.lay());
    shape_t out;
    for (int i = 0; i < args.base_axis; ++i) out.push_back(xs.dims[i]);
    out.push_back(C / args.divisor);
    for (int i = 0; i < nsp; ++i) out.push_back(out_sp[i]);
    layout l = out.rank >= 3 ? layout::channel_first : layout::none;
    if (is_none(b)) return g.function(k, {x, w}, a, out, l);
    return g.function(k, {x, w, b}, a, out, l);
}
constexpr var depthwise_deconvolution(var x, var w, depthwise_deconvolution_args args = {}) {
    return depthwise_deconvolution(x, w, none, args);
}

// Keyword forms (keywords.hpp).
template <keyword_argument... K>
constexpr var deconvolution(var x, var w, var b, const K&... kws) {
    return deconvolution(x, w, b, make_args<deconvolution_args>(kws...));
}
template <keyword_argument... K>
constexpr var deconvolution(var x, var w, const K&... kws) {
    return deconvolution(x, w, none, make_args<deconvolution_args>(kws...));
}
template <keyword_argument... K>
constexpr var depthwise_deconvolution(var x, var w, var b, const K&... kws) {
    return depthwise_deconvolution(x, w, b, make_args<depthwise_deconvolution_args>(kws...));
}
template <keyword_argument... K>
constexpr var depthwise_deconvolution(var x, var w, const K&... kws) {
    return depthwise_deconvolution(x, w, none, make_args<depthwise_deconvolution_args>(kws...));
}

}  // namespace F

// ---- descriptors (descriptor.hpp) -----------------------------------------------------------------

template <>
struct op_traits<op_kind::deconvolution> {
    using args = deconvolution_args;
    static constexpr backward_fn backward = &backward_rule::deconvolution;
    static constexpr layout_rule channel_last = layout_rule::convolution_like;
    static constexpr args from_attributes(const attributes& a) {
        const int sp = a.spatial_dims;
        args r;
        r.base_axis = a.base_axis;
        r.pad = detail::dims_of(a.pad, sp);
        r.stride = detail::dims_of(a.stride, sp);
        r.dilation = detail::dims_of(a.dilation, sp);
        r.group = a.group;
        r.channel_last = a.channel_last;
        r.output_padding = detail::dims_of(a.output_padding, sp);
        return r;
    }
    static constexpr var rebuild(builder&, const attributes& a, std::span<const var> in) {
        return F::deconvolution(in[0], in[1], detail::input_or_none(in, 2), from_attributes(a));
    }
};

template <>
struct op_traits<op_kind::depthwise_deconvolution> {
    using args = depthwise_deconvolution_args;
    // No channel_last argument (nnabla has none): converted inputs are transposed back.
    static constexpr layout_rule channel_last = layout_rule::fallback;
    static constexpr backward_fn backward = &backward_rule::depthwise_deconvolution;
    static constexpr args from_attributes(const attributes& a) {
        const int sp = a.spatial_dims;
        return {a.base_axis, detail::dims_of(a.pad, sp), detail::dims_of(a.stride, sp),
                detail::dims_of(a.dilation, sp), a.group};
    }
    static constexpr var rebuild(builder&, const attributes& a, std::span<const var> in) {
        return F::depthwise_deconvolution(in[0], in[1], detail::input_or_none(in, 2), from_attributes(a));
    }
};

}  // namespace kata

KATA_ADAPT_ARGS(kata::deconvolution_args, base_axis, pad, stride, dilation, group, channel_last,
                output_padding);
KATA_ADAPT_ARGS(kata::depthwise_deconvolution_args, base_axis, pad, stride, dilation, divisor);
