// Element-wise ops (forward, CPU): ReLU, LeakyReLU, Sigmoid, Tanh, Identity, AddScalar, MulScalar (and
// the operator forms x - s, x / s), Add2/Sub2/Mul2/Div2 with numpy broadcasting, FixedPointQuantize.
// References (tests/fixtures/ops, tools/fixtures/make_op_fixtures.py): torch in float64 rounded to
// float32; FixedPointQuantize is a closed form in numpy (docs/nnabla-semantics.md §3.5: round half away from
// zero, with exact .5 ties k*delta + delta/2 of both signs, clipping at both ends, sign true/false).
// Tolerances: exact where float32 arithmetic is correctly rounded and matches the reference (ReLU,
// Identity, AddScalar(1.75), MulScalar(0.25), Add2/Sub2/Mul2/Div2, FixedPointQuantize); rtol 1e-6,
// atol 1e-6 for the transcendental functions and for scalars that are not exact in float32 (nnabla
// applies float(val)).
#include <doctest/doctest.h>

#include "../support/fixtures.hpp"

using namespace kata;
namespace kt = kata::test;

namespace {

constexpr double k_rtol = 1e-6, k_atol = 1e-6;

constexpr void unary_net(builder& g) {
    auto x = g.input("x", {3, 5, 7});
    g.output(F::relu(x));
    g.output(F::leaky_relu(x, 0.23));
    g.output(F::sigmoid(x));
    g.output(F::tanh(x));
    g.output(F::identity(x));
    g.output(F::add_scalar(x, 1.75));
    g.output(F::mul_scalar(x, -0.6));
    g.output(x - 0.3);
    g.output(x / 4.0);
}

// a op b for the four binary ops, as four outputs.
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
void check_binary(const kt::fixture& fx, const std::string& k) {
    INFO("binary case '" << k << "'");
    kata::parameter_store store;
    kata::cpu::executor<Net> run(store);
    const xt::xarray<float> a = fx[k + "_a"], b = fx[k + "_b"];
    run(a, b);
    kt::check_equal(run.template output<0>(), fx[k + "_add"]);
    kt::check_equal(run.template output<1>(), fx[k + "_sub"]);
    kt::check_equal(run.template output<2>(), fx[k + "_mul"]);
    kt::check_equal(run.template output<3>(), fx[k + "_div"]);
}

constexpr var fpq0(builder& g) {
    return F::fixed_point_quantize(g.input("x", {3, 5, 7}), {.sign = true, .n = 8, .delta = 0.0625});
}
constexpr var fpq1(builder& g) {
    return F::fixed_point_quantize(g.input("x", {5, 9}), {.sign = false, .n = 5, .delta = 0.25});
}
constexpr var fpq2(builder& g) {
    return F::fixed_point_quantize(g.input("x", {4, 11}), {.sign = true, .n = 4, .delta = 0.5});
}
constexpr var fpq3(builder& g) {
    return F::fixed_point_quantize(g.input("x", {3, 13}), {.sign = true, .n = 6, .delta = 0.1});
}

template <class Net>
void check_fpq(const kt::fixture& fx, int i) {
    INFO("FixedPointQuantize case " << i);
    kata::parameter_store store;
    kata::cpu::executor<Net> run(store);
    const xt::xarray<float> x = fx["x" + std::to_string(i)];
    kt::check_equal(run(x), fx["y" + std::to_string(i)]);
}

}  // namespace

TEST_CASE("Unary element-wise ops and scalar ops vs torch") {
    const kt::fixture fx = kt::load_fixture("ops/unary.npz");
    kata::parameter_store store;
    kata::cpu::executor<network<unary_net>> run(store);
    const xt::xarray<float> x = fx["x"];
    run(x);
    kt::check_equal(run.output<0>(), fx["relu"]);
    kt::check_close(run.output<1>(), fx["leaky_relu"], k_rtol, k_atol);
    kt::check_close(run.output<2>(), fx["sigmoid"], k_rtol, k_atol);
    kt::check_close(run.output<3>(), fx["tanh"], k_rtol, k_atol);
    kt::check_equal(run.output<4>(), fx["identity"]);
    kt::check_equal(run.output<5>(), fx["add_scalar"]);
    kt::check_close(run.output<6>(), fx["mul_scalar"], k_rtol, k_atol);
    kt::check_close(run.output<7>(), fx["sub_scalar"], k_rtol, k_atol);
    kt::check_equal(run.output<8>(), fx["div_scalar"]);
    // The graph input is never written (unary ops on a graph input cannot run in place).
    kt::check_equal(x, fx["x"]);
}

TEST_CASE("Add2/Sub2/Mul2/Div2 with numpy broadcasting vs torch") {
    const kt::fixture fx = kt::load_fixture("ops/binary.npz");
    check_binary<network<binary_bc>>(fx, "bc");
    check_binary<network<binary_same>>(fx, "same");
    check_binary<network<binary_chan>>(fx, "chan");
    check_binary<network<binary_both>>(fx, "both");
    check_binary<network<binary_scalar>>(fx, "scalar");
    check_binary<network<binary_lhs>>(fx, "lhs");
}

TEST_CASE("FixedPointQuantize vs closed form (round half away from zero, clipping, sign)") {
    const kt::fixture fx = kt::load_fixture("ops/fixed_point_quantize.npz");
    check_fpq<network<fpq0>>(fx, 0);
    check_fpq<network<fpq1>>(fx, 1);
    check_fpq<network<fpq2>>(fx, 2);
    check_fpq<network<fpq3>>(fx, 3);
}

TEST_CASE("FixedPointQuantize: exact ties and bounds (closed form, no fixture)") {
    // sign=true, n=4, delta=0.5: max = 3.5, min = -3.5.
    kata::parameter_store store;
    kata::cpu::executor<network<fpq2>> run(store);
    xt::xarray<float> x = xt::zeros<float>({4, 11});
    const float in[] = {0.25f,  -0.25f, 0.75f,  -0.75f, 1.25f,  -1.25f, 3.25f,  -3.25f, 3.5f, -3.5f, 3.75f,
                        -3.75f, 100.f,  -100.f, 0.24f,  -0.24f, 0.26f,  -0.26f, 0.f,    2.9f, -2.9f, 1.0f};
    const float want[] = {0.5f,  -0.5f, 1.0f,  -1.0f, 1.5f, -1.5f, 3.5f,  -3.5f, 3.5f, -3.5f, 3.5f,
                          -3.5f, 3.5f,  -3.5f, 0.f,   -0.f, 0.5f,  -0.5f, 0.f,   3.0f, -3.0f, 1.0f};
    xt::xarray<float> expected = xt::zeros<float>({4, 11});
    for (std::size_t i = 0; i < std::size(in); ++i) {
        x.data()[i] = in[i];
        expected.data()[i] = want[i];
    }
    kt::check_equal(run(x), expected);
}
