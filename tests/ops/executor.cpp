// The CPU executor on a multi-op DAG: a Reshape alias, an in-place element-wise chain, a Concatenate
// reading one (shared) input twice, a buffer read again after the in-place chain, two graph outputs,
// repeated calls with different inputs (memory planning must give fresh, correct results each time),
// parameters re-read at every call, and binding errors.
// Reference: closed form in numpy (tests/fixtures/ops/executor_dag_{0,1}.npz), rtol 1e-6, atol 1e-6
// (tanh), and affine_2d.npz (torch).
#include <doctest/doctest.h>

#include "../support/fixtures.hpp"

using namespace kata;
namespace kt = kata::test;

namespace {

constexpr double k_rtol = 1e-6, k_atol = 1e-6;

constexpr void dag(builder& g) {
    auto x = g.input("x", {2, 3, 5, 7});
    auto a = F::add_scalar(x, 1.5);
    auto r = F::reshape(a, {2, 3, 35});                 // alias of a
    auto b = F::tanh(F::relu(F::mul_scalar(r, -0.7)));  // relu, tanh in place; mul_scalar not (r read later)
    auto xr = F::reshape(x, {2, 3, 35});                // alias of the graph input
    g.output(F::concatenate({xr, b, xr}, 1));           // shared input read twice
    g.output(F::reshape(b * r, {2, 3, 5, 7}));          // r (= a) still alive here
}
using Dag = network<dag>;
using DagExec = kata::cpu::executor<Dag>;

constexpr int count_plan(bool in_place) {
    int c = 0;
    for (std::size_t i = 0; i < Dag::graph.size(); ++i)
        c += in_place ? DagExec::plan.in_place[i] : DagExec::plan.aliased[i];
    return c;
}
// The plan this test relies on: three aliases (the reshapes), two in-place ops (relu, tanh).
static_assert(count_plan(false) == 3);
static_assert(count_plan(true) == 2);

constexpr var affine_net(builder& g) {
    return F::affine(g.input("x", {5, 13}), g.parameter("W", {13, 7}), g.parameter("b", {7}));
}

}  // namespace

TEST_CASE("Executor: DAG with aliases, in-place chain, shared inputs, two outputs, repeated calls") {
    const kt::fixture f0 = kt::load_fixture("ops/executor_dag_0.npz");
    const kt::fixture f1 = kt::load_fixture("ops/executor_dag_1.npz");
    kata::parameter_store store;
    DagExec run(store);
    const xt::xarray<float> x0 = f0["x"], x1 = f1["x"];

    run(x0);
    const xt::xarray<float> c0 = run.output<0>(), e0 = run.output<1>();
    kt::check_close(c0, f0["c"], k_rtol, k_atol);
    kt::check_close(e0, f0["e"], k_rtol, k_atol);

    run(x1);  // different input: every output must be recomputed, nothing stale
    kt::check_close(run.output<0>(), f1["c"], k_rtol, k_atol);
    kt::check_close(run.output<1>(), f1["e"], k_rtol, k_atol);

    run(x0);  // and back: bit-identical to the first call
    kt::check_equal(run.output<0>(), c0);
    kt::check_equal(run.output<1>(), e0);
    // Inputs are never written.
    kt::check_equal(x0, f0["x"]);
    kt::check_equal(x1, f1["x"]);
}

TEST_CASE("Executor: two executors of one graph type are independent") {
    const kt::fixture f0 = kt::load_fixture("ops/executor_dag_0.npz");
    const kt::fixture f1 = kt::load_fixture("ops/executor_dag_1.npz");
    kata::parameter_store store;
    DagExec r0(store), r1(store);
    r0(f0["x"]);
    r1(f1["x"]);
    kt::check_close(r0.output<1>(), f0["e"], k_rtol, k_atol);
    kt::check_close(r1.output<1>(), f1["e"], k_rtol, k_atol);
}

TEST_CASE("Executor: parameters are re-read at every call") {
    const kt::fixture fx = kt::load_fixture("ops/affine_2d.npz");
    kata::parameter_store store;
    kt::set_param(store, "W", fx["W"]);
    kt::set_param(store, "b", fx["b"]);
    kata::cpu::executor<network<affine_net>> run(store);
    const xt::xarray<float> x = fx["x"];
    kt::check_close(run(x), fx["y"], 1e-5, 1e-5);
    // y(2W, b) = 2 (y - b) + b
    store.find("W")->data *= 2.0f;
    const xt::xarray<float> want = 2.0f * (fx["y"] - fx["b"]) + fx["b"];
    kt::check_close(run(x), want, 1e-5, 1e-5);
}

TEST_CASE("Executor: binding errors name the parameter or input") {
    const kt::fixture fx = kt::load_fixture("ops/affine_2d.npz");
    kata::parameter_store store;
    kt::set_param(store, "W", fx["W"]);
    CHECK_THROWS_AS(kata::cpu::executor<network<affine_net>>{store}, kata::cpu::binding_error);
    kt::set_param(store, "b", xt::xarray<float>(xt::zeros<float>({8})));
    CHECK_THROWS_WITH_AS(kata::cpu::executor<network<affine_net>>{store}, doctest::Contains("'b'"),
                         kata::cpu::binding_error);
    kt::set_param(store, "b", fx["b"]);
    kata::cpu::executor<network<affine_net>> run(store);
    const xt::xarray<float> wrong = xt::zeros<float>({5, 12});
    CHECK_THROWS_AS(run(wrong), kata::cpu::binding_error);
}
