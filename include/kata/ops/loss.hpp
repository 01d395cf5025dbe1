// kata/ops/loss.hpp
//
// Losses, log-probabilities, metrics and Dropout with nnabla's names and arguments (docs/training.md):
//   F::softmax_cross_entropy(x, t, axis = last): y = -log softmax(x)[t] along `axis`; t holds int32 class
//     indices with x's shape and size 1 on `axis` (nnabla's label layout); y has t's shape.
//   F::squared_error(x0, x1): y = (x0 - x1)^2, element-wise (both of one shape).
//   F::sigmoid_cross_entropy(x, t): y = -(t log s(x) + (1 - t) log(1 - s(x))), element-wise, x logits and
//     t targets of x's shape, computed as max(x, 0) - x t + log(1 + exp(-|x|)) (never overflows). The
//     targets are binary labels read as integers, as nnabla 1.39 does (its label type is int): int32, or
//     float32 truncated toward zero (0.7 -> 0, 1.9 -> 1): soft targets are not supported upstream either.
//   F::log_softmax(x, axis = last): y = x - max - log(sum(exp(x - max))) along `axis`.
//   F::top_n_error(x, t, axis = last, n = 1): per sample 1 if the target is not among the n largest, 0
//     otherwise, exactly as nnabla 1.39 computes it: count the scores >= the target's score (the target
//     included) and report count > n, so a tie at the n-th place counts as an error. t as for
//     softmax_cross_entropy; y has t's shape (float32).
//   F::dropout(x, p = 0.5, seed = -1): y = x mask / (1 - p), a fresh Bernoulli(1 - p) mask per call
//     (kata/cpu/kernels/dropout.hpp says where the mask comes from); test mode is nnabla's
//     TestModeModifier{op_kind::dropout} (kata/converters/test_mode.hpp), which removes it (y = x).
// Reduce the losses with F::mean / F::sum (kata/ops/reduction.hpp) for a scalar loss. Backward: the labels
// get no gradient (SigmoidCrossEntropy's target asked for one is a compile error, as nnabla refuses it at
// backward); SoftmaxCrossEntropyGrad (kata/ops/gradient.hpp) gives dy (softmax(x) - onehot(t));
// SigmoidCrossEntropyGrad dy (sigmoid(x) - t); LogSoftmaxGrad gives dy - exp(y) sum(dy);
// DropoutGrad dy mask / (1 - p) with the forward's mask. TopNError is a metric: a loss that depends on it
// is a compile error (keep it off the loss path, e.g. as another output of the network).
#pragma once

#include "common.hpp"

namespace kata {

namespace detail {
// `axis` resolved against x (negative counts from the end), or a failure naming op k.
constexpr int resolve_axis(op_kind k, var x, int axis) {
    const int r = axis < 0 ? axis + x.ndim() : axis;
    if (r >= 0 && r < x.ndim()) return r;
    auto m = x.g->prefix(k);
    m.append("axis ").append_int(axis).append(" out of range for ");
    append_var(m, "x", x);
    x.g->fail(m);
    return 0;
}
}  // namespace detail

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

constexpr var sigmoid_cross_entropy(var x, var t) {
    builder& g = *x.g;
    constexpr op_kind k = op_kind::sigmoid_cross_entropy;
    if (!(x.shape() == t.shape()) || x.type() != dtype::f32 ||
        (t.type() != dtype::f32 && t.type() != dtype::i32)) {
        auto m = g.prefix(k);
        detail::append_var(m, "x", x).append(" (float32) and ");
        detail::append_var(m, "target t", t).append(" (float32 or int32) must have one shape");
        g.fail(m);
    }
    return g.function(k, {x, t}, attributes{}, x.shape(), x.lay());
}

constexpr var log_softmax(var x, int axis = -1) {
    attributes a;
    a.axis = detail::resolve_axis(op_kind::log_softmax, x, axis);
    return x.g->function(op_kind::log_softmax, {x}, a, x.shape(), x.lay());
}

constexpr var top_n_error(var x, var t, int axis = -1, int n = 1) {
    builder& g = *x.g;
    constexpr op_kind k = op_kind::top_n_error;
    attributes a;
    a.axis = detail::resolve_axis(k, x, axis);
    a.n = n;
    shape_t out = x.shape();
    out.dims[a.axis] = 1;
    if (!(t.shape() == out) || t.type() != dtype::i32 || n < 1) {
        auto m = g.prefix(k);
        if (n < 1) {
            m.append("n must be at least 1, got ").append_int(n);
        } else {
            detail::append_var(m, "label t", t).append(" must be int32 of shape ");
            append_shape(m, out).append(" (x ");
            append_shape(m, x.shape()).append(" with 1 on axis ").append_int(a.axis).append(")");
        }
        g.fail(m);
    }
    return g.function(k, {x, t}, a, out, detail::inherit_layout(x, out));
}

constexpr var dropout(var x, double p = 0.5, std::int64_t seed = -1) {
    builder& g = *x.g;
    attributes a;
    a.p = p;
    a.seed = seed;
    if (!(p >= 0.0 && p < 1.0) || seed < -1) {
        auto m = g.prefix(op_kind::dropout);
        m.append("needs 0 <= p < 1 and seed >= -1, got p=")
            .append_double(p)
            .append(" seed=")
            .append_int(seed);
        g.fail(m);
    }
    return g.function(op_kind::dropout, {x}, a, x.shape(), x.lay());
}

}  // namespace F

