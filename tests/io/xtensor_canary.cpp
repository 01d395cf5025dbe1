// Canary for the xtensor 0.24.3 + g++ C++20 miscompilation fixed in kata/detail/xtensor_fix.hpp
// (docs: docs/toolchain.md §1). If this fails, some header includes xtensor
// before kata/detail/xtensor_fix.hpp, or the xtensor version changed.
#include <kata/detail/xtensor_fix.hpp>

#include <doctest/doctest.h>

#include <xtensor/xarray.hpp>
#include <xtensor/xpad.hpp>
#include <xtensor/xreducer.hpp>
#include <xtensor/xview.hpp>

TEST_CASE("xtensor canary: pad of a 1-D xarray keeps its values") {
    xt::xarray<int> a = {1, 2, 3};
    xt::xarray<int> p = xt::pad(a, 1);
    xt::xarray<int> expected = {0, 1, 2, 3, 0};
    REQUIRE(p.dimension() == 1);
    CHECK(p == expected);
}

TEST_CASE("xtensor canary: immediate sum of an xarray does not crash") {
    xt::xarray<double> a = {1.0, 2.0, 3.5};
    double s = xt::sum(a, xt::evaluation_strategy::immediate)();
    CHECK(s == doctest::Approx(6.5));
}

TEST_CASE("xtensor canary: 1-D strided_view assignment") {
    xt::xarray<float> a = xt::zeros<float>({6});
    auto v = xt::strided_view(a, {xt::range(1, 4)});
    v = xt::xarray<float>{7.f, 8.f, 9.f};
    xt::xarray<float> expected = {0.f, 7.f, 8.f, 9.f, 0.f, 0.f};
    CHECK(a == expected);
}
