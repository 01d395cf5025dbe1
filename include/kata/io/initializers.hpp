// kata/io/initializers.hpp
//
// Purpose: parameter initializers (nnabla.initializer) and the seeded random generator they draw from.
//
// nnabla mapping:
//   ConstantInitializer(value=0)      -> initializer::constant(v)
//   UniformInitializer(lim=(-1, 1))   -> initializer::uniform(a, b)
//   NormalInitializer(sigma=1.0)      -> initializer::normal(mean, std)   (kata adds a mean)
//   an ndarray passed as initializer  -> initializer::from_array(a)      (copied; shape must match)
//   calc_uniform_lim_glorot, calc_normal_std_he_forward, calc_normal_std_he_backward,
//   calc_normal_std_glorot            -> functions of the same names below
//   nnabla.random.prng (RandomState(313)) -> kata::rng (default seed 313)
//
// Random numbers: kata::rng is std::mt19937 seeded with init_genrand(seed) -- the same generator and
// seeding numpy.random.RandomState(int seed) uses -- and converts outputs exactly like numpy's legacy
// RandomState: 53-bit doubles ((a>>5)*2^26 + (b>>6)) / 2^53, uniform = lo + (hi-lo)*u, and the
// legacy polar Box-Muller gauss with its cached second value. So for the same seed and the same
// sequence of draws kata reproduces RandomState's values (checked against numpy in
// tests/io/initializers.cpp via tools/fixtures/make_npz_fixtures.py). This is a property we test,
// not a promise across platforms: `normal` uses std::log/std::sqrt, which can differ in the last ulp
// between C libraries; the distributions match regardless. Draws happen in float64 and are rounded
// to float32 as nnabla does (`.astype(np.float32)`), so a uniform(a, b) draw can round to exactly b.
//
// Glorot formula: the project's reference (docs/nnabla-semantics.md §0.4) is b = sqrt(6 / (K * (N + M))) with
// K = product of the kernel dims, N = inmaps, M = outmaps. (Upstream nnabla's source evaluates
// `6 / (np.prod(kernel) * inmaps + outmaps)` because of operator precedence; kata follows the formula.
// The same applies to calc_normal_std_glorot.)
#pragma once

#include "../detail/xtensor_fix.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include <xtensor/xarray.hpp>
#include <xtensor/xbuilder.hpp>

namespace kata {

/// Seeded random generator with numpy RandomState-compatible conversions (see header comment).
/// Also a UniformRandomBitGenerator, so it works with <random> distributions.
class rng {
public:
    using result_type = std::uint32_t;
    static constexpr std::uint32_t default_seed = 313;  // nnabla.random.prng = RandomState(313)

    explicit rng(std::uint32_t seed = default_seed) : mt_(seed) {}

    void seed(std::uint32_t s) {
        mt_.seed(s);
        has_gauss_ = false;
    }

    static constexpr result_type min() { return std::mt19937::min(); }
    static constexpr result_type max() { return std::mt19937::max(); }
    result_type operator()() { return static_cast<result_type>(mt_()); }

    /// U[0, 1) with 53 random bits, as numpy's random_sample().
    double random_sample() {
        const std::uint32_t a = (*this)() >> 5, b = (*this)() >> 6;
        return (a * 67108864.0 + b) / 9007199254740992.0;
    }

    /// U[lo, hi), as numpy's uniform(lo, hi).
    double uniform(double lo, double hi) { return lo + (hi - lo) * random_sample(); }

