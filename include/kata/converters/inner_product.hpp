// kata/converters/inner_product.hpp
//
// Facts about nnabla's "inner-product" functions (Affine, Convolution, Deconvolution) that the batch-norm
// modifiers need: output channel count, which axis of the output holds the channels, and which channel
// each element of W feeds (kata::channel_map, derivation.hpp) for the output and input sides, with
// groups and both layouts (docs/nnabla-semantics.md §0.1):
//     Convolution    W (O, I/g, k..)  or channel-last (O, k.., I/g)
//     Deconvolution  W (I, O/g, k..)  or channel-last (I, k.., O/g)
//     Affine         W (prod(x.shape[base_axis:]), O...)
#pragma once

#include "function_modifier.hpp"

namespace kata::detail {

constexpr bool is_ip(op_kind k) { return is_inner_product(k); }

// Number of output channels (= bias length). Upstream's AddBias uses W.shape[0] for Deconvolution,
// the INPUT channels (docs/nnabla-semantics.md §2.2, 10.3); kata uses (O/g) * g.
constexpr std::int64_t out_channels(function_ref f) {
    const shape_t& w = f.input_shape(1);
    switch (f.type()) {
    case op_kind::convolution: return w.dims[0];
    case op_kind::deconvolution: return (f.attr().channel_last ? w[-1] : w.dims[1]) * f.attr().group;
    case op_kind::affine: return w.prod_from(1);
    default: return 0;
    }
}

// The bias shape nnabla uses: (O,) for convolutions, W.shape[1:] for Affine.
constexpr shape_t bias_shape(function_ref f) {
    const shape_t& w = f.input_shape(1);
    shape_t s;
    if (f.type() == op_kind::affine) {
        for (int i = 1; i < w.rank; ++i) s.push_back(w.dims[i]);
    } else {
        s.push_back(out_channels(f));
    }
    return s;
}

// Axis of f's output that holds the channels (-1: an Affine with a multi-dimensional output).
constexpr int out_channel_axis(function_ref f) {
    const attributes& a = f.attr();
    if (f.type() == op_kind::affine) return f.ndim() == a.base_axis + 1 ? a.base_axis : -1;
    return a.channel_last ? f.ndim() - 1 : a.base_axis;
}

// Axis of f's input x that holds the channels (Affine: -1, any axis >= base_axis works for it).
constexpr int in_channel_axis(function_ref f) {
    const attributes& a = f.attr();
    if (f.type() == op_kind::affine) return -1;
    return a.channel_last ? f.input(0).ndim() - 1 : a.base_axis;
}

// Output channel of W's flat element t.
constexpr channel_map out_map(function_ref f) {
    const shape_t& w = f.input_shape(1);
    const std::int64_t g = f.attr().group;
    channel_map m;
    switch (f.type()) {
    case op_kind::convolution:
        m.inner = w.prod_from(1);
        m.len = w.dims[0];
        break;
    case op_kind::deconvolution:
        m.inner = f.attr().channel_last ? 1 : w.prod_from(2);
        m.len = f.attr().channel_last ? w[-1] : w.dims[1];
        if (g > 1) {
            m.outer_stride = w.prod_from(1);
            m.gsize = w.dims[0] / g;
        }
        break;
    case op_kind::affine:
        m.inner = 1;
        m.len = w.prod_from(1);
        break;
    default: break;
    }
    return m;
}

// Input channel (the channel along axis `bn_axis` of x) of W's flat element t.
constexpr channel_map in_map(function_ref f, int bn_axis) {
    const shape_t& w = f.input_shape(1);
    const std::int64_t g = f.attr().group;
    channel_map m;
    switch (f.type()) {
    case op_kind::convolution:
        m.inner = f.attr().channel_last ? 1 : w.prod_from(2);
        m.len = f.attr().channel_last ? w[-1] : w.dims[1];
        if (g > 1) {
            m.outer_stride = w.prod_from(1);
            m.gsize = w.dims[0] / g;
        }
        break;
    case op_kind::deconvolution:
        m.inner = w.prod_from(1);
        m.len = w.dims[0];
        break;
    case op_kind::affine: {
        const shape_t& x = f.input_shape(0);
        m.inner = x.prod_from(bn_axis + 1) * w.prod_from(1);
        m.len = x.dims[bn_axis];
        break;
    }
    default: break;
    }
    return m;
}

// A batch norm the folders can treat as y = c0 x + c1 per channel: test mode, one axis.
constexpr bool foldable_bn(function_ref bn) {
    return bn.type() == op_kind::batch_normalization && !bn.attr().batch_stat && bn.attr().naxes == 1;
}

// Fills the BN parameter source slots of d from batch norm `bn` (original graph).
constexpr void set_bn_sources(derivation& d, function_ref bn) {
    const bn_input_slots s = bn_slots(bn.attr());
    d.sources[src_beta] = param_name(bn, s.beta);
    d.sources[src_gamma] = param_name(bn, s.gamma);
    d.sources[src_mean] = param_name(bn, s.mean);
    d.sources[src_var] = param_name(bn, s.var);
    d.eps = bn.attr().eps;
}

// True when every BN input (beta, gamma, mean, var) is a parameter (needed to derive from names).
constexpr bool bn_params_are_parameters(function_ref bn) {
    for (int k = 1; k < bn.num_inputs(); ++k)
        if (!bn.input(k).is_parameter()) return false;
    return true;
}

constexpr message_string layer(function_ref f) {
    message_string m(f.type_name());
    m.append(" '").append(f.name()).append("'");
    return m;
}

}  // namespace kata::detail
