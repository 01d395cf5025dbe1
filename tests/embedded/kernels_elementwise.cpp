// The embedded back end's element-wise kernels (kata/embedded/kernels/elementwise.hpp): ReLU, LeakyReLU,
// Sigmoid, Tanh, Identity, AddScalar, MulScalar (and x - s, x / s), FixedPointQuantize, and Add2 / Sub2 /
// Mul2 / Div2 with numpy broadcasting (same shapes, a channel vector, both sides broadcast, a scalar, the
// left operand broadcast). References: tests/fixtures/ops/{unary,binary,fixed_point_quantize}.npz (torch
// float64, or the closed form of FixedPointQuantize), same networks as tests/ops/elementwise.cpp; and
// the CPU executor.
// Tolerances: exact where float32 arithmetic is correctly rounded (as the CPU tests); rtol 1e-6, atol
// 1e-6 for the transcendental functions and inexact scalars. (check_embedded takes one tolerance per
// network, so the exact cases form their own networks.)
#include <doctest/doctest.h>

#include "../support/embedded_check.hpp"

using namespace kata;
using kata::test::check_embedded;
using kata::test::load_fixture;

namespace {

constexpr double k_rtol = 1e-6, k_atol = 1e-6;

constexpr void unary_exact(builder& g) {
    auto x = g.input("x", {3, 5, 7});
    g.output(F::relu(x));
    g.output(F::identity(x));
    g.output(F::add_scalar(x, 1.75));
    g.output(x / 4.0);
}
constexpr void unary_close(builder& g) {
    auto x = g.input("x", {3, 5, 7});
    g.output(F::leaky_relu(x, 0.23));
    g.output(F::sigmoid(x));
    g.output(F::tanh(x));
    g.output(F::mul_scalar(x, -0.6));
    g.output(x - 0.3);
}

constexpr void binary_ops(builder& g, var a, var b) {
    g.output(a + b);
    g.output(a - b);
    g.output(a * b);
    g.output(a / b);
}
constexpr void binary_bc(builder& g) { binary_ops(g, g.input("a", {3, 1, 5, 7}), g.input("b", {4, 1, 7})); }
constexpr void binary_same(builder& g) { binary_ops(g, g.input("a", {2, 3, 5}), g.input("b", {2, 3, 5})); }
constexpr void binary_chan(builder& g) {
    binary_ops(g, g.input("a", {2, 5, 3, 7}), g.input("b", {1, 5, 1, 1}));
}
constexpr void binary_both(builder& g) { binary_ops(g, g.input("a", {3, 1, 5}), g.input("b", {1, 4, 1})); }
constexpr void binary_scalar(builder& g) { binary_ops(g, g.input("a", {2, 3, 5}), g.input("b", {1})); }
constexpr void binary_lhs(builder& g) {
    binary_ops(g, g.input("a", {1, 5, 1, 1}), g.input("b", {2, 5, 3, 7}));
}

template <class Net>
void check_binary(const kata::test::fixture& fx, const std::string& k) {
    check_embedded<Net>(fx, {}, {k + "_add", k + "_sub", k + "_mul", k + "_div"}, 0.0, 0.0, k + "_");
}

constexpr var fpq0(builder& g) {
    return F::fixed_point_quantize(g.input("x0", {3, 5, 7}), {.sign = true, .n = 8, .delta = 0.0625});
}
constexpr var fpq1(builder& g) {
    return F::fixed_point_quantize(g.input("x1", {5, 9}), {.sign = false, .n = 5, .delta = 0.25});
}
constexpr var fpq2(builder& g) {
    return F::fixed_point_quantize(g.input("x2", {4, 11}), {.sign = true, .n = 4, .delta = 0.5});
}
constexpr var fpq3(builder& g) {
    return F::fixed_point_quantize(g.input("x3", {3, 13}), {.sign = true, .n = 6, .delta = 0.1});
}

}  // namespace

TEST_CASE("embedded unary element-wise ops and scalar ops vs torch and the CPU back end") {
    const auto fx = load_fixture("ops/unary.npz");
    check_embedded<network<unary_exact>>(fx, {}, {"relu", "identity", "add_scalar", "div_scalar"}, 0.0, 0.0);
    check_embedded<network<unary_close>>(
        fx, {}, {"leaky_relu", "sigmoid", "tanh", "mul_scalar", "sub_scalar"}, k_rtol, k_atol);
}

TEST_CASE("embedded Add2/Sub2/Mul2/Div2 with numpy broadcasting, exact") {
    const auto fx = load_fixture("ops/binary.npz");
    check_binary<network<binary_bc>>(fx, "bc");
    check_binary<network<binary_same>>(fx, "same");
    check_binary<network<binary_chan>>(fx, "chan");
    check_binary<network<binary_both>>(fx, "both");
    check_binary<network<binary_scalar>>(fx, "scalar");
    check_binary<network<binary_lhs>>(fx, "lhs");
}

TEST_CASE("embedded FixedPointQuantize vs closed form, exact") {
    const auto fx = load_fixture("ops/fixed_point_quantize.npz");
    check_embedded<network<fpq0>>(fx, {}, {"y0"}, 0.0, 0.0);
    check_embedded<network<fpq1>>(fx, {}, {"y1"}, 0.0, 0.0);
    check_embedded<network<fpq2>>(fx, {}, {"y2"}, 0.0, 0.0);
    check_embedded<network<fpq3>>(fx, {}, {"y3"}, 0.0, 0.0);
}
