// MaxPooling, AveragePooling (including_pad both ways), SumPooling, Unpooling, GlobalAveragePooling
// (forward, CPU), channel-first and channel-last, 1-D/2-D/3-D kernels, pad and stride != kernel.
// References (tests/fixtures/ops, tools/fixtures/make_op_fixtures.py):
//   * ignore_border=true: torch max_pool/avg_pool (count_include_pad = including_pad; SumPooling =
//     avg_pool with divisor_override=1), channel-last through permutes;
//   * ignore_border=false ("*_nib", pool2d_no_ignore_border): a CLOSED FORM in numpy written from
//     nnabla's semantics (torch's ceil_mode differs): output size (X + pad - 1)/stride + 1, windows
//     start = o*stride - pad, end = min(start + kernel, X + pad), averaged over end - start
//     (including_pad) or over the valid inputs;
//   * Unpooling (nearest repeat) and GlobalAveragePooling: closed forms (numpy repeat / mean).
// Tolerances: MaxPooling and Unpooling exact; sums and averages rtol 1e-6, atol 1e-6.
#include <doctest/doctest.h>

#include "../support/fixtures.hpp"

using namespace kata;
namespace kt = kata::test;

namespace {

constexpr double k_rtol = 1e-6, k_atol = 1e-6;

template <bool IgnoreBorder>
constexpr void pool2d(builder& g) {
    auto x = g.input("x", {2, 3, IgnoreBorder ? 9 : 10, IgnoreBorder ? 11 : 7});
    const dims k{3, 2};
    g.output(F::max_pooling(x, k, {.stride = {2, 3}, .ignore_border = IgnoreBorder, .pad = {1, 1}}));
    g.output(F::average_pooling(
        x, k, {.stride = {2, 3}, .ignore_border = IgnoreBorder, .pad = {1, 1}, .including_pad = true}));
    g.output(F::average_pooling(
        x, k, {.stride = {2, 3}, .ignore_border = IgnoreBorder, .pad = {1, 1}, .including_pad = false}));
    g.output(F::sum_pooling(x, k, {.stride = {2, 3}, .ignore_border = IgnoreBorder, .pad = {1, 1}}));
}

constexpr void pool2d_cl(builder& g) {
    auto x = g.input("x", {2, 9, 11, 5}, layout::channel_last);
    const dims k{3, 3};
    for (bool ib : {true, false}) {
        const pooling_args a{.stride = {2, 2}, .ignore_border = ib, .pad = {1, 0}, .channel_last = true};
        pooling_args excl = a;
        excl.including_pad = false;
        g.output(F::max_pooling(x, k, a));
        g.output(F::average_pooling(x, k, a));
        g.output(F::average_pooling(x, k, excl));
        g.output(F::sum_pooling(x, k, a));
    }
}

constexpr void pool_1d_3d(builder& g) {
    auto x1 = g.input("x1", {2, 3, 13});
    auto x3 = g.input("x3", {1, 2, 5, 7, 6});
    auto x5 = g.input("x5", {2, 3, 4, 9, 7});
    g.output(F::max_pooling(x1, {4}, {.stride = {3}, .pad = {2}}));
    g.output(F::average_pooling(x1, {4}, {.stride = {3}, .pad = {2}, .including_pad = false}));
    g.output(F::max_pooling(x3, {2, 3, 2}, {.stride = {1, 2, 2}, .pad = {1, 1, 0}}));
    g.output(
        F::average_pooling(x3, {2, 3, 2}, {.stride = {1, 2, 2}, .pad = {1, 1, 0}, .including_pad = true}));
    g.output(F::max_pooling(x5, {2, 3}, {.stride = {2, 2}, .pad = {1, 1}}));  // 2-D kernel, 3 leading axes
}

constexpr void unpool_gap(builder& g) {
    auto xu = g.input("xu", {2, 3, 4, 5});
    auto xul = g.input("xul", {2, 4, 5, 3}, layout::channel_last);
    auto xg = g.input("xg", {3, 5, 7, 9});
    g.output(F::unpooling(xu, {2, 3}));
    g.output(F::unpooling(xul, {3, 2}, true));
    g.output(F::global_average_pooling(xg));
}

}  // namespace

