// kata/ops/elementwise.hpp
//
// Element-wise functions: ReLU, LeakyReLU, Sigmoid, Tanh, HardSwish, Identity, AddScalar, MulScalar,
// FixedPointQuantize, and the broadcasting binary ops Add2, Sub2, Mul2, Div2 with C++ operators
// (nnabla's `a + b` -> Add2, `x + s` -> AddScalar, `x * s` -> MulScalar, `x / s` -> MulScalar(1/s),
// docs/nnabla-semantics.md §0.2).
//
// HardSwish: y = x relu6(x + 3) / 6 (MobileNetV3; ONNX HardSwish, torch.nn.functional.hardswish). nnabla
// 1.39 has no such function (it has hard_sigmoid, hard_tanh, swish): the type name follows nnabla's
// naming (HardSigmoid, HardTanh) and ONNX's.
//
// FixedPointQuantize (docs/nnabla-semantics.md §3.5): n' = n - 1 if sign else n; max = (2^n' - 1) delta; min
// = -max if sign else 0; y = clip(sgn(x) floor(|x|/delta + 0.5) delta, min, max) (round half away from zero).
//
// FixedPointQuantize takes fixed_point_quantize_args or keywords (`n = 4, delta = 0.25`,
// keywords.hpp). Descriptors at the end: nnabla records an `inplace` flag for ReLU, LeakyReLU, the
// binary and the scalar ops; kata has no in-place flag (the memory plan decides), so the descriptors
// carry F.*'s defaults, which is what nnabla's viewer shows for graphs built with F.*.
#pragma once

#include "common.hpp"