    /// N(0, 1), numpy's legacy gauss (polar method; every second call returns the cached value).
    double standard_normal() {
        if (has_gauss_) {
            has_gauss_ = false;
            return gauss_;
        }
        double x1, x2, r2;
        do {
            x1 = 2.0 * random_sample() - 1.0;
            x2 = 2.0 * random_sample() - 1.0;
            r2 = x1 * x1 + x2 * x2;
        } while (r2 >= 1.0 || r2 == 0.0);
        const double f = std::sqrt(-2.0 * std::log(r2) / r2);
        gauss_ = f * x1;
        has_gauss_ = true;
        return f * x2;
    }

private:
    std::mt19937 mt_;
    bool has_gauss_ = false;
    double gauss_ = 0.0;
};

namespace io::detail {
template <class S>
std::string shape_str(const S& s) {
    std::string r = "(";
    std::size_t i = 0;
    for (auto d : s) r += (i++ ? ", " : "") + std::to_string(d);
    return r + (i == 1 ? ",)" : ")");
}
inline double kernel_size(const std::vector<std::size_t>& kernel) {
    double k = 1.0;
    for (auto d : kernel) k *= static_cast<double>(d);
    return k;
}
}  // namespace io::detail

/// Glorot/Xavier uniform limit: sqrt(6 / (K * (inmaps + outmaps))) (docs/nnabla-semantics.md §0.4).
inline double calc_uniform_lim_glorot(std::size_t inmaps, std::size_t outmaps,
                                      const std::vector<std::size_t>& kernel = {1, 1}) {
    return std::sqrt(6.0 / (io::detail::kernel_size(kernel) * double(inmaps + outmaps)));
}
/// Glorot normal std: sqrt(2 / (K * (inmaps + outmaps))).
inline double calc_normal_std_glorot(std::size_t inmaps, std::size_t outmaps,
                                     const std::vector<std::size_t>& kernel = {1, 1}) {
    return std::sqrt(2.0 / (io::detail::kernel_size(kernel) * double(inmaps + outmaps)));
}
/// He (Kaiming) normal std, forward: sqrt(2 / (K * inmaps)).
inline double calc_normal_std_he_forward(std::size_t inmaps, std::size_t /*outmaps*/,
                                         const std::vector<std::size_t>& kernel = {1, 1}) {
    return std::sqrt(2.0 / (io::detail::kernel_size(kernel) * double(inmaps)));
}
/// He (Kaiming) normal std, backward: sqrt(2 / (K * outmaps)).
inline double calc_normal_std_he_backward(std::size_t /*inmaps*/, std::size_t outmaps,
                                          const std::vector<std::size_t>& kernel = {1, 1}) {
    return std::sqrt(2.0 / (io::detail::kernel_size(kernel) * double(outmaps)));
}

/// A value-type initializer: constant, uniform, normal or a copied array. Call it with a shape and
/// an rng to get a float32 array of exactly that shape.
class initializer {
public:
    struct constant_t {
        float value = 0.0f;
    };
    struct uniform_t {
        double lo = -1.0, hi = 1.0;
    };
    struct normal_t {
        double mean = 0.0, std = 1.0;
    };
    struct array_t {
        xt::xarray<float> value;
    };
    using variant_type = std::variant<constant_t, uniform_t, normal_t, array_t>;

    /// Default: nnabla's ConstantInitializer(0).
    initializer() = default;
    explicit initializer(variant_type v) : v_(std::move(v)) {}

    static initializer constant(float v = 0.0f) { return initializer(constant_t{v}); }
    static initializer uniform(double lo = -1.0, double hi = 1.0) {
        if (!(lo <= hi)) throw std::invalid_argument("kata::initializer::uniform: lo must be <= hi");
        return initializer(uniform_t{lo, hi});
    }
    static initializer normal(double mean = 0.0, double std = 1.0) {
        if (!(std >= 0.0)) throw std::invalid_argument("kata::initializer::normal: std must be >= 0");
        return initializer(normal_t{mean, std});
    }
    /// nnabla's "pass an ndarray": the data is copied; the requested shape must equal its shape.
    static initializer from_array(xt::xarray<float> a) { return initializer(array_t{std::move(a)}); }
    /// U(-b, b) with b = calc_uniform_lim_glorot(inmaps, outmaps, kernel).
    static initializer glorot_uniform(std::size_t inmaps, std::size_t outmaps,
                                      const std::vector<std::size_t>& kernel = {1, 1}) {
        const double b = calc_uniform_lim_glorot(inmaps, outmaps, kernel);
        return uniform(-b, b);
    }
    /// N(0, calc_normal_std_he_forward(...)).
    static initializer he_normal(std::size_t inmaps, std::size_t outmaps,
                                 const std::vector<std::size_t>& kernel = {1, 1}) {
        return normal(0.0, calc_normal_std_he_forward(inmaps, outmaps, kernel));
    }

    const variant_type& value() const noexcept { return v_; }

    /// Draws/fills an array of `shape` (row-major order of draws, as numpy).
    xt::xarray<float> operator()(const std::vector<std::size_t>& shape, rng& r) const {
        using shape_type = xt::xarray<float>::shape_type;
        const shape_type s(shape.begin(), shape.end());
        return std::visit(
            [&](const auto& v) -> xt::xarray<float> {
                using V = std::decay_t<decltype(v)>;
                if constexpr (std::is_same_v<V, constant_t>) {
                    xt::xarray<float> a = xt::empty<float>(s);
                    std::fill(a.begin(), a.end(), v.value);
                    return a;
                } else if constexpr (std::is_same_v<V, uniform_t>) {
                    xt::xarray<float> a = xt::empty<float>(s);
                    for (auto& x : a) x = static_cast<float>(r.uniform(v.lo, v.hi));
                    return a;
                } else if constexpr (std::is_same_v<V, normal_t>) {
                    xt::xarray<float> a = xt::empty<float>(s);
                    for (auto& x : a) x = static_cast<float>(v.mean + v.std * r.standard_normal());
                    return a;
                } else {
                    if (!std::equal(v.value.shape().begin(), v.value.shape().end(), shape.begin(),
                                    shape.end()))
                        throw std::invalid_argument("kata::initializer::from_array: array shape " +
                                                    io::detail::shape_str(v.value.shape()) +
                                                    " does not match the requested shape " +
                                                    io::detail::shape_str(shape));
                    return v.value;
                }
            },
            v_);
    }

private:
    variant_type v_{constant_t{}};
};

}  // namespace kata
