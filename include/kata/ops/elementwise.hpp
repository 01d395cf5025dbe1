// kata/ops/elementwise.hpp
//
// Element-wise functions: ReLU, LeakyReLU, Sigmoid, Tanh, Identity, AddScalar, MulScalar,
// FixedPointQuantize, and the broadcasting binary ops Add2, Sub2, Mul2, Div2 with C++ operators
// (nnabla's `a + b` -> Add2, `x + s` -> AddScalar, `x * s` -> MulScalar, `x / s` -> MulScalar(1/s),
// spec 0.2).
//
// FixedPointQuantize (spec 3.5): n' = n - 1 if sign else n; max = (2^n' - 1) delta; min = -max if
// sign else 0; y = clip(sgn(x) floor(|x|/delta + 0.5) delta, min, max) (round half away from zero).
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

}  // namespace kata
