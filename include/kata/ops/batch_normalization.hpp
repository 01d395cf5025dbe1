// kata/ops/batch_normalization.hpp
//
// F::batch_normalization and F::fused_batch_normalization (nnabla BatchNormalization and
// FusedBatchNormalization).
//
// Inputs in nnabla order: x, beta, gamma, mean, var[, z]. Pass kata::none for beta (no_bias) or gamma
// (no_scale): the input is then *absent* from the input list, exactly as in nnabla (docs/nnabla-semantics.md
// §0.1). Parameter shapes have x's rank with 1 everywhere except the normalised axes: (1,C,1,1) for NCHW,
// (1,1,1,C) for NHWC, (1,C) for affine outputs.
// Test mode: y = gamma (x - mean) / sqrt(var + eps) + beta. Training (batch_stat): batch statistics
// over the non-normalised axes, and the running statistics are updated with decay_rate (nnabla uses
// the unbiased batch variance, n/(n-1), for the running variance).
//
// Arguments: batch_normalization_args or keywords (`axes = {3}, eps = 1e-3`, keywords.hpp). The
// descriptors (at the end) record nnabla's arguments, no_scale / no_bias included.
#pragma once

#include "common.hpp"

namespace kata {

struct batch_normalization_args {
    int axes[max_rank]{1};
    int naxes = 1;
    double decay_rate = 0.9;
    double eps = 1e-5;
    bool batch_stat = true;
};

// The common case helper: batch-norm arguments for channel axis `axis`.
constexpr batch_normalization_args bn_axis(int axis, bool batch_stat = true, double eps = 1e-5,
                                           double decay_rate = 0.9) {
    batch_normalization_args a;
    a.axes[0] = axis;
    a.naxes = 1;
    a.batch_stat = batch_stat;
    a.eps = eps;
    a.decay_rate = decay_rate;
    return a;
}

namespace detail {

constexpr bool bn_check(builder& g, op_kind k, var x, var beta, var gamma, var mean, var variance,
                        const batch_normalization_args& args, attributes& a) {
    const shape_t& xs = x.shape();
    a.naxes = args.naxes;
    for (int i = 0; i < args.naxes && i < max_rank; ++i)
        a.axes[i] = args.axes[i] < 0 ? args.axes[i] + xs.rank : args.axes[i];
    a.decay_rate = args.decay_rate;
    a.eps = args.eps;
    a.batch_stat = args.batch_stat;
    a.no_bias = is_none(beta);
    a.no_scale = is_none(gamma);
    a.axis = a.naxes > 0 ? a.axes[0] : 1;
    if (args.naxes < 1 || args.naxes > xs.rank) {
        auto m = g.prefix(k);
        m.append("needs 1 to rank(x) axes, got ").append_int(args.naxes).append(" for x ");
        append_shape(m, xs);
        g.fail(m);
        return false;
    }
    auto append_axes = [&](auto& m) -> auto& {  // "[a,b,...]" as the caller wrote them
        m.append('[');
        for (int l = 0; l < args.naxes; ++l) {
            if (l) m.append(',');
            m.append_int(args.axes[l]);
        }
        return m.append(']');
    };
    shape_t ps;
    ps.rank = xs.rank;
    for (int i = 0; i < xs.rank; ++i) ps.dims[i] = 1;
    for (int i = 0; i < args.naxes; ++i) {
        if (a.axes[i] < 0 || a.axes[i] >= xs.rank) {
            auto m = g.prefix(k);
            m.append("axis ").append_int(args.axes[i]).append(" out of range for x ");
            append_shape(m, xs);
            g.fail(m);
            return false;
        }
        for (int j = 0; j < i; ++j) {
            if (a.axes[j] != a.axes[i]) continue;
            // [1, 1] or [1, -3] on 4-D: one axis named twice (nnabla's kernel takes exactly one axis;
            // a repeated one has no meaning beyond the single axis, so it is a mistake in the call).
            auto m = g.prefix(k);
            m.append("axis ").append_int(args.axes[i]).append(" repeats axis ").append_int(args.axes[j]);
            append_axes(m.append(" in axes ")).append(" for x ");
            append_shape(m, xs);
            g.fail(m);
            return false;
        }
        ps.dims[a.axes[i]] = xs.dims[a.axes[i]];
    }
    const char* names[4] = {"beta", "gamma", "mean", "var"};
    var vs[4] = {beta, gamma, mean, variance};
    for (int i = 0; i < 4; ++i) {
        if (is_none(vs[i])) {
            if (i >= 2) {
                auto m = g.prefix(k);
                m.append(names[i]).append(" is required");
                g.fail(m);
                return false;
            }
            continue;
        }
        if (!(vs[i].shape() == ps)) {
            auto m = g.prefix(k);
            m.append(names[i]).append(" has shape ");
            append_shape(m, vs[i].shape()).append(" but x ");
            append_axes(append_shape(m, xs).append(" with axes ")).append(" needs ");
            append_shape(m, ps);
            g.fail(m);
            return false;
        }
    }
    return true;
}

}  // namespace detail

namespace F {

constexpr var batch_normalization(var x, var beta, var gamma, var mean, var variance,
                                  batch_normalization_args args = {}) {
    builder& g = *x.g;
    constexpr op_kind k = op_kind::batch_normalization;
    attributes a;
    detail::bn_check(g, k, x, beta, gamma, mean, variance, args, a);
    var ins[5];
    int n = 0;
    ins[n++] = x;
    if (!is_none(beta)) ins[n++] = beta;
    if (!is_none(gamma)) ins[n++] = gamma;
    ins[n++] = mean;
    ins[n++] = variance;
    return g.function_n(k, ins, n, a, x.shape(), x.lay());
}

// relu(BN(x) + z), or relu(BN(x)) when z is kata::none. nnabla supports only "relu".
constexpr var fused_batch_normalization(var x, var beta, var gamma, var mean, var variance, var z,
                                        batch_normalization_args args = {}) {
    builder& g = *x.g;
    constexpr op_kind k = op_kind::fused_batch_normalization;
    attributes a;
    a.nonlinearity = nonlinearity_kind::relu;
    detail::bn_check(g, k, x, beta, gamma, mean, variance, args, a);
    a.has_residual = !is_none(z);
    if (!is_none(z) && !(z.shape() == x.shape())) {
        auto m = g.prefix(k);
        detail::append_var(m, "residual z", z).append(" must have the shape of ");
        detail::append_var(m, "x", x);
        g.fail(m);
    }
    if (is_none(beta) || is_none(gamma)) {
        auto m = g.prefix(k);
        m.append("beta and gamma are required");
        g.fail(m);
        return g.function(k, {x}, a, x.shape(), x.lay());
    }
    if (is_none(z)) return g.function(k, {x, beta, gamma, mean, variance}, a, x.shape(), x.lay());
    return g.function(k, {x, beta, gamma, mean, variance, z}, a, x.shape(), x.lay());
}

// Keyword forms (keywords.hpp).
template <keyword_argument... K>
constexpr var batch_normalization(var x, var beta, var gamma, var mean, var variance, const K&... kws) {
    return batch_normalization(x, beta, gamma, mean, variance, make_args<batch_normalization_args>(kws...));
}
template <keyword_argument... K>
constexpr var fused_batch_normalization(var x, var beta, var gamma, var mean, var variance, var z,
                                        const K&... kws) {
    return fused_batch_normalization(x, beta, gamma, mean, variance, z,
                                     make_args<batch_normalization_args>(kws...));
}

}  // namespace F

// ---- descriptors (descriptor.hpp) -----------------------------------------------------------------

namespace op_args {
// nnabla's BatchNormalization arguments; no_scale / no_bias say which of beta, gamma are inputs.
struct batch_normalization {
    axis_list axes{1};
    double decay_rate = 0.9;
    double eps = 1e-5;
    bool batch_stat = true;
    bool no_scale = false;
    bool no_bias = false;
};
struct fused_batch_normalization {
    axis_list axes{1};
    double decay_rate = 0.9;
    double eps = 1e-5;
    bool batch_stat = true;
    std::string_view nonlinearity = "relu";  // the only one nnabla supports
};
}  // namespace op_args

namespace detail {
constexpr batch_normalization_args bn_args_of(const attributes& a) {
    batch_normalization_args r;
    for (int i = 0; i < max_rank; ++i) r.axes[i] = a.axes[i];
    r.naxes = a.naxes;
    r.decay_rate = a.decay_rate;
    r.eps = a.eps;
    r.batch_stat = a.batch_stat;
    return r;
}
}  // namespace detail

template <>
struct op_traits<op_kind::batch_normalization> {
    using args = op_args::batch_normalization;
    static constexpr backward_fn backward = &backward_rule::batch_normalization;
    static constexpr layout_rule channel_last = layout_rule::normalization;
    static constexpr args from_attributes(const attributes& a) {
        return {axis_list(a.axes, a.naxes), a.decay_rate, a.eps, a.batch_stat, a.no_scale, a.no_bias};
    }
    // Inputs x, [beta unless no_bias], [gamma unless no_scale], mean, var.
    static constexpr var rebuild(builder&, const attributes& a, std::span<const var> in) {
        std::size_t i = 1;
        const var beta = a.no_bias ? none : detail::input_or_none(in, i++);
        const var gamma = a.no_scale ? none : detail::input_or_none(in, i++);
        const var mean = detail::input_or_none(in, i++);
        const var variance = detail::input_or_none(in, i++);
        return F::batch_normalization(in[0], beta, gamma, mean, variance, detail::bn_args_of(a));
    }
};

template <>
struct op_traits<op_kind::fused_batch_normalization> {
    using args = op_args::fused_batch_normalization;
    static constexpr backward_fn backward = &backward_rule::fused_batch_normalization;
    static constexpr layout_rule channel_last = layout_rule::normalization;
    static constexpr args from_attributes(const attributes& a) {
        return {axis_list(a.axes, a.naxes), a.decay_rate, a.eps, a.batch_stat,
                a.nonlinearity == nonlinearity_kind::relu ? "relu" : ""};
    }
    // Inputs x, beta, gamma, mean, var[, z].
    static constexpr var rebuild(builder&, const attributes& a, std::span<const var> in) {
        auto at = [&](std::size_t k) { return detail::input_or_none(in, k); };
        return F::fused_batch_normalization(in[0], at(1), at(2), at(3), at(4), at(5), detail::bn_args_of(a));
    }
};

}  // namespace kata

KATA_ADAPT_ARGS(kata::batch_normalization_args, axes, naxes, decay_rate, eps, batch_stat);
KATA_ADAPT_ARGS(kata::op_args::batch_normalization, axes, decay_rate, eps, batch_stat, no_scale, no_bias);
KATA_ADAPT_ARGS(kata::op_args::fused_batch_normalization, axes, decay_rate, eps, batch_stat, nonlinearity);
