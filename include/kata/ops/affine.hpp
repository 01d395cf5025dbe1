// kata/ops/affine.hpp
//
// F::affine (nnabla Affine) and F::embed (nnabla Embed).
//
// Affine: x is flattened from base_axis: K = prod(x.shape[base_axis:]); W (K, O...), i.e. (in, out)
// as in nnabla (docs/nnabla-semantics.md §0.1), b W.shape[1:]. Output x.shape[:base_axis] + W.shape[1:]. For
// a 4-D NCHW input the flattened index is c*H*W + h*W + w (and h*W*C + w*C + c for NHWC: layout matters,
// which is why converters rewrite W when they change the layout).
//
// Arguments: affine_args or keywords (`F::affine(x, w, b, base_axis = 2)`, keywords.hpp). Descriptors
// at the end.
#pragma once

#include "common.hpp"

namespace kata {

struct affine_args {
    int base_axis = 1;
};

namespace detail {
// "Affine in scope 'fc': base_axis 3 is out of range for x (2,3,4) (0 <= base_axis < 3)". Shared with
// the parametric Affines, which cannot size W without a valid base_axis: their message names no
// weight (an invented W (1, n) would mislead, issue 15).
constexpr message_string affine_base_axis_message(var x, int base_axis, op_kind k = op_kind::affine) {
    auto m = x.g->prefix(k);
    m.append("base_axis ").append_int(base_axis).append(" is out of range for ");
    append_var(m, "x", x).append(" (0 <= base_axis < ").append_int(x.shape().rank).append(")");
    return m;
}

// The body of F::affine, shared with QAffine (kata/ops/quantized.hpp): checks and shape inference
// under the kind `k`; `extra` (none for Affine) is appended as the last input after the bias.
constexpr var affine_node(op_kind k, var x, var w, var b, var extra, affine_args args) {
    builder& g = *x.g;
    const shape_t& xs = x.shape();
    const shape_t& ws = w.shape();
    attributes a;
    a.base_axis = args.base_axis;
    a.has_bias = !is_none(b);
    auto fail_shapes = [&](const char* why) {
        auto m = g.prefix(k);
        m.append(why).append(": ");
        detail::append_var(m, "x", x).append(", ");
        detail::append_var(m, "W", w).append(", base_axis ").append_int(args.base_axis);
        g.fail(m);
        return g.function(k, {x, w}, a, xs, layout::none);
    };
    if (args.base_axis < 0 || args.base_axis >= xs.rank) {
        g.fail(detail::affine_base_axis_message(x, args.base_axis, k));
        return g.function(k, {x, w}, a, xs, layout::none);
    }
    if (ws.rank < 2) return fail_shapes("W must have rank >= 2 (in, out...)");
    if (xs.prod_from(args.base_axis) != ws.dims[0])
        return fail_shapes("prod(x.shape[base_axis:]) must equal W.shape[0]");
    shape_t out;
    for (int i = 0; i < args.base_axis; ++i) out.push_back(xs.dims[i]);
    for (int i = 1; i < ws.rank; ++i) out.push_back(ws.dims[i]);
    if (!is_none(b)) {
        shape_t bs;
        for (int i = 1; i < ws.rank; ++i) bs.push_back(ws.dims[i]);
        if (!(b.shape() == bs)) {
            auto m = g.prefix(k);
            detail::append_var(m, "bias b", b).append(" must have shape W.shape[1:] = ");
            append_shape(m, bs);
            g.fail(m);
        }
        if (!is_none(extra)) return g.function(k, {x, w, b, extra}, a, out, layout::none);
        return g.function(k, {x, w, b}, a, out, layout::none);
    }
    return g.function(k, {x, w}, a, out, layout::none);
}
}  // namespace detail

namespace F {

constexpr var affine(var x, var w, var b, affine_args args = {}) {
    return detail::affine_node(op_kind::affine, x, w, b, none, args);
}
constexpr var affine(var x, var w, affine_args args = {}) { return affine(x, w, none, args); }

// nnabla: F.embed(x0, w): x0 integer indices of any shape, w (n_inputs, n_features...).
// Output x0.shape + w.shape[1:].
constexpr var embed(var x, var w) {
    builder& g = *x.g;
    constexpr op_kind k = op_kind::embed;
    attributes a;
    const shape_t& ws = w.shape();
    shape_t out = x.shape();
    if (x.type() != dtype::i32 || ws.rank < 2 || out.rank + ws.rank - 1 > max_rank) {
        auto m = g.prefix(k);
        detail::append_var(m, "indices x", x).append(" must be int32 and W ");
        append_shape(m, ws).append(" must have rank >= 2");
        g.fail(m);
    }
    for (int i = 1; i < ws.rank && out.rank < max_rank; ++i) out.push_back(ws.dims[i]);
    var r = g.function(k, {x, w}, a, out, layout::none);
    g.nodes[std::size_t(r.id)].type = w.type();
    return r;
}

// Keyword forms (keywords.hpp).
template <keyword_argument... K>
constexpr var affine(var x, var w, var b, const K&... kws) {
    return affine(x, w, b, make_args<affine_args>(kws...));
}
template <keyword_argument... K>
constexpr var affine(var x, var w, const K&... kws) {
    return affine(x, w, none, make_args<affine_args>(kws...));
}

}  // namespace F

// ---- descriptors (descriptor.hpp) -----------------------------------------------------------------

template <>
struct op_traits<op_kind::affine> {
    using args = affine_args;
    static constexpr layout_rule channel_last = layout_rule::affine_flattening;
    static constexpr backward_fn backward = &backward_rule::affine;
    static constexpr args from_attributes(const attributes& a) { return {a.base_axis}; }
    static constexpr var rebuild(builder&, const attributes& a, std::span<const var> in) {
        return F::affine(in[0], in[1], detail::input_or_none(in, 2), from_attributes(a));
    }
};

template <>
struct op_traits<op_kind::embed> {
    using args = op_args::none;
    static constexpr backward_fn backward = &backward_rule::embed;
    static constexpr layout_rule channel_last = layout_rule::fallback;
    static constexpr args from_attributes(const attributes&) { return {}; }
    static constexpr var rebuild(builder&, const attributes&, std::span<const var> in) {
        return F::embed(in[0], in[1]);
    }
};

}  // namespace kata

KATA_ADAPT_ARGS(kata::affine_args, base_axis);
