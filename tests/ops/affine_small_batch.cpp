// Affine's small-batch kernel (kata/cpu/kernels/affine.hpp, B <= 8 rows: column blocks over the pool,
// up to 4 rows in registers), with the CPU's variant (AVX-512, else AVX2 + FMA, where the CPU has them),
// the AVX2 one (on AVX-512 CPUs too) and the portable one.
// References: the PyTorch fixtures of affine.cpp (rtol = atol = 1e-5), and a double-precision dot
// product written here for a classifier-head shape (K = 2048, O = 1000: 15 full 64-column blocks and a
// 40-column tail) at every batch size 1..9 (9 takes the sgemm path), tolerance
// 1e-5 * sum |x_k W_kj| + 1e-6 per element.
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "../support/fixtures.hpp"

using namespace kata;
namespace kt = kata::test;

namespace {

// The kernel variants every case runs: 0 the CPU's best (AVX-512, else AVX2 + FMA), 1 at most AVX2 +
// FMA (the AVX2 kernels on AVX-512 CPUs too), 2 portable (kata/cpu/simd.hpp).
void set_variant(int v) {
    if (v == 2)
        cpu::simd::force_generic(true);
    else
        cpu::simd::force_avx2(v == 1);
}

constexpr var affine_2d(builder& g) {
    auto x = g.input("x", {5, 13});
    return F::affine(x, g.parameter("W", {13, 7}), g.parameter("b", {7}));
}
constexpr var affine_4d(builder& g) {
    auto x = g.input("x", {3, 4, 5, 3});
    return F::affine(x, g.parameter("W", {60, 9}), g.parameter("b", {9}));
}
constexpr var affine_base2_multiout(builder& g) {
    auto x = g.input("x", {2, 3, 5, 7});
    return F::affine(x, g.parameter("W", {35, 4, 3}), g.parameter("b", {4, 3}), {.base_axis = 2});
}
constexpr var affine_nobias(builder& g) {
    auto x = g.input("x", {3, 11});
    return F::affine(x, g.parameter("W", {11, 5}));
}
template <int B, bool Bias>
constexpr var head(builder& g) {
    auto x = g.input("x", {B, 2048});
    return Bias ? F::affine(x, g.parameter("W", {2048, 1000}), g.parameter("b", {1000}))
                : F::affine(x, g.parameter("W", {2048, 1000}));
}

template <int B, bool Bias>
void check_head(unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd(0.f, 1.f);
    xt::xarray<float> x = xt::zeros<float>({std::size_t(B), std::size_t(2048)});
    xt::xarray<float> w = xt::zeros<float>({std::size_t(2048), std::size_t(1000)});
    xt::xarray<float> b = xt::zeros<float>({std::size_t(1000)});
    for (auto& v : x) v = nd(rng);
    for (auto& v : w) v = nd(rng) * 0.02f;
    for (auto& v : b) v = nd(rng);
    parameter_store store;
    kt::set_param(store, "W", w);
    if (Bias) kt::set_param(store, "b", b);
    cpu::executor<network<head<B, Bias>>> run(store);
    const auto y = run(x);
    std::size_t bad = 0;
    for (int r = 0; r < B; ++r)
        for (int j = 0; j < 1000; ++j) {
            double acc = Bias ? double(b(j)) : 0.0, mag = Bias ? std::abs(double(b(j))) : 0.0;
            for (int k = 0; k < 2048; ++k) {
                const double t = double(x(r, k)) * double(w(k, j));
                acc += t;
                mag += std::abs(t);
            }
            if (std::abs(double(y(r, j)) - acc) > 1e-5 * mag + 1e-6) ++bad;
        }
    INFO("batch " << B << ", bias " << Bias);
    CHECK(bad == 0);
}

}  // namespace

TEST_CASE("Affine small-batch kernel: PyTorch fixtures, AVX-512 and portable") {
    for (int variant : {0, 1, 2}) {
        INFO("variant (0 best, 1 AVX2 at most, 2 portable): " << variant);
        set_variant(variant);
        kt::check_fixture_net<network<affine_2d>>("affine_2d", {"W", "b"}, 1e-5, 1e-5);
        kt::check_fixture_net<network<affine_4d>>("affine_4d", {"W", "b"}, 1e-5, 1e-5);
        kt::check_fixture_net<network<affine_base2_multiout>>("affine_base2_multiout", {"W", "b"}, 1e-5,
                                                              1e-5);
        kt::check_fixture_net<network<affine_nobias>>("affine_nobias", {"W"}, 1e-5, 1e-5);
    }
    cpu::simd::force_generic(false);
}

TEST_CASE(
    "Affine small-batch kernel: classifier head 2048 -> 1000, batch 1..9, against double dot products") {
    for (int variant : {0, 1, 2}) {
        INFO("variant (0 best, 1 AVX2 at most, 2 portable): " << variant);
        set_variant(variant);
        check_head<1, true>(1);
        check_head<2, false>(2);
        check_head<3, true>(3);
        check_head<4, true>(4);
        check_head<5, false>(5);
        check_head<7, true>(7);
        check_head<8, true>(8);
        check_head<9, true>(9);
    }
    cpu::simd::force_generic(false);
}
