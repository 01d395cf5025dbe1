// kata/ops/reduction.hpp
//
// F::sum and F::mean (nnabla Sum and Mean): reduce x over `axes` (all axes when the list is empty,
// nnabla's axis=None), keeping the reduced axes as size 1 when keep_dims. Reducing every axis without
// keep_dims gives a rank-0 (scalar) variable, what a loss usually is.
//
//     auto loss = F::mean(F::softmax_cross_entropy(y, t));            // scalar
//     auto per_channel = F::sum(x, {0, 2, 3});                         // (C,)
//     auto kept = F::sum(x, {1}, true);                                // (N, 1, H, W)
//
// The axes are recorded sorted and non-negative (a repeated or out-of-range axis is a compile error
// naming the op and the shape). The CPU kernel accumulates in double. Backward: BroadcastGrad
// (kata/ops/gradient.hpp).
#pragma once

#include "common.hpp"

namespace kata {

namespace detail {

constexpr var reduce(op_kind k, var x, const axis_list& axes, bool keep_dims) {
    builder& g = *x.g;
    const shape_t& xs = x.shape();
    attributes a;
    a.keep_dims = keep_dims;
    bool red[max_rank]{};
    if (axes.n == 0) {
        for (int d = 0; d < xs.rank; ++d) red[d] = true;
    } else {
        for (int i = 0; i < axes.n; ++i) {
            const int ax = axes[i] < 0 ? axes[i] + xs.rank : axes[i];
            if (ax < 0 || ax >= xs.rank || red[ax]) {
                auto m = g.prefix(k);
                m.append("axis ").append_int(axes[i]).append(" is out of range or repeated for ");
                append_var(m, "x", x);
                g.fail(m);
                return g.function(k, {x}, a, xs, x.lay());
            }
            red[ax] = true;
        }
    }
    shape_t out;
    for (int d = 0; d < xs.rank; ++d) {
        if (red[d]) {
            a.axes[a.naxes++] = d;
            if (keep_dims) out.push_back(1);
        } else {
            out.push_back(xs.dims[d]);
        }
    }
    const layout l = keep_dims && out.rank >= 3 ? x.lay() : layout::none;
    return g.function(k, {x}, a, out, l);
}

// Number of elements reduced into each output element.
constexpr std::int64_t reduced_count(const shape_t& x, const attributes& a) {
    std::int64_t n = 1;
    for (int i = 0; i < a.naxes; ++i) n *= x.dims[a.axes[i]];
    return n;
}

}  // namespace detail

namespace F {
// nnabla: F.sum(x, axis=None, keepdims=False)
constexpr var sum(var x, axis_list axes = {}, bool keep_dims = false) {
    return detail::reduce(op_kind::sum, x, axes, keep_dims);
}
// nnabla: F.mean(x, axis=None, keepdims=False)
constexpr var mean(var x, axis_list axes = {}, bool keep_dims = false) {
    return detail::reduce(op_kind::mean, x, axes, keep_dims);
}
}  // namespace F

// ---- descriptors (descriptor.hpp) -----------------------------------------------------------------

namespace op_args {
struct reduction {  // nnabla's Sum / Mean arguments
    axis_list axes{};
    bool keep_dims = false;
};
}  // namespace op_args

namespace detail {
template <op_kind K, auto Rule>
struct reduction_traits {
    using args = op_args::reduction;
    static constexpr layout_rule channel_last = layout_rule::fallback;
    static constexpr args from_attributes(const attributes& a) {
        return {axis_list(a.axes, a.naxes), a.keep_dims};
    }
    static constexpr var rebuild(builder&, const attributes& a, std::span<const var> in) {
        return reduce(K, in[0], axis_list(a.axes, a.naxes), a.keep_dims);
    }
    static constexpr backward_fn backward = Rule;
};
}  // namespace detail

template <>
struct op_traits<op_kind::sum> : detail::reduction_traits<op_kind::sum, &backward_rule::sum> {};
template <>
struct op_traits<op_kind::mean> : detail::reduction_traits<op_kind::mean, &backward_rule::mean> {};

}  // namespace kata

KATA_ADAPT_ARGS(kata::op_args::reduction, axes, keep_dims);