namespace kata {

struct fixed_point_quantize_args {
    bool sign = true;
    int n = 8;
    double delta = 0.0625;
    bool ste_fine_grained = true;
};

namespace detail {
constexpr var unary(op_kind k, var x, attributes a = {}) {
    return x.g->function(k, {x}, a, x.shape(), x.lay());
}
constexpr var binary(op_kind k, var x, var y) {
    builder& g = *x.g;
    shape_t out;
    if (!broadcast_shapes(x.shape(), y.shape(), out)) {
        auto m = g.prefix(k);
        m.append("shapes cannot be broadcast: ");
        append_var(m, "x0", x).append(", ");
        append_var(m, "x1", y);
        g.fail(m);
        out = x.shape();
    }
    layout l = x.shape() == out ? x.lay() : (y.shape() == out ? y.lay() : layout::none);
    if (x.lay() != layout::none && y.lay() != layout::none && x.lay() != y.lay() && out.rank >= 3) {
        auto m = g.prefix(k);
        m.append("mixes layouts: ");
        append_var(m, "x0", x).append(" is ").append(layout_name(x.lay())).append(", ");
        append_var(m, "x1", y).append(" is ").append(layout_name(y.lay()));
        g.fail(m);
    }
    return g.function(k, {x, y}, attributes{}, out, out.rank >= 3 ? l : layout::none);
}
}  // namespace detail

namespace F {

constexpr var relu(var x) { return detail::unary(op_kind::relu, x); }
constexpr var leaky_relu(var x, double alpha = 0.1) {
    attributes a;
    a.alpha = alpha;
    return detail::unary(op_kind::leaky_relu, x, a);
}
constexpr var sigmoid(var x) { return detail::unary(op_kind::sigmoid, x); }
constexpr var tanh(var x) { return detail::unary(op_kind::tanh, x); }
constexpr var hard_swish(var x) { return detail::unary(op_kind::hard_swish, x); }
constexpr var identity(var x) { return detail::unary(op_kind::identity, x); }
constexpr var add_scalar(var x, double val = 1.0) {
    attributes a;
    a.val = val;
    return detail::unary(op_kind::add_scalar, x, a);
}
constexpr var mul_scalar(var x, double val = 1.0) {
    attributes a;
    a.val = val;
    return detail::unary(op_kind::mul_scalar, x, a);
}
constexpr var fixed_point_quantize(var x, fixed_point_quantize_args args = {}) {
    builder& g = *x.g;
    attributes a;
    a.sign = args.sign;
    a.n = args.n;
    a.delta = args.delta;
    a.ste_fine_grained = args.ste_fine_grained;
    if (args.n <= 0 || args.delta <= 0 || (args.sign && args.n < 2) || args.n > 62) {
        auto m = g.prefix(op_kind::fixed_point_quantize);
        m.append("needs n > 0 (n > 1 when signed, n <= 62) and delta > 0, got n=").append_int(args.n);
        m.append(" delta=").append_double(args.delta).append(args.sign ? " sign=true" : " sign=false");
        g.fail(m);
    }
    return detail::unary(op_kind::fixed_point_quantize, x, a);
}

constexpr var add2(var x, var y) { return detail::binary(op_kind::add2, x, y); }
constexpr var sub2(var x, var y) { return detail::binary(op_kind::sub2, x, y); }
constexpr var mul2(var x, var y) { return detail::binary(op_kind::mul2, x, y); }
constexpr var div2(var x, var y) { return detail::binary(op_kind::div2, x, y); }

// Keyword form (keywords.hpp).
template <keyword_argument... K>
constexpr var fixed_point_quantize(var x, const K&... kws) {
    return fixed_point_quantize(x, make_args<fixed_point_quantize_args>(kws...));
}

}  // namespace F

constexpr var operator+(var x, var y) { return F::add2(x, y); }
constexpr var operator-(var x, var y) { return F::sub2(x, y); }
constexpr var operator*(var x, var y) { return F::mul2(x, y); }
constexpr var operator/(var x, var y) { return F::div2(x, y); }
constexpr var operator+(var x, double s) { return F::add_scalar(x, s); }
constexpr var operator+(double s, var x) { return F::add_scalar(x, s); }
constexpr var operator-(var x, double s) { return F::add_scalar(x, -s); }
constexpr var operator*(var x, double s) { return F::mul_scalar(x, s); }
constexpr var operator*(double s, var x) { return F::mul_scalar(x, s); }
constexpr var operator/(var x, double s) { return F::mul_scalar(x, 1.0 / s); }

// ---- descriptors (descriptor.hpp) -----------------------------------------------------------------

namespace op_args {
struct inplace {
    bool inplace = false;
};
struct leaky_relu {
    double alpha = 0.1;
    bool inplace = false;
};
struct scalar {  // AddScalar, MulScalar
    double val = 1.0;
    bool inplace = false;
};
}  // namespace op_args

namespace detail {
// An element-wise op whose arguments are all recorded defaults (or none).
template <op_kind K, class Args>
struct plain_unary_traits {
    using args = Args;
    static constexpr layout_rule channel_last = layout_rule::elementwise;
    static constexpr args from_attributes(const attributes&) { return {}; }
    static constexpr var rebuild(builder&, const attributes&, std::span<const var> in) {
        return unary(K, in[0]);
    }
};
template <op_kind K>
struct binary_traits {
    using args = op_args::inplace;
    static constexpr layout_rule channel_last = layout_rule::broadcasting_binary;
    static constexpr args from_attributes(const attributes&) { return {}; }
    static constexpr var rebuild(builder&, const attributes&, std::span<const var> in) {
        return binary(K, in[0], in[1]);
    }
};
template <op_kind K>
struct scalar_traits {
    using args = op_args::scalar;
    static constexpr layout_rule channel_last = layout_rule::elementwise;
    static constexpr args from_attributes(const attributes& a) { return {a.val}; }
    static constexpr var rebuild(builder&, const attributes& a, std::span<const var> in) {
        attributes b;
        b.val = a.val;
        return unary(K, in[0], b);
    }
};
}  // namespace detail

template <>
struct op_traits<op_kind::relu> : detail::plain_unary_traits<op_kind::relu, op_args::inplace> {
    static constexpr backward_fn backward = &backward_rule::relu;
};
template <>
struct op_traits<op_kind::sigmoid> : detail::plain_unary_traits<op_kind::sigmoid, op_args::none> {
    static constexpr backward_fn backward = &backward_rule::sigmoid;
};
template <>
struct op_traits<op_kind::tanh> : detail::plain_unary_traits<op_kind::tanh, op_args::none> {
    static constexpr backward_fn backward = &backward_rule::tanh;
};
template <>
struct op_traits<op_kind::hard_swish> : detail::plain_unary_traits<op_kind::hard_swish, op_args::none> {
    static constexpr backward_fn backward = &backward_rule::hard_swish;
};
template <>
struct op_traits<op_kind::identity> : detail::plain_unary_traits<op_kind::identity, op_args::none> {
    static constexpr backward_fn backward = &backward_rule::identity;
};
template <>
struct op_traits<op_kind::add_scalar> : detail::scalar_traits<op_kind::add_scalar> {
    static constexpr backward_fn backward = &backward_rule::add_scalar;
};
template <>
struct op_traits<op_kind::mul_scalar> : detail::scalar_traits<op_kind::mul_scalar> {
    static constexpr backward_fn backward = &backward_rule::mul_scalar;
};
template <>
struct op_traits<op_kind::add2> : detail::binary_traits<op_kind::add2> {
    static constexpr backward_fn backward = &backward_rule::add2;
};
template <>
struct op_traits<op_kind::sub2> : detail::binary_traits<op_kind::sub2> {
    static constexpr backward_fn backward = &backward_rule::sub2;
};
template <>
struct op_traits<op_kind::mul2> : detail::binary_traits<op_kind::mul2> {
    static constexpr backward_fn backward = &backward_rule::mul2;
};
template <>
struct op_traits<op_kind::div2> : detail::binary_traits<op_kind::div2> {
    static constexpr backward_fn backward = &backward_rule::div2;
};

template <>
struct op_traits<op_kind::leaky_relu> {
    using args = op_args::leaky_relu;
    static constexpr backward_fn backward = &backward_rule::leaky_relu;
    static constexpr layout_rule channel_last = layout_rule::elementwise;
    static constexpr args from_attributes(const attributes& a) { return {a.alpha}; }
    static constexpr var rebuild(builder&, const attributes& a, std::span<const var> in) {
        return F::leaky_relu(in[0], a.alpha);
    }
};

template <>
struct op_traits<op_kind::fixed_point_quantize> {
    using args = fixed_point_quantize_args;
    static constexpr layout_rule channel_last = layout_rule::elementwise;
    static constexpr backward_fn backward = &backward_rule::fixed_point_quantize;
    static constexpr args from_attributes(const attributes& a) {
        return {a.sign, a.n, a.delta, a.ste_fine_grained};
    }
    static constexpr var rebuild(builder&, const attributes& a, std::span<const var> in) {
        return F::fixed_point_quantize(in[0], from_attributes(a));
    }
};

}  // namespace kata

KATA_ADAPT_ARGS(kata::fixed_point_quantize_args, sign, n, delta, ste_fine_grained);
KATA_ADAPT_ARGS(kata::op_args::inplace, inplace);
KATA_ADAPT_ARGS(kata::op_args::leaky_relu, alpha, inplace);
KATA_ADAPT_ARGS(kata::op_args::scalar, val, inplace);