TEST_CASE("Max/Average/SumPooling 2-D, ignore_border=true, pad and stride vs torch") {
    const kt::fixture fx = kt::load_fixture("ops/pool2d.npz");
    kata::parameter_store store;
    kata::cpu::executor<network<pool2d<true>>> run(store);
    const xt::xarray<float> x = fx["x"];
    run(x);
    kt::check_equal(run.output<0>(), fx["max"]);
    kt::check_close(run.output<1>(), fx["avg_incl"], k_rtol, k_atol);
    kt::check_close(run.output<2>(), fx["avg_excl"], k_rtol, k_atol);
    kt::check_close(run.output<3>(), fx["sum"], k_rtol, k_atol);
}

TEST_CASE("Max/Average/SumPooling 2-D, ignore_border=false vs closed form (nnabla semantics)") {
    const kt::fixture fx = kt::load_fixture("ops/pool2d_no_ignore_border.npz");
    kata::parameter_store store;
    kata::cpu::executor<network<pool2d<false>>> run(store);
    const xt::xarray<float> x = fx["x"];
    run(x);
    kt::check_equal(run.output<0>(), fx["max"]);
    kt::check_close(run.output<1>(), fx["avg_incl"], k_rtol, k_atol);
    kt::check_close(run.output<2>(), fx["avg_excl"], k_rtol, k_atol);
    kt::check_close(run.output<3>(), fx["sum"], k_rtol, k_atol);
}

TEST_CASE("Pooling channel_last, ignore_border true (vs torch) and false (vs closed form)") {
    const kt::fixture fx = kt::load_fixture("ops/pool2d_cl.npz");
    kata::parameter_store store;
    kata::cpu::executor<network<pool2d_cl>> run(store);
    const xt::xarray<float> x = fx["x"];
    run(x);
    kt::check_equal(run.output<0>(), fx["max"]);
    kt::check_close(run.output<1>(), fx["avg_incl"], k_rtol, k_atol);
    kt::check_close(run.output<2>(), fx["avg_excl"], k_rtol, k_atol);
    kt::check_close(run.output<3>(), fx["sum"], k_rtol, k_atol);
    kt::check_equal(run.output<4>(), fx["max_nib"]);
    kt::check_close(run.output<5>(), fx["avg_incl_nib"], k_rtol, k_atol);
    kt::check_close(run.output<6>(), fx["avg_excl_nib"], k_rtol, k_atol);
    kt::check_close(run.output<7>(), fx["sum_nib"], k_rtol, k_atol);
}

TEST_CASE("Pooling 1-D, 3-D and a 2-D kernel on a 5-D input vs torch") {
    const kt::fixture fx = kt::load_fixture("ops/pool_1d_3d.npz");
    kata::parameter_store store;
    kata::cpu::executor<network<pool_1d_3d>> run(store);
    const xt::xarray<float> x1 = fx["x1"], x3 = fx["x3"], x5 = fx["x5"];
    run(x1, x3, x5);
    kt::check_equal(run.output<0>(), fx["max1"]);
    kt::check_close(run.output<1>(), fx["avg1"], k_rtol, k_atol);
    kt::check_equal(run.output<2>(), fx["max3"]);
    kt::check_close(run.output<3>(), fx["avg3"], k_rtol, k_atol);
    kt::check_equal(run.output<4>(), fx["max5"]);
}

TEST_CASE("Unpooling (channel-first and channel-last) and GlobalAveragePooling vs closed form") {
    const kt::fixture fx = kt::load_fixture("ops/unpool_gap.npz");
    kata::parameter_store store;
    kata::cpu::executor<network<unpool_gap>> run(store);
    const xt::xarray<float> xu = fx["xu"], xul = fx["xul"], xg = fx["xg"];
    run(xu, xul, xg);
    kt::check_equal(run.output<0>(), fx["yu"]);
    kt::check_equal(run.output<1>(), fx["yul"]);
    kt::check_close(run.output<2>(), fx["yg"], k_rtol, k_atol);
}