// ---- descriptors (descriptor.hpp) -----------------------------------------------------------------

namespace op_args {
struct softmax_cross_entropy {
    int axis = -1;
};
struct log_softmax {
    int axis = -1;
};
struct top_n_error {
    int axis = -1;
    int n = 1;
};
struct dropout {
    double p = 0.5;
    std::int64_t seed = -1;
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
    // Two operands of one shape: an unconverted one (a target that is not a converted graph input) is
    // permuted like an Add2 operand; `elementwise` would pair an NHWC activation with an NCHW target.
    static constexpr layout_rule channel_last = layout_rule::broadcasting_binary;
    static constexpr args from_attributes(const attributes&) { return {}; }
    static constexpr var rebuild(builder&, const attributes&, std::span<const var> in) {
        return F::squared_error(in[0], in[1]);
    }
    static constexpr backward_fn backward = &backward_rule::squared_error;
};

template <>
struct op_traits<op_kind::sigmoid_cross_entropy> {
    using args = op_args::none;
    static constexpr layout_rule channel_last = layout_rule::fallback;
    static constexpr args from_attributes(const attributes&) { return {}; }
    static constexpr var rebuild(builder&, const attributes&, std::span<const var> in) {
        return F::sigmoid_cross_entropy(in[0], in[1]);
    }
    static constexpr backward_fn backward = &backward_rule::sigmoid_cross_entropy;
};

template <>
struct op_traits<op_kind::log_softmax> {
    using args = op_args::log_softmax;
    static constexpr layout_rule channel_last = layout_rule::axis_argument;
    static constexpr args from_attributes(const attributes& a) { return {a.axis}; }
    static constexpr var rebuild(builder&, const attributes& a, std::span<const var> in) {
        return F::log_softmax(in[0], a.axis);
    }
    static constexpr backward_fn backward = &backward_rule::log_softmax;
};

// A metric: its rule only reports that a loss depends on it (kata/ops/backward.hpp).
template <>
struct op_traits<op_kind::top_n_error> {
    using args = op_args::top_n_error;
    static constexpr layout_rule channel_last = layout_rule::fallback;
    static constexpr args from_attributes(const attributes& a) { return {a.axis, a.n}; }
    static constexpr var rebuild(builder&, const attributes& a, std::span<const var> in) {
        return F::top_n_error(in[0], in[1], a.axis, a.n);
    }
    static constexpr backward_fn backward = &backward_rule::top_n_error;
};

template <>
struct op_traits<op_kind::dropout> {
    using args = op_args::dropout;
    static constexpr layout_rule channel_last = layout_rule::elementwise;
    static constexpr args from_attributes(const attributes& a) { return {a.p, a.seed}; }
    static constexpr var rebuild(builder&, const attributes& a, std::span<const var> in) {
        return F::dropout(in[0], a.p, a.seed);
    }
    static constexpr backward_fn backward = &backward_rule::dropout;
};

}  // namespace kata

KATA_ADAPT_ARGS(kata::op_args::softmax_cross_entropy, axis);
KATA_ADAPT_ARGS(kata::op_args::log_softmax, axis);
KATA_ADAPT_ARGS(kata::op_args::top_n_error, axis, n);
KATA_ADAPT_ARGS(kata::op_args::dropout, p, seed);
