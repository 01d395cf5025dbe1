// kata/ops/shape_ops.hpp
//
// Concatenate, Reshape, Transpose, Softmax and Sink.
//
// Reshape keeps the element order (row-major) and so is free at run time: the CPU executor aliases
// the input buffer. Like nnabla, one dimension of the target may be -1.
// Concatenate's default axis is the last one (nnabla: len(x[0].shape) - 1), Softmax's too.
// Concatenate, Transpose and Sink take their lists as initializer lists; the detail:: forms take a
// pointer and a count (what rebuilding a node with a run-time number of inputs needs).
// Descriptors at the end.
#pragma once

#include "common.hpp"

namespace kata {

namespace detail {

constexpr var concatenate_n(const var* v, std::size_t count, int axis) {
    builder& g = *v[0].g;
    constexpr op_kind k = op_kind::concatenate;
    const shape_t& s0 = v[0].shape();
    attributes a;
    a.axis = axis < 0 ? axis + s0.rank : axis;
    shape_t out = s0;
    if (a.axis < 0 || a.axis >= s0.rank) {
        auto m = g.prefix(k);
        m.append("axis ").append_int(axis).append(" out of range for ");
        detail::append_var(m, "x0", v[0]);
        g.fail(m);
        return g.function_n(k, v, int(count), a, s0, v[0].lay());
    }
    for (std::size_t i = 1; i < count; ++i) {
        const shape_t& si = v[i].shape();
        bool ok = si.rank == s0.rank;
        for (int d = 0; ok && d < s0.rank; ++d) ok = d == a.axis || si.dims[d] == s0.dims[d];
        if (!ok) {
            auto m = g.prefix(k);
            m.append("input ").append_int(std::int64_t(i)).append(" ");
            append_shape(m, si).append(" does not match x0 ");
            append_shape(m, s0).append(" outside axis ").append_int(a.axis);
            g.fail(m);
            break;
        }
        // A parameter (layout none) may join either layout; two tagged layouts must agree.
        if (v[i].lay() != v[0].lay() && v[i].lay() != layout::none && v[0].lay() != layout::none &&
            s0.rank >= 3) {
            auto m = g.prefix(k);
            m.append("inputs mix layouts (input ").append_int(std::int64_t(i)).append(")");
            g.fail(m);
            break;
        }
        out.dims[a.axis] += si.dims[a.axis];
    }
    layout l = layout::none;
    for (std::size_t i = 0; i < count && l == layout::none; ++i) l = v[i].lay();
    return g.function_n(k, v, int(count), a, out, l);
}

constexpr var transpose_n(var x, const int* axes, int count) {
    builder& g = *x.g;
    constexpr op_kind k = op_kind::transpose;
    const shape_t& xs = x.shape();
    attributes a;
    a.naxes = count;
    shape_t out;
    bool seen[max_rank]{};
    bool ok = a.naxes == xs.rank;
    for (int i = 0; i < count && i < max_rank; ++i) {
        const int ax = axes[i];
        int axn = ax < 0 ? ax + xs.rank : ax;
        a.axes[i] = axn;
        if (axn < 0 || axn >= xs.rank || seen[axn])
            ok = false;
        else {
            seen[axn] = true;
            out.push_back(xs.dims[axn]);
        }
    }
    if (!ok) {
        auto m = g.prefix(k);
        m.append("axes are not a permutation of the ").append_int(xs.rank).append(" axes of ");
        append_var(m, "x", x);
        g.fail(m);
        return g.function(k, {x}, a, xs, x.lay());
    }
    // The standard layout permutations flip the layout tag; any other permutation loses it.
    layout l = layout::none;
    if (xs.rank >= 3) {
        bool to_last = a.axes[0] == 0 && a.axes[xs.rank - 1] == 1;
        bool to_first = a.axes[0] == 0 && a.axes[1] == xs.rank - 1;
        for (int d = 1; d + 1 < xs.rank; ++d) to_last = to_last && a.axes[d] == d + 1;
        for (int d = 2; d < xs.rank; ++d) to_first = to_first && a.axes[d] == d - 1;
        if (to_last && x.lay() == layout::channel_first) l = layout::channel_last;
        if (to_first && x.lay() == layout::channel_last) l = layout::channel_first;
    }
    return g.function(k, {x}, a, out, l);
}

constexpr var sink_n(const var* v, std::size_t count) {
    return v[0].g->function_n(op_kind::sink, v, int(count), attributes{}, shape_t{}, layout::none);
}

}  // namespace detail

namespace F {

// nnabla: F.concatenate(*x, axis=None)
constexpr var concatenate(std::initializer_list<var> xs, int axis = -1) {
    return detail::concatenate_n(xs.begin(), xs.size(), axis);
}

// nnabla: F.reshape(x, shape, inplace=True)
constexpr var reshape(var x, shape_t target) {
    builder& g = *x.g;
    constexpr op_kind k = op_kind::reshape;
    attributes a;
    std::int64_t known = 1;
    int unknown = -1;
    for (int i = 0; i < target.rank; ++i) {
        if (target.dims[i] == -1 && unknown < 0)
            unknown = i;
        else
            known *= target.dims[i];
    }
    if (unknown >= 0 && known > 0 && x.shape().numel() % known == 0)
        target.dims[unknown] = x.shape().numel() / known;
    a.target = target;
    if (target.numel() != x.shape().numel()) {
        auto m = g.prefix(k);
        m.append("cannot reshape ");
        append_shape(m, x.shape()).append(" to ");
        append_shape(m, target).append(" (different number of elements)");
        g.fail(m);
    }
    // A reshape that keeps the leading batch/channel structure keeps the layout; anything else is
    // "none" because the channel axis can no longer be identified.
    layout l = (target.rank == x.ndim() && target.rank >= 3) ? x.lay() : layout::none;
    return g.function(k, {x}, a, target, l);
}

// nnabla: F.transpose(x, axes)
constexpr var transpose(var x, std::initializer_list<int> axes) {
    return detail::transpose_n(x, axes.begin(), int(axes.size()));
}

// nnabla: F.softmax(x, axis=None) (default: last axis)
constexpr var softmax(var x, int axis = -1) {
    builder& g = *x.g;
    attributes a;
    a.axis = axis < 0 ? axis + x.ndim() : axis;
    if (a.axis < 0 || a.axis >= x.ndim()) {
        auto m = g.prefix(op_kind::softmax);
        m.append("axis ").append_int(axis).append(" out of range for ");
        detail::append_var(m, "x", x);
        g.fail(m);
        a.axis = 0;
    }
    return g.function(op_kind::softmax, {x}, a, x.shape(), x.lay());
}

// nnabla: F.sink(*x): a terminal function with no output data, used to run several outputs at once.
constexpr var sink(std::initializer_list<var> xs) { return detail::sink_n(xs.begin(), xs.size()); }

}  // namespace F

// ---- descriptors (descriptor.hpp) -----------------------------------------------------------------

namespace op_args {
struct axis {  // Concatenate, Softmax
    int axis = 1;
};
struct reshape {
    shape_t shape{};
    bool inplace = true;  // nnabla's F.reshape default
};
struct transpose {
    axis_list axes{};
};
struct sink {
    bool one_input_grad = true;  // nnabla's F.sink default
};
}  // namespace op_args

template <>
struct op_traits<op_kind::concatenate> {
    using args = op_args::axis;
    static constexpr backward_fn backward = &backward_rule::concatenate;
    static constexpr layout_rule channel_last = layout_rule::axis_argument;
    static constexpr args from_attributes(const attributes& a) { return {a.axis}; }
    static constexpr var rebuild(builder&, const attributes& a, std::span<const var> in) {
        return detail::concatenate_n(in.data(), in.size(), a.axis);
    }
};

template <>
struct op_traits<op_kind::softmax> {
    using args = op_args::axis;
    static constexpr backward_fn backward = &backward_rule::softmax;
    static constexpr layout_rule channel_last = layout_rule::axis_argument;
    static constexpr args from_attributes(const attributes& a) { return {a.axis}; }
    static constexpr var rebuild(builder&, const attributes& a, std::span<const var> in) {
        return F::softmax(in[0], a.axis);
    }
};

template <>
struct op_traits<op_kind::reshape> {
    using args = op_args::reshape;
    static constexpr backward_fn backward = &backward_rule::reshape;
    static constexpr layout_rule channel_last = layout_rule::fallback;
    static constexpr args from_attributes(const attributes& a) { return {a.target}; }
    static constexpr var rebuild(builder&, const attributes& a, std::span<const var> in) {
        return F::reshape(in[0], a.target);
    }
};

template <>
struct op_traits<op_kind::transpose> {
    using args = op_args::transpose;
    static constexpr backward_fn backward = &backward_rule::transpose;
    static constexpr layout_rule channel_last = layout_rule::permutation;
    static constexpr args from_attributes(const attributes& a) { return {axis_list(a.axes, a.naxes)}; }
    static constexpr var rebuild(builder&, const attributes& a, std::span<const var> in) {
        return detail::transpose_n(in[0], a.axes, a.naxes);
    }
};

template <>
struct op_traits<op_kind::sink> {
    using args = op_args::sink;
    static constexpr layout_rule channel_last = layout_rule::elementwise;  // any layout: rebuilt unchanged
    static constexpr args from_attributes(const attributes&) { return {}; }
    static constexpr var rebuild(builder&, const attributes&, std::span<const var> in) {
        return detail::sink_n(in.data(), in.size());
    }
};

}  // namespace kata

KATA_ADAPT_ARGS(kata::op_args::axis, axis);
KATA_ADAPT_ARGS(kata::op_args::reshape, shape, inplace);
KATA_ADAPT_ARGS(kata::op_args::transpose, axes);
KATA_ADAPT_ARGS(kata::op_args::sink, one_input_grad);
