// kata/train/elementwise.hpp
//
// Purpose: how the solvers run their element-wise update rules and the few reductions they need
// (sum of squares for clip_grad_by_norm, the inf/NaN checks), over raw float buffers, without
// allocating.
//
// Update rules are xtensor expressions over 1-D adaptors of the parameter's buffers, assigned with
// xt::noalias (a plain `a = expr` on an xtensor container evaluates into a temporary first, which
// allocates at every call). A rule with several outputs (Adam writes m, v and w) is several
// assignments; run over whole tensors, each assignment would stream every buffer through memory
// again. for_each_chunk therefore runs the rule block by block (chunk_elements floats per buffer,
// so a block of all of Adam's four buffers stays in L1/L2) and the later assignments of a block
// read what the earlier ones wrote from cache. bench/solver_update.cpp compares this with whole-
// tensor expressions and with one fused hand-written loop (results in bench/RESULTS.md).
//
// Reductions are plain loops written so that g++ vectorises them at -O2/-O3 without -ffast-math:
// integer bit tests for inf/NaN, and 16 independent float accumulators for the sum of squares
// (nnabla sums sequentially in float; the result differs from nnabla's in the last bits only).
#pragma once

#include <kata/detail/xtensor_fix.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>

#include <xtensor/xadapt.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xnoalias.hpp>

namespace kata::train::detail {

/// Floats per buffer and block: 4 buffers x 2048 x 4 B = 32 KiB, within L1d (48 KiB) or L2.
inline constexpr std::size_t chunk_elements = 2048;

/// A non-owning 1-D xtensor view of n floats at p (no allocation: fixed rank, no ownership).
template <class T>
auto view1d(T* p, std::size_t n) noexcept {
    return xt::adapt(p, n, xt::no_ownership(), std::array<std::size_t, 1>{n});
}

/// Calls rule(view1d(bufs + off, len)...) for consecutive blocks of at most chunk_elements floats.
template <class Rule, class... T>
void for_each_chunk(std::size_t n, Rule&& rule, T*... bufs) {
    for (std::size_t off = 0; off < n; off += chunk_elements) {
        const std::size_t len = std::min(chunk_elements, n - off);
        rule(view1d(bufs + off, len)...);
    }
}

/// Sum of x[i]^2 in float (16 independent accumulators so that the loop vectorises).
inline float sum_of_squares(const float* x, std::size_t n) noexcept {
    constexpr std::size_t lanes = 16;
    float acc[lanes] = {};
    std::size_t i = 0;
    for (; i + lanes <= n; i += lanes)
        for (std::size_t k = 0; k < lanes; ++k) acc[k] += x[i + k] * x[i + k];
    for (std::size_t k = 0; i < n; ++i, ++k) acc[k] += x[i] * x[i];
    for (std::size_t w = lanes / 2; w > 0; w /= 2)
        for (std::size_t k = 0; k < w; ++k) acc[k] += acc[k + w];
    return acc[0];
}

/// What to look for in check_nonfinite.
enum class nonfinite : std::uint8_t { inf = 1, nan = 2, inf_or_nan = 3 };

/// Whether x[0..n) holds an inf, a NaN or either (IEEE-754 bit patterns: exponent all ones; zero
/// mantissa for inf, non-zero for NaN).
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

} // namespace kata::train::detail
