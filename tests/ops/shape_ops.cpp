// Concatenate, Reshape, Transpose, Softmax, Sink (forward, CPU), plus a self-test of the comparison
// helper. References (tests/fixtures/ops, tools/fixtures/make_op_fixtures.py): numpy concatenate /
// transpose (closed forms), torch.softmax in float64.
// Tolerances: Concatenate, Reshape, Transpose exact; Softmax rtol 1e-6, atol 1e-6.
#include <doctest/doctest.h>

#include "../support/fixtures.hpp"

using namespace kata;
namespace kt = kata::test;

namespace {

constexpr double k_rtol = 1e-6, k_atol = 1e-6;

constexpr void concat_net(builder& g) {
    auto a = g.input("a", {2, 3, 5});
    auto b = g.input("b", {2, 4, 5});
    auto c = g.input("c", {2, 1, 5});
    auto d = g.input("d", {3, 2, 5, 7});
    auto e = g.input("e", {3, 2, 5, 3});
    auto f = g.input("f", {2, 3, 5});
    auto h = g.input("g", {3, 3, 5});
    g.output(F::concatenate({a, b, c, a}, 1));
    g.output(F::concatenate({d, e, d}));  // nnabla's default axis: the last one
    g.output(F::concatenate({f, h}, 0));
}

constexpr void transpose_net(builder& g) {
    auto x = g.input("x", {2, 3, 4, 5});
    auto m = g.input("m", {37, 45});
    auto v = g.input("v", {2, 3, 5, 7, 4});
    g.output(F::transpose(x, {0, 2, 3, 1}));
    g.output(F::transpose(x, {3, 1, 0, 2}));
    g.output(F::transpose(x, {0, 3, 1, 2}));
    g.output(F::transpose(m, {1, 0}));
    g.output(F::transpose(v, {4, 2, 1, 3, 0}));
    g.output(F::reshape(x, {6, -1, 5}));                           // alias of a graph input
    g.output(F::reshape(F::transpose(x, {0, 2, 3, 1}), {2, 60}));  // alias of a function output
}

constexpr void softmax_net(builder& g) {
    auto x = g.input("x", {3, 5, 7});
    g.output(F::softmax(x));
    g.output(F::softmax(x, 1));
    g.output(F::softmax(x, 0));
}

// Sink over a batch_stat BN and another branch: running it updates the BN running statistics.
constexpr var sink_net(builder& g) {
    auto x = g.input("x", {9, 7});
    const shape_t p{1, 7};
    auto y =
        F::batch_normalization(x, g.parameter("beta", p), g.parameter("gamma", p), g.parameter("mean", p),
                               g.parameter("var", p), bn_axis(1, true, 1e-5, 0.9));
    return F::sink({y, F::relu(x)});
}

}  // namespace

TEST_CASE("Concatenate (axis 1 with a repeated input, default last axis, axis 0) vs numpy") {
    const kt::fixture fx = kt::load_fixture("ops/concatenate.npz");
    kata::parameter_store store;
    kata::cpu::executor<network<concat_net>> run(store);
    run(fx["a"], fx["b"], fx["c"], fx["d"], fx["e"], fx["f"], fx["g"]);
    kt::check_equal(run.output<0>(), fx["y_axis1"]);
    kt::check_equal(run.output<1>(), fx["y_last"]);
    kt::check_equal(run.output<2>(), fx["y_axis0"]);
}

TEST_CASE("Transpose (any permutation, tiled 2-D) and Reshape vs numpy") {
    const kt::fixture fx = kt::load_fixture("ops/transpose.npz");
    kata::parameter_store store;
    kata::cpu::executor<network<transpose_net>> run(store);
    const xt::xarray<float> x = fx["x"], m = fx["m"], v = fx["v"];
    run(x, m, v);
    kt::check_equal(run.output<0>(), fx["y_0231"]);
    kt::check_equal(run.output<1>(), fx["y_3102"]);
    kt::check_equal(run.output<2>(), fx["y_0312"]);
    kt::check_equal(run.output<3>(), fx["m_t"]);
    kt::check_equal(run.output<4>(), fx["v_42130"]);
    kt::check_equal(run.output<5>(), xt::xarray<float>(xt::reshape_view(x, {6, 4, 5})));
    kt::check_equal(run.output<6>(), xt::xarray<float>(xt::reshape_view(fx["y_0231"], {2, 60})));
}

TEST_CASE("Softmax (last axis, axis 1, axis 0) vs torch") {
    const kt::fixture fx = kt::load_fixture("ops/softmax.npz");
    kata::parameter_store store;
    kata::cpu::executor<network<softmax_net>> run(store);
    run(fx["x"]);
    kt::check_close(run.output<0>(), fx["y_last"], k_rtol, k_atol);
    kt::check_close(run.output<1>(), fx["y_axis1"], k_rtol, k_atol);
    kt::check_close(run.output<2>(), fx["y_axis0"], k_rtol, k_atol);
}

TEST_CASE("Sink runs its inputs: a batch_stat BN under a Sink updates the running statistics") {
    const kt::fixture fx = kt::load_fixture("ops/bn_train_2d.npz");
    kata::parameter_store store;
    for (const char* p : {"beta", "gamma", "mean", "var"}) kt::set_param(store, p, fx[p]);
    using Net = network<sink_net>;
    static_assert(Net::graph.num_functions() == 3);
    kata::cpu::executor<Net> run(store);
    run(fx["x"]);
    kt::check_close(store.find("mean")->data, fx["mean_new"], 1e-5, 1e-5);
    kt::check_close(store.find("var")->data, fx["var_new"], 1e-5, 1e-5);
}

TEST_CASE("compare_close (the helper behind check_close) finds mismatches") {
    using A = xt::xarray<float>;
    // One element off by 1e-3 > 1e-5 + 1e-5 * 2: reported with its index and both values.
    const auto r = kt::compare_close(A{1.0f, 2.0f, 3.0f}, A{1.0f, 2.001f, 3.0f}, 1e-5, 1e-5);
    CHECK_FALSE(r.ok());
    CHECK(r.bad == 1);
    CHECK(r.message.find("worst at (1,)") != std::string::npos);
    CHECK(kt::compare_close(A{1.0f, 2.0f}, A{1.0f, 2.00001f}, 1e-5, 1e-5).ok());  // within atol + rtol*|b|
    CHECK_FALSE(kt::compare_close(A{1.0f, 2.0f}, A{{1.0f, 2.0f}}, 0, 0).ok());    // shape
    CHECK_FALSE(kt::compare_close(A{NAN}, A{0.0f}, 1, 1).ok());                   // NaN only matches NaN
    CHECK(kt::compare_close(A{NAN, INFINITY}, A{NAN, INFINITY}, 0, 0).ok());
}
