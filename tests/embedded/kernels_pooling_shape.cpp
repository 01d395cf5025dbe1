// The embedded back end's pooling and shape kernels (kata/embedded/kernels/pooling.hpp, shape_ops.hpp):
// Max/Average (including_pad both ways)/SumPooling, channel-first and channel-last, 1-D/2-D/3-D kernels,
// ignore_border true and false; Unpooling, GlobalAveragePooling; Concatenate, Transpose, Reshape
// (aliases), Softmax on every axis. References: tests/fixtures/ops (torch twins where torch has the op,
// nnabla's closed forms otherwise: ignore_border=false windows, Unpooling, GAP, Concatenate, Transpose),
// same networks as tests/ops/pooling.cpp, pooling_1d_3d.cpp, shape_ops.cpp; and the CPU executor.
// Tolerances: max/unpool/concatenate/transpose exact; sums, averages and softmax rtol 1e-6, atol 1e-6
// (as the CPU tests).
#include <doctest/doctest.h>

#include "../support/embedded_check.hpp"

using namespace kata;
using kata::test::check_embedded;
using kata::test::load_fixture;

namespace {

constexpr double k_rtol = 1e-6, k_atol = 1e-6;

template <bool Max>
constexpr void pool_ops(var x, dims k, pooling_args a) {
    builder& g = *x.g;
    pooling_args excl = a;
    excl.including_pad = false;
    if constexpr (Max) {
        g.output(F::max_pooling(x, k, a));
    } else {
        g.output(F::average_pooling(x, k, a));
        g.output(F::average_pooling(x, k, excl));
        g.output(F::sum_pooling(x, k, a));
    }
}

template <bool IgnoreBorder, bool Max>
constexpr void pool2d(builder& g) {
    auto x = g.input("x", {2, 3, IgnoreBorder ? 9 : 10, IgnoreBorder ? 11 : 7});
    pool_ops<Max>(x, {3, 2}, {.stride = {2, 3}, .ignore_border = IgnoreBorder, .pad = {1, 1}});
}
template <bool Max>
constexpr void pool2d_cl(builder& g) {
    auto x = g.input("x", {2, 9, 11, 5}, layout::channel_last);
    for (bool ib : {true, false})
        pool_ops<Max>(x, {3, 3},
                      {.stride = {2, 2}, .ignore_border = ib, .pad = {1, 0}, .channel_last = true});
}
template <bool Max>
constexpr void pool_cl_1d_3d(builder& g) {
    auto x1 = g.input("x1", {2, 13, 4}, layout::channel_last);
    auto x3 = g.input("x3", {2, 5, 7, 6, 3}, layout::channel_last);
    for (bool ib : {true, false}) {
        pool_ops<Max>(x1, {4}, {.stride = {3}, .ignore_border = ib, .pad = {2}, .channel_last = true});
        pool_ops<Max>(x3, {2, 3, 2},
                      {.stride = {2, 2, 1}, .ignore_border = ib, .pad = {1, 1, 0}, .channel_last = true});
    }
}
template <bool Max>
constexpr void pool_cf_1d_3d_nib(builder& g) {
    auto x1 = g.input("x1", {2, 3, 13});
    auto x3 = g.input("x3", {1, 2, 8, 7, 7});
    pool_ops<Max>(x1, {4}, {.stride = {3}, .ignore_border = false, .pad = {1}});
    pool_ops<Max>(x3, {3, 2, 3}, {.stride = {2, 2, 3}, .ignore_border = false, .pad = {1, 0, 0}});
}
constexpr void unpool(builder& g) {
    g.output(F::unpooling(g.input("xu", {2, 3, 4, 5}), {2, 3}));
    g.output(F::unpooling(g.input("xul", {2, 4, 5, 3}, layout::channel_last), {3, 2}, true));
}
constexpr var gap(builder& g) { return F::global_average_pooling(g.input("xg", {3, 5, 7, 9})); }

constexpr void concat_net(builder& g) {
    auto a = g.input("a", {2, 3, 5});
    auto b = g.input("b", {2, 4, 5});
    auto c = g.input("c", {2, 1, 5});
    auto d = g.input("d", {3, 2, 5, 7});
    auto e = g.input("e", {3, 2, 5, 3});
    auto f = g.input("f", {2, 3, 5});
    auto h = g.input("g", {3, 3, 5});
    g.output(F::concatenate({a, b, c, a}, 1));
    g.output(F::concatenate({d, e, d}));
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
    g.output(F::reshape(F::transpose(x, {0, 2, 3, 1}), {2, 60}));  // alias of a function output
}
constexpr void softmax_net(builder& g) {
    auto x = g.input("x", {3, 5, 7});
    g.output(F::softmax(x));
    g.output(F::softmax(x, 1));
    g.output(F::softmax(x, 0));
}

}  // namespace

