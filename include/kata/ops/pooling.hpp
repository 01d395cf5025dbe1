// kata/ops/pooling.hpp
//
// MaxPooling, AveragePooling, SumPooling, Unpooling and GlobalAveragePooling (nnabla semantics).
//
// The kernel applies to the last len(kernel) axes (channel-first) or to the len(kernel) axes before
// the channel axis (channel-last). stride defaults to kernel, pad to 0. Output per pooled axis
// (nnabla's get_pooling_output_shape): ignore_border ? (w + 2p - k)/s + 1 : (w + p - 1)/s + 1.
// Padded positions never win a max; AveragePooling divides by the window size including padding
// (including_pad) or by the number of valid inputs.
//
// Arguments: pooling_args or keywords (`F::max_pooling(x, {2, 2}, stride = {1, 1}, pad = {1, 1})`,
// keywords.hpp). Descriptors at the end.
#pragma once

#include "common.hpp"

namespace kata {

struct pooling_args {
    dims stride{};
    bool ignore_border = true;
    dims pad{};
    bool channel_last = false;
    bool including_pad = true;  // AveragePooling only
};

namespace detail {

constexpr var pooling(op_kind k, var x, const dims& kernel, const pooling_args& args) {
    builder& g = *x.g;
    const shape_t& xs = x.shape();
    attributes a;
    a.channel_last = args.channel_last;
    a.ignore_border = args.ignore_border;
    a.including_pad = args.including_pad;
    const int nk = kernel.n;
    a.spatial_dims = nk;
    // The diagnostic names x's shape and, once they are known (`with_args`), kernel, stride and pad.
    auto failed = [&](const char* why, bool with_args = false) {
        auto m = g.prefix(k);
        m.append(why).append(": ");
        append_var(m, "x", x).append(", kernel of ").append_int(nk).append(" axes");
        if (with_args) {
            const std::int64_t* lists[3] = {a.kernel, a.stride, a.pad};
            const char* names[3] = {" ", ", stride ", ", pad "};
            for (int l = 0; l < 3; ++l) {
                m.append(names[l]).append('(');
                for (int i = 0; i < nk; ++i) {
                    if (i) m.append(',');
                    m.append_int(lists[l][i]);
                }
                m.append(')');
            }
            m.append(args.ignore_border ? ", ignore_border" : ", ignore_border=false");
            m.append(args.channel_last ? ", channel_last" : "");
        }
        g.fail(m);
        return g.function(k, {x}, a, xs, x.lay());
    };
    if (nk < 1 || nk > max_spatial) return failed("kernel must have 1 to 3 entries");
    if (xs.rank < nk + (args.channel_last ? 1 : 0)) return failed("input rank is too small for the kernel");
    if (!check_layout(g, k, x, args.channel_last) && x.lay() != layout::none)
        return g.function(k, {x}, a, xs, x.lay());
    for (int i = 0; i < nk; ++i) a.kernel[i] = kernel[i];
    if (!take_dims(g, k, "stride", args.stride.given() ? args.stride : kernel, nk, a.stride, 1))
        return g.function(k, {x}, a, xs, x.lay());
    if (!take_dims(g, k, "pad", args.pad, nk, a.pad, 0)) return g.function(k, {x}, a, xs, x.lay());
    const int first = xs.rank - nk - (args.channel_last ? 1 : 0);
    a.base_axis = first;
    shape_t out = xs;
    for (int i = 0; i < nk; ++i) {
        const std::int64_t w = xs.dims[first + i], kk = a.kernel[i], s = a.stride[i], p = a.pad[i];
        if (kk <= 0 || s <= 0 || p < 0)
            return failed("kernel and stride must be positive, pad non-negative", true);
        // Checked before the division: C++ truncates (4 - 5) / 5 to 0, which would hide the error.
        if (args.ignore_border && w + 2 * p < kk) return failed("kernel larger than the padded input", true);
        out.dims[first + i] = (w + p - (args.ignore_border ? kk - p : 1)) / s + 1;
        if (out.dims[first + i] <= 0) return failed("kernel larger than the padded input", true);
    }
    return g.function(k, {x}, a, out, x.lay());
}

}  // namespace detail

namespace F {

constexpr var max_pooling(var x, dims kernel, pooling_args args = {}) {
    return detail::pooling(op_kind::max_pooling, x, kernel, args);
}
constexpr var average_pooling(var x, dims kernel, pooling_args args = {}) {
    return detail::pooling(op_kind::average_pooling, x, kernel, args);
}
constexpr var sum_pooling(var x, dims kernel, pooling_args args = {}) {
    return detail::pooling(op_kind::sum_pooling, x, kernel, args);
}

// nnabla: F.unpooling(x, kernel, channel_last=False): every element repeated kernel times along the
// pooled axes (nearest-neighbour upsampling).
constexpr var unpooling(var x, dims kernel, bool channel_last = false) {
    builder& g = *x.g;
    constexpr op_kind k = op_kind::unpooling;
    const shape_t& xs = x.shape();
    attributes a;
    a.channel_last = channel_last;
    a.spatial_dims = kernel.n;
    shape_t out = xs;
    if (kernel.n < 1 || kernel.n > max_spatial || xs.rank < kernel.n + (channel_last ? 1 : 0)) {
        auto m = g.prefix(k);
        detail::append_var(m, "x", x).append(" cannot be unpooled with a kernel of ").append_int(kernel.n);
        m.append(" axes");
        g.fail(m);
        return g.function(k, {x}, a, xs, x.lay());
    }
    const int first = xs.rank - kernel.n - (channel_last ? 1 : 0);
    a.base_axis = first;
    for (int i = 0; i < kernel.n; ++i) {
        a.kernel[i] = kernel[i];
        out.dims[first + i] *= kernel[i];
    }
    return g.function(k, {x}, a, out, x.lay());
}

// nnabla: F.global_average_pooling(x): (N, C, ...) -> (N, C, 1, 1) (channel-first only, 4-D).
constexpr var global_average_pooling(var x) {
    builder& g = *x.g;
    constexpr op_kind k = op_kind::global_average_pooling;
    const shape_t& xs = x.shape();
    shape_t out;
    if (xs.rank < 2 || x.lay() == layout::channel_last) {
        auto m = g.prefix(k);
        detail::append_var(m, "x", x).append(" must be channel-first with rank >= 2");
        g.fail(m);
        return g.function(k, {x}, attributes{}, xs, x.lay());
    }
    out.push_back(xs.dims[0]);
    out.push_back(xs.dims[1]);
    out.push_back(1);
    out.push_back(1);
    return g.function(k, {x}, attributes{}, out, layout::channel_first);
}

// Keyword forms (keywords.hpp).
template <keyword_argument... K>
constexpr var max_pooling(var x, dims kernel, const K&... kws) {
    return max_pooling(x, kernel, make_args<pooling_args>(kws...));
}
template <keyword_argument... K>
constexpr var average_pooling(var x, dims kernel, const K&... kws) {
    return average_pooling(x, kernel, make_args<pooling_args>(kws...));
}
template <keyword_argument... K>
constexpr var sum_pooling(var x, dims kernel, const K&... kws) {
    return sum_pooling(x, kernel, make_args<pooling_args>(kws...));
}

}  // namespace F

// ---- descriptors (descriptor.hpp) -----------------------------------------------------------------

namespace op_args {
struct pooling {  // MaxPooling, SumPooling
    dims kernel{};
    dims stride{};
    bool ignore_border = true;
    dims pad{};
    bool channel_last = false;
};
struct average_pooling {
    dims kernel{};
    dims stride{};
    bool ignore_border = true;
    dims pad{};
    bool channel_last = false;
    bool including_pad = true;
};
struct unpooling {
    dims kernel{};
    bool channel_last = false;
};
}  // namespace op_args

namespace detail {
template <op_kind K, class Args>
struct pooling_traits {
    using args = Args;
    static constexpr layout_rule channel_last = layout_rule::pooling;
    static constexpr args from_attributes(const attributes& a) {
        const int sp = a.spatial_dims;
        args r;
        r.kernel = dims_of(a.kernel, sp);
        r.stride = dims_of(a.stride, sp);
        r.ignore_border = a.ignore_border;
        r.pad = dims_of(a.pad, sp);
        r.channel_last = a.channel_last;
        if constexpr (requires { r.including_pad; }) r.including_pad = a.including_pad;
        return r;
    }
    static constexpr var rebuild(builder&, const attributes& a, std::span<const var> in) {
        const int sp = a.spatial_dims;
        const pooling_args p{dims_of(a.stride, sp), a.ignore_border, dims_of(a.pad, sp), a.channel_last,
                             a.including_pad};
        return pooling(K, in[0], dims_of(a.kernel, sp), p);
    }
};
}  // namespace detail

template <>
struct op_traits<op_kind::max_pooling> : detail::pooling_traits<op_kind::max_pooling, op_args::pooling> {
    static constexpr backward_fn backward = &backward_rule::max_pooling;
};
template <>
struct op_traits<op_kind::sum_pooling> : detail::pooling_traits<op_kind::sum_pooling, op_args::pooling> {
    static constexpr backward_fn backward = &backward_rule::sum_pooling;
};
template <>
struct op_traits<op_kind::average_pooling>
    : detail::pooling_traits<op_kind::average_pooling, op_args::average_pooling> {
    static constexpr backward_fn backward = &backward_rule::average_pooling;
};

template <>
struct op_traits<op_kind::unpooling> {
    using args = op_args::unpooling;
    static constexpr backward_fn backward = &backward_rule::unpooling;
    static constexpr layout_rule channel_last = layout_rule::pooling;
    static constexpr args from_attributes(const attributes& a) {
        return {detail::dims_of(a.kernel, a.spatial_dims), a.channel_last};
    }
    static constexpr var rebuild(builder&, const attributes& a, std::span<const var> in) {
        return F::unpooling(in[0], detail::dims_of(a.kernel, a.spatial_dims), a.channel_last);
    }
};

template <>
struct op_traits<op_kind::global_average_pooling> {
    using args = op_args::none;
    static constexpr layout_rule channel_last = layout_rule::global_pooling;
    static constexpr backward_fn backward = &backward_rule::global_average_pooling;
    static constexpr args from_attributes(const attributes&) { return {}; }
    static constexpr var rebuild(builder&, const attributes&, std::span<const var> in) {
        return F::global_average_pooling(in[0]);
    }
};

}  // namespace kata

KATA_ADAPT_ARGS(kata::pooling_args, stride, ignore_border, pad, channel_last, including_pad);
KATA_ADAPT_ARGS(kata::op_args::pooling, kernel, stride, ignore_border, pad, channel_last);
KATA_ADAPT_ARGS(kata::op_args::average_pooling, kernel, stride, ignore_border, pad, channel_last,
                including_pad);
KATA_ADAPT_ARGS(kata::op_args::unpooling, kernel, channel_last);
