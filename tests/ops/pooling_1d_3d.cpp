// MaxPooling, AveragePooling (including_pad both ways) and SumPooling (forward, CPU) with 1-D and 3-D
// kernels: channel-last 1-D / 3-D with ignore_border true and false, channel-first SumPooling 1-D / 3-D
// and channel-first ignore_border=false 1-D / 3-D (tests/ops/pooling.cpp covers 2-D both ways and
// channel-first 1-D / 3-D Max/AveragePooling with ignore_border=true).
// References (tools/fixtures/make_op_fixtures.py, pooling_cases):
//   * ignore_border=true: torch max_pool / avg_pool (count_include_pad = including_pad; SumPooling =
//     avg_pool with divisor_override=1, 1-D through avg_pool2d over a unit axis), channel-last through
//     permutes; the script asserts the closed form agrees;
//   * ignore_border=false ("*_nib"): the closed form in numpy from nnabla's semantics (torch's ceil_mode
//     differs): output size (X + pad - 1)/stride + 1, window start = o*stride - pad, end = min(start +
//     kernel, X + pad), divided by end - start (including_pad) or by the number of valid inputs. The
//     sizes give partial windows on every pooled axis (the script asserts more outputs than with
//     ignore_border=true).
// Tolerances: MaxPooling exact; sums and averages rtol 1e-6, atol 1e-6 (as pooling.cpp).
#include <doctest/doctest.h>

#include "../support/fixtures.hpp"

using namespace kata;
namespace kt = kata::test;

namespace {

constexpr double k_rtol = 1e-6, k_atol = 1e-6;

// Outputs per input, for ignore_border true then false: max, avg (including_pad), avg (excluding), sum.
constexpr void four_ops(var x, dims k, pooling_args a) {
    builder& g = *x.g;
    pooling_args excl = a;
    excl.including_pad = false;
    g.output(F::max_pooling(x, k, a));
    g.output(F::average_pooling(x, k, a));
    g.output(F::average_pooling(x, k, excl));
    g.output(F::sum_pooling(x, k, a));
}

// pool_cl_1d_3d: x1 (2, 13, 4) kernel 4 stride 3 pad 2; x3 (2, 5, 7, 6, 3) kernel (2,3,2) stride (2,2,1)
// pad (1,1,0); both channel-last.
constexpr void pool_cl(builder& g) {
    auto x1 = g.input("x1", {2, 13, 4}, layout::channel_last);
    auto x3 = g.input("x3", {2, 5, 7, 6, 3}, layout::channel_last);
    for (bool ib : {true, false}) {
        four_ops(x1, {4}, {.stride = {3}, .ignore_border = ib, .pad = {2}, .channel_last = true});
        four_ops(x3, {2, 3, 2},
                 {.stride = {2, 2, 1}, .ignore_border = ib, .pad = {1, 1, 0}, .channel_last = true});
    }
}

// pool_cf_1d_3d: x1 (2, 3, 13) kernel 4 stride 3 pad 1; x3 (1, 2, 8, 7, 7) kernel (3,2,3) stride (2,2,3)
// pad (1,0,0); SumPooling with ignore_border=true, then the four ops with ignore_border=false.
constexpr void pool_cf(builder& g) {
    auto x1 = g.input("x1", {2, 3, 13});
    auto x3 = g.input("x3", {1, 2, 8, 7, 7});
    const pooling_args a1{.stride = {3}, .pad = {1}};
    const pooling_args a3{.stride = {2, 2, 3}, .pad = {1, 0, 0}};
    g.output(F::sum_pooling(x1, {4}, a1));
    g.output(F::sum_pooling(x3, {3, 2, 3}, a3));
    pooling_args n1 = a1, n3 = a3;
    n1.ignore_border = n3.ignore_border = false;
    four_ops(x1, {4}, n1);
    four_ops(x3, {3, 2, 3}, n3);
}

template <class Run>
void check_four(Run& run, const kt::fixture& fx, const std::string& suffix, auto first) {
    constexpr std::size_t i = decltype(first)::value;
    kt::check_equal(run.template output<i>(), fx["max" + suffix]);
    kt::check_close(run.template output<i + 1>(), fx["avg_incl" + suffix], k_rtol, k_atol);
    kt::check_close(run.template output<i + 2>(), fx["avg_excl" + suffix], k_rtol, k_atol);
    kt::check_close(run.template output<i + 3>(), fx["sum" + suffix], k_rtol, k_atol);
}
template <std::size_t I>
using at = std::integral_constant<std::size_t, I>;

}  // namespace

TEST_CASE("Pooling channel_last 1-D and 3-D, ignore_border true (vs torch) and false (vs closed form)") {
    const kt::fixture fx = kt::load_fixture("ops/pool_cl_1d_3d.npz");
    kata::parameter_store store;
    kata::cpu::executor<network<pool_cl>> run(store);
    const xt::xarray<float> x1 = fx["x1"], x3 = fx["x3"];
    run(x1, x3);
    check_four(run, fx, "1", at<0>{});
    check_four(run, fx, "3", at<4>{});
    check_four(run, fx, "1_nib", at<8>{});
    check_four(run, fx, "3_nib", at<12>{});
}

TEST_CASE(
    "SumPooling 1-D and 3-D vs torch, and Max/Average/SumPooling 1-D and 3-D with ignore_border=false") {
    const kt::fixture fx = kt::load_fixture("ops/pool_cf_1d_3d.npz");
    kata::parameter_store store;
    kata::cpu::executor<network<pool_cf>> run(store);
    const xt::xarray<float> x1 = fx["x1"], x3 = fx["x3"];
    run(x1, x3);
    kt::check_close(run.output<0>(), fx["sum1"], k_rtol, k_atol);
    kt::check_close(run.output<1>(), fx["sum3"], k_rtol, k_atol);
    check_four(run, fx, "1_nib", at<2>{});
    check_four(run, fx, "3_nib", at<6>{});
}