TEST_CASE("embedded Max/Average/SumPooling 2-D channel-first, ignore_border true and false") {
    const auto fx = load_fixture("ops/pool2d.npz");
    check_embedded<network<pool2d<true, true>>>(fx, {}, {"max"}, 0.0, 0.0);
    check_embedded<network<pool2d<true, false>>>(fx, {}, {"avg_incl", "avg_excl", "sum"}, k_rtol, k_atol);
    const auto nib = load_fixture("ops/pool2d_no_ignore_border.npz");
    check_embedded<network<pool2d<false, true>>>(nib, {}, {"max"}, 0.0, 0.0);
    check_embedded<network<pool2d<false, false>>>(nib, {}, {"avg_incl", "avg_excl", "sum"}, k_rtol, k_atol);
}

TEST_CASE("embedded pooling channel-last 1-D/2-D/3-D and channel-first 1-D/3-D without ignore_border") {
    const auto cl = load_fixture("ops/pool2d_cl.npz");
    check_embedded<network<pool2d_cl<true>>>(cl, {}, {"max", "max_nib"}, 0.0, 0.0);
    check_embedded<network<pool2d_cl<false>>>(
        cl, {}, {"avg_incl", "avg_excl", "sum", "avg_incl_nib", "avg_excl_nib", "sum_nib"}, k_rtol, k_atol);
    const auto cl13 = load_fixture("ops/pool_cl_1d_3d.npz");
    check_embedded<network<pool_cl_1d_3d<true>>>(cl13, {}, {"max1", "max3", "max1_nib", "max3_nib"}, 0.0,
                                                 0.0);
    check_embedded<network<pool_cl_1d_3d<false>>>(cl13, {},
                                                  {"avg_incl1", "avg_excl1", "sum1", "avg_incl3", "avg_excl3",
                                                   "sum3", "avg_incl1_nib", "avg_excl1_nib", "sum1_nib",
                                                   "avg_incl3_nib", "avg_excl3_nib", "sum3_nib"},
                                                  k_rtol, k_atol);
    const auto cf13 = load_fixture("ops/pool_cf_1d_3d.npz");
    check_embedded<network<pool_cf_1d_3d_nib<true>>>(cf13, {}, {"max1_nib", "max3_nib"}, 0.0, 0.0);
    check_embedded<network<pool_cf_1d_3d_nib<false>>>(
        cf13, {},
        {"avg_incl1_nib", "avg_excl1_nib", "sum1_nib", "avg_incl3_nib", "avg_excl3_nib", "sum3_nib"}, k_rtol,
        k_atol);
}

TEST_CASE("embedded Unpooling (channel-first and -last) and GlobalAveragePooling") {
    const auto fx = load_fixture("ops/unpool_gap.npz");
    check_embedded<network<unpool>>(fx, {}, {"yu", "yul"}, 0.0, 0.0);
    check_embedded<network<gap>>(fx, {}, {"yg"}, k_rtol, k_atol);
}

TEST_CASE("embedded Concatenate, Transpose, Reshape (alias), Softmax on every axis") {
    check_embedded<network<concat_net>>(load_fixture("ops/concatenate.npz"), {},
                                        {"y_axis1", "y_last", "y_axis0"}, 0.0, 0.0);
    auto tx = load_fixture("ops/transpose.npz");
    tx.arrays.emplace("y_0231_flat", xt::xarray<float>(xt::reshape_view(tx["y_0231"], {2, 60})));
    check_embedded<network<transpose_net>>(
        tx, {}, {"y_0231", "y_3102", "y_0312", "m_t", "v_42130", "y_0231_flat"}, 0.0, 0.0);
    check_embedded<network<softmax_net>>(load_fixture("ops/softmax.npz"), {},
                                         {"y_last", "y_axis1", "y_axis0"}, k_rtol, k_atol);
}
