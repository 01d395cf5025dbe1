// Channel-last pooling split over kata's pool (kata/cpu/kernels/pooling.hpp: >= 64K outputs): the
// threaded NHWC result must equal, bit for bit, the channel-first kernel (single-threaded, per-output
// window loop) on the transposed input, for ResNet-50's stem max pooling (3x3 / 2, pad 1) at batch 2
// and for average pooling with and without padding in the divisor.
#include <doctest/doctest.h>

#include <random>

#include "../support/fixtures.hpp"

using namespace kata;
namespace kt = kata::test;

namespace {

template <bool CL, int Mode>
constexpr var pool_net(builder& g) {
    auto x = CL ? g.input("x", {2, 112, 110, 64}, layout::channel_last) : g.input("x", {2, 64, 112, 110});
    if constexpr (Mode == 0)
        return F::max_pooling(x, {3, 3}, {.stride = {2, 2}, .pad = {1, 1}, .channel_last = CL});
    else if constexpr (Mode == 1)
        return F::average_pooling(
            x, {3, 2}, {.stride = {2, 2}, .pad = {1, 1}, .channel_last = CL, .including_pad = true});
    else
        return F::average_pooling(
            x, {3, 3}, {.stride = {1, 2}, .pad = {1, 1}, .channel_last = CL, .including_pad = false});
}

template <int Mode>
void check_mode() {
    std::mt19937 rng(Mode + 1);
    std::normal_distribution<float> nd(0.f, 1.f);
    xt::xarray<float> x_cf =
        xt::zeros<float>({std::size_t(2), std::size_t(64), std::size_t(112), std::size_t(110)});
    for (auto& v : x_cf) v = nd(rng);
    const xt::xarray<float> x_cl = xt::transpose(x_cf, {0, 2, 3, 1});
    parameter_store store;
    cpu::executor<network<pool_net<false, Mode>>> cf(store);
    cpu::executor<network<pool_net<true, Mode>>> cl(store);
    static_assert(network<pool_net<true, Mode>>::graph
                      .nodes[std::size_t(network<pool_net<true, Mode>>::graph.outputs[0])]
                      .shape.numel() >= cpu::detail::parallel_outputs);
    const xt::xarray<float> want = xt::transpose(xt::xarray<float>(cf(x_cf)), {0, 2, 3, 1});
    kt::check_equal(xt::xarray<float>(cl(x_cl)), want);
    kt::check_equal(xt::xarray<float>(cl(x_cl)), want);  // again: nothing stale
}

}  // namespace

TEST_CASE("Channel-last pooling on two threads equals the channel-first kernel bit for bit") {
    check_mode<0>();
    check_mode<1>();
    check_mode<2>();
}
