// kata/ops/loss.hpp
//
// Losses with nnabla's names and arguments:
//   F::softmax_cross_entropy(x, t, axis = last): y = -log softmax(x)[t] along `axis`; t holds int32 class
//     indices with x's shape and size 1 on `axis` (nnabla's label layout); y has t's shape.
//   F::squared_error(x0, x1): y = (x0 - x1)^2, element-wise (both of one shape).
// Reduce them with F::mean / F::sum (kata/ops/reduction.hpp) for a scalar loss. Backward: the labels get
// no gradient; SoftmaxCrossEntropyGrad (kata/ops/gradient.hpp) gives dy (softmax(x) - onehot(t)).
#pragma once

#include "common.hpp"

namespace kata {

namespace F {

constexpr var softmax_cross_entropy(var x, var t, int axis = -1) {
    builder& g = *x.g;
    constexpr op_kind k = op_kind::softmax_cross_entropy;
    const shape_t& xs = x.shape();
    attributes a;
    a.axis = axis < 0 ? axis + xs.rank : axis;
    shape_t out = xs;
    if (a.axis < 0 || a.axis >= xs.rank) {
        auto m = g.prefix(k);
        m.append("axis ").append_int(axis).append(" out of range for ");
        detail::append_var(m, "x", x);
        g.fail(m);
        return g.function(k, {x, t}, a, xs, layout::none);
    }
    out.dims[a.axis] = 1;
    if (!(t.shape() == out) || t.type() != dtype::i32) {
        auto m = g.prefix(k);
        detail::append_var(m, "label t", t).append(" must be int32 of shape ");
        append_shape(m, out).append(" (x ");
        append_shape(m, xs).append(" with 1 on axis ").append_int(a.axis).append(")");
        g.fail(m);
    }
    return g.function(k, {x, t}, a, out, detail::inherit_layout(x, out));
}

constexpr var squared_error(var x0, var x1) {
    builder& g = *x0.g;
    constexpr op_kind k = op_kind::squared_error;
    if (!(x0.shape() == x1.shape())) {
        auto m = g.prefix(k);
        detail::append_var(m, "x0", x0).append(" and ");
        detail::append_var(m, "x1", x1).append(" must have one shape");
        g.fail(m);
    }
    return g.function(k, {x0, x1}, attributes{}, x0.shape(), x0.lay());
}

}  // namespace F

// ---- descriptors (descriptor.hpp) -----------------------------------------------------------------

namespace op_args {
struct softmax_cross_entropy {
    int axis = -1;
};
}  // namespace op_args

template <>
struct op_traits<op_kind::softmax_cross_entropy> {
    using args = op_args::softmax_cross_entropy;
    static constexpr layout_rule channel_last = layout_rule::fallback;
    static constexpr args from_attributes(const attributes& a) { return {a.axis}; }
    static constexpr var rebuild(builder&, const attributes& a, std::span<const var> in) {
        return F::softmax_cross_entropy(in[0], in[1], a.axis);
    }
    static constexpr backward_fn backward = &backward_rule::softmax_cross_entropy;
};

template <>
struct op_traits<op_kind::squared_error> {
    using args = op_args::none;
    static constexpr layout_rule channel_last = layout_rule::elementwise;
    static constexpr args from_attributes(const attributes&) { return {}; }
    static constexpr var rebuild(builder&, const attributes&, std::span<const var> in) {
        return F::squared_error(in[0], in[1]);
    }
    static constexpr backward_fn backward = &backward_rule::squared_error;
};

}  // namespace kata

KATA_ADAPT_ARGS(kata::op_args::softmax_cross_entropy, axis);
