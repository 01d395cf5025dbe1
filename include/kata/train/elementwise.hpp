// kata/train/elementwise.hpp
//
// Purpose: how the solvers run their element-wise update rules and the few reductions they need
// (sum of squares for clip_grad_by_norm, the inf/NaN checks), over raw float buffers, without
// allocating.
//
// An update rule is written once, as an expression over a generic value type V, e.g. Adam's
//     m = beta1 * m + c1 * g;  v = beta2 * v + c2 * g * g;  w = w - alpha_t * m / (sqrt(v) + eps);
// and for_each_element runs it with V = xsimd::batch<float> over full batches (vectorised by xsimd)
// and with V = float over the tail, reading every buffer once and writing the non-const ones once.
//
// Why not xtensor expressions (issue #11 asks for them unless a benchmark shows a hand loop is faster):
// bench/solver_update.cpp compares Adam written as xt::noalias assignments (run block by block so that m
// and v stay in cache), with and without xtensor's own SIMD path (XTENSOR_USE_XSIMD, which kata's
// targets do not define: it changes xarray's allocator type, a project-wide decision), a plain loop and
// this fused xsimd loop; the fused loop is the fastest (figures in bench/RESULTS.md). A rule with several
// outputs is several xtensor assignments, each a pass of its own, and without XTENSOR_USE_XSIMD they are
// not fully vectorised; a plain hand loop is slower still (std::sqrt may set errno, which is control flow
// to g++ unless -fno-math-errno). Written against a generic V,
// the rules keep the expression form.
//
// Rounding: V = float and V = batch evaluate the same operations in the same order, so a rule gives the
// same floats for every element (up to the compiler contracting a*b+c into an FMA where the target has
// one, which it may do differently in the two loops).
//
// Reductions: the sum of squares runs in two batches of float accumulators (nnabla sums sequentially in
// float; the results differ in the last bits only); the inf/NaN checks test IEEE-754 bit patterns.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <tuple>
#include <type_traits>

#include <xsimd/xsimd.hpp>

namespace kata::train::detail {

using float_batch = xsimd::batch<float>;

template <class V>
V load_value(const float* p) noexcept {
    if constexpr (std::is_same_v<V, float>)
        return *p;
    else
        return V::load_unaligned(p);
}
template <class V>
void store_value(float* p, const V& v) noexcept {
    if constexpr (std::is_same_v<V, float>)
        *p = v;
    else
        v.store_unaligned(p);
}
template <class V>
void store_value(const float*, const V&) noexcept {}  // inputs are not written back

template <class V, class Rule, class... P>
inline void apply_rule(const Rule& rule, std::size_t i, P*... bufs) {
    std::tuple<std::conditional_t<true, V, P>...> x{load_value<V>(bufs + i)...};
    std::apply(rule, x);
    std::apply([&](const auto&... xs) { (store_value(bufs + i, xs), ...); }, x);
}

/// Runs rule(x_1, ..., x_k) for every i < n, x_j bound to element i of bufs_j (V& for each; rules take
/// inputs as const V&): with V = float_batch over full batches, then V = float for the tail. Values of
/// non-const buffers are written back after each call.
template <class Rule, class... P>
void for_each_element(std::size_t n, const Rule& rule, P*... bufs) {
    constexpr std::size_t lanes = float_batch::size;
    std::size_t i = 0;
    for (; i + lanes <= n; i += lanes) apply_rule<float_batch>(rule, i, bufs...);
    for (; i < n; ++i) apply_rule<float>(rule, i, bufs...);
}

/// sqrt and max for both value types of a rule (float: the C library's; batch: xsimd's).
inline float sqrt_of(float x) noexcept { return std::sqrt(x); }
inline float_batch sqrt_of(const float_batch& x) noexcept { return xsimd::sqrt(x); }
inline float max_of(float a, float b) noexcept { return std::max(a, b); }
inline float_batch max_of(const float_batch& a, const float_batch& b) noexcept { return xsimd::max(a, b); }

/// Sum of x[i]^2 in float (two batches of accumulators, then the tail).
inline float sum_of_squares(const float* x, std::size_t n) noexcept {
    constexpr std::size_t lanes = float_batch::size;
    float_batch acc0(0.0f), acc1(0.0f);
    std::size_t i = 0;
    for (; i + 2 * lanes <= n; i += 2 * lanes) {
        const float_batch a = float_batch::load_unaligned(x + i),
                          b = float_batch::load_unaligned(x + i + lanes);
        acc0 = acc0 + a * a;
        acc1 = acc1 + b * b;
    }
    float sum = xsimd::hadd(acc0 + acc1);
    for (; i < n; ++i) sum += x[i] * x[i];
    return sum;
}

/// What to look for in check_nonfinite.
enum class nonfinite : std::uint8_t { inf = 1, nan = 2, inf_or_nan = 3 };

/// Whether x[0..n) holds an inf, a NaN or either (IEEE-754 bit patterns: exponent all ones; zero
/// mantissa for inf, non-zero for NaN). Branch-free loops over integers, which g++ vectorises.
inline bool check_nonfinite(const float* x, std::size_t n, nonfinite what) noexcept {
    static_assert(sizeof(float) == sizeof(std::uint32_t) && std::numeric_limits<float>::is_iec559);
    constexpr std::uint32_t abs_mask = 0x7fffffffu, inf_bits = 0x7f800000u;
    auto bits = [x](std::size_t i) { return std::bit_cast<std::uint32_t>(x[i]); };
    std::uint32_t found = 0;
    switch (what) {
    case nonfinite::inf:
        for (std::size_t i = 0; i < n; ++i) found |= (bits(i) & abs_mask) == inf_bits;
        break;
    case nonfinite::nan:
        for (std::size_t i = 0; i < n; ++i) found |= (bits(i) & abs_mask) > inf_bits;
        break;
    case nonfinite::inf_or_nan:
        for (std::size_t i = 0; i < n; ++i) found |= (bits(i) & inf_bits) == inf_bits;
        break;
    }
    return found != 0;
}

}  // namespace kata::train::detail
