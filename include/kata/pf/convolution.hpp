// kata/pf/convolution.hpp
//
// PF::convolution, PF::depthwise_convolution, PF::deconvolution, PF::depthwise_deconvolution:
// nnabla's parametric functions with the same argument defaults, parameter shapes, scope names and
// default initializers (Glorot uniform for W with nnabla's calc_uniform_lim_glorot, zeros for b).
// Options as designated initializers or as keywords in any order (kata/ops/keywords.hpp):
//     PF::convolution(x, 32, {3, 3}, {.pad = {1, 1}, .group = 4, .name = "c"})   // c/conv/W, c/conv/b
//     PF::convolution(x, 32, {3, 3}, kw::group = 4, kw::pad = {1, 1}, kw::name = "c")
#pragma once

#include "../ops/convolution.hpp"
#include "../ops/deconvolution.hpp"
#include "common.hpp"

namespace kata {

struct pf_convolution_args {
    dims pad{};
    dims stride{};
    dims dilation{};
    std::int64_t group = 1;
    bool channel_last = false;
    init_spec w_init{};  // default: glorot uniform
    init_spec b_init{};  // default: constant 0
    int base_axis = 1;
    bool fix_parameters = false;
    bool with_bias = true;
    std::string_view name = {};  // default scope "conv"
};

struct pf_deconvolution_args {
    dims pad{};
    dims stride{};
    dims dilation{};
    std::int64_t group = 1;
    bool channel_last = false;
    dims output_padding{};
    init_spec w_init{};
    init_spec b_init{};
    int base_axis = 1;
    bool fix_parameters = false;
    bool with_bias = true;
    std::string_view name = {};  // default scope "deconv"
};

struct pf_depthwise_convolution_args {
    dims pad{};
    dims stride{};
    dims dilation{};
    std::int64_t multiplier = 1;  // divisor for depthwise_deconvolution
    init_spec w_init{};
    init_spec b_init{};
    int base_axis = 1;
    bool fix_parameters = false;
    bool with_bias = true;
    std::string_view name = {};  // default "depthwise_conv" / "depthwise_deconv"
};

namespace PF {

// nnabla: PF.convolution(inp, outmaps, kernel, pad, stride, dilation, group=1, channel_last=False,
//   w_init=None, b_init=None, base_axis=1, fix_parameters=False, rng=None, with_bias=True, name="conv")
// W: (outmaps, inmaps/group, *kernel) or (outmaps, *kernel, inmaps/group) when channel_last.
constexpr var convolution(var x, std::int64_t outmaps, dims kernel, pf_convolution_args a = {}) {
    builder& g = *x.g;
    auto s = g.scope(detail::scope_name(a.name, "conv"));
    const shape_t& xs = x.shape();
    const int cax = a.channel_last ? xs.rank - 1 : a.base_axis;
    const std::int64_t inmaps = (cax >= 0 && cax < xs.rank) ? xs.dims[cax] : 1;
    const shape_t ws =
        detail::weight_shape(outmaps, a.group > 0 ? inmaps / a.group : inmaps, kernel, a.channel_last);
    init_spec wi = detail::or_default(
        a.w_init, glorot_uniform_init(double(inmaps), double(outmaps), double(detail::kernel_prod(kernel))));
    var w = g.parameter("W", ws, wi, !a.fix_parameters);
    var b = detail::make_bias(g, a.with_bias, outmaps, a.b_init, a.fix_parameters);
    return F::convolution(x, w, b, {a.base_axis, a.pad, a.stride, a.dilation, a.group, a.channel_last});
}

// nnabla: PF.deconvolution(..., name="deconv"). W: (inmaps, outmaps/group, *kernel) or
// (inmaps, *kernel, outmaps/group) when channel_last.
constexpr var deconvolution(var x, std::int64_t outmaps, dims kernel, pf_deconvolution_args a = {}) {
    builder& g = *x.g;
    auto s = g.scope(detail::scope_name(a.name, "deconv"));
    const shape_t& xs = x.shape();
    const int cax = a.channel_last ? xs.rank - 1 : a.base_axis;
    const std::int64_t inmaps = (cax >= 0 && cax < xs.rank) ? xs.dims[cax] : 1;
    const shape_t ws =
        detail::weight_shape(inmaps, a.group > 0 ? outmaps / a.group : outmaps, kernel, a.channel_last);
    init_spec wi = detail::or_default(
        a.w_init, glorot_uniform_init(double(inmaps), double(outmaps), double(detail::kernel_prod(kernel))));
    var w = g.parameter("W", ws, wi, !a.fix_parameters);
    var b = detail::make_bias(g, a.with_bias, outmaps, a.b_init, a.fix_parameters);
    return F::deconvolution(
        x, w, b, {a.base_axis, a.pad, a.stride, a.dilation, a.group, a.channel_last, a.output_padding});
}

// nnabla: PF.depthwise_convolution(inp, kernel, pad, stride, dilation, multiplier=1, ...,
// name="depthwise_conv"). W: (inmaps * multiplier, *kernel).
constexpr var depthwise_convolution(var x, dims kernel, pf_depthwise_convolution_args a = {}) {
    builder& g = *x.g;
    auto s = g.scope(detail::scope_name(a.name, "depthwise_conv"));
    const std::int64_t inmaps = x.shape().dims[a.base_axis];
    shape_t ws;
    ws.push_back(inmaps * a.multiplier);
    for (int i = 0; i < kernel.n && i < max_spatial; ++i) ws.push_back(kernel[i]);
    init_spec wi =
        detail::or_default(a.w_init, glorot_uniform_init(double(inmaps), double(inmaps * a.multiplier),
                                                         double(detail::kernel_prod(kernel))));
    var w = g.parameter("W", ws, wi, !a.fix_parameters);
    var b = detail::make_bias(g, a.with_bias, inmaps * a.multiplier, a.b_init, a.fix_parameters);
    return F::depthwise_convolution(x, w, b, {a.base_axis, a.pad, a.stride, a.dilation, a.multiplier});
}

// nnabla: PF.depthwise_deconvolution(inp, kernel, pad, stride, dilation, divisor=1, ...,
// name="depthwise_deconv"). W: (inmaps, *kernel); output inmaps / divisor. `multiplier` is the divisor.
constexpr var depthwise_deconvolution(var x, dims kernel, pf_depthwise_convolution_args a = {}) {
    builder& g = *x.g;
    auto s = g.scope(detail::scope_name(a.name, "depthwise_deconv"));
    const std::int64_t inmaps = x.shape().dims[a.base_axis];
    const std::int64_t divisor = a.multiplier;
    shape_t ws;
    ws.push_back(inmaps);
    for (int i = 0; i < kernel.n && i < max_spatial; ++i) ws.push_back(kernel[i]);
    init_spec wi = detail::or_default(
        a.w_init, glorot_uniform_init(double(inmaps), double(divisor > 0 ? inmaps / divisor : inmaps),
                                      double(detail::kernel_prod(kernel))));
    var w = g.parameter("W", ws, wi, !a.fix_parameters);
    var b = detail::make_bias(g, a.with_bias, divisor > 0 ? inmaps / divisor : inmaps, a.b_init,
                              a.fix_parameters);
    return F::depthwise_deconvolution(x, w, b, {a.base_axis, a.pad, a.stride, a.dilation, divisor});
}

// Keyword forms (kata/ops/keywords.hpp).
template <keyword_argument... K>
constexpr var convolution(var x, std::int64_t outmaps, dims kernel, const K&... kws) {
    return convolution(x, outmaps, kernel, make_args<pf_convolution_args>(kws...));
}
template <keyword_argument... K>
constexpr var deconvolution(var x, std::int64_t outmaps, dims kernel, const K&... kws) {
    return deconvolution(x, outmaps, kernel, make_args<pf_deconvolution_args>(kws...));
}
template <keyword_argument... K>
constexpr var depthwise_convolution(var x, dims kernel, const K&... kws) {
    return depthwise_convolution(x, kernel, make_args<pf_depthwise_convolution_args>(kws...));
}
template <keyword_argument... K>
constexpr var depthwise_deconvolution(var x, dims kernel, const K&... kws) {
    return depthwise_deconvolution(x, kernel, make_args<pf_depthwise_convolution_args>(kws...));
}

}  // namespace PF
}  // namespace kata

KATA_ADAPT_ARGS(kata::pf_convolution_args, pad, stride, dilation, group, channel_last, w_init, b_init,
                base_axis, fix_parameters, with_bias, name);
KATA_ADAPT_ARGS(kata::pf_deconvolution_args, pad, stride, dilation, group, channel_last, output_padding,
                w_init, b_init, base_axis, fix_parameters, with_bias, name);
KATA_ADAPT_ARGS(kata::pf_depthwise_convolution_args, pad, stride, dilation, multiplier, w_init, b_init,
                base_axis, fix_parameters, with_bias, name);
