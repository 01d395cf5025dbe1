// kata/exec/half_rounding.hpp
//
// IEEE binary16 (fp16) conversions for the exec layer: float -> binary16 bits with round-to-nearest-even
// (subnormals kept, |x| >= 65520 -> inf, NaN stays NaN), binary16 bits -> float (exact), and
// round_to_half(p, n): every float of p replaced by the nearest binary16 value, in place; to_half and
// to_float convert kata::exec::half (raw binary16 bits).
//
// Why round floats instead of storing 2-byte values: kata's CPU kernels compute in float. A float that
// holds a binary16 value IS that value (the conversion back is exact), so rounding every kernel's output
// to binary16 gives exactly the numbers of fp16 storage with fp32 compute (the fp16 training mode of
// kata/exec/half_precision.hpp and docs/training.md, "Mixed precision").
//
// The scalar conversions are constexpr bit manipulation (portable, the reference); round_to_half runs
// the CPU's F16C instructions (vcvtps2ph with round-to-nearest-even, vcvtph2ps) when it has them, chosen
// at run time like the other ISA variants (kata/cpu/simd.hpp), so the library still builds for plain
// x86-64 and for other architectures. Backend-neutral: no xtensor, no exceptions, no heap.
#pragma once

#include <bit>
#include <cstdint>

#include "buffer.hpp"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define KATA_HALF_F16C 1
#else
#define KATA_HALF_F16C 0
#endif

namespace kata::exec {

// The binary16 bits of the value nearest to f (ties to even); overflow gives +-inf, NaN a quiet NaN.
constexpr std::uint16_t float_to_half_bits(float f) {
    const std::uint32_t x = std::bit_cast<std::uint32_t>(f);
    const std::uint32_t sign = (x >> 16) & 0x8000u;
    const std::uint32_t ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) return std::uint16_t(sign | 0x7e00u | ((ax >> 13) & 0x3ffu));  // NaN (quiet)
    if (ax >= 0x477ff000u) return std::uint16_t(sign | 0x7c00u);  // >= 65520 (65504 + half an ulp): inf
    if (ax < 0x38800000u) {                                       // below 2^-14: subnormal or zero
        if (ax <= 0x33000000u) return std::uint16_t(sign);        // <= 2^-25 (a tie at 2^-25: to 0, even)
        // value = m * 2^(e - 150); in units of 2^-24 (the smallest subnormal): m >> (126 - e)
        const std::uint32_t e = ax >> 23;
        const std::uint32_t m = (ax & 0x7fffffu) | 0x800000u;
        const std::uint32_t s = 126u - e;  // 14..24
        std::uint32_t q = m >> s;
        const std::uint32_t rem = m & ((1u << s) - 1u), halfway = 1u << (s - 1u);
        if (rem > halfway || (rem == halfway && (q & 1u))) ++q;  // may carry into the smallest normal
        return std::uint16_t(sign | q);
    }
    const std::uint32_t r = ax - 0x38000000u;  // exponent rebiased from 127 to 15
    std::uint32_t q = r >> 13;
    const std::uint32_t rem = r & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (q & 1u))) ++q;  // a carry into the exponent is right
    return std::uint16_t(sign | q);
}

// The float equal to binary16 bits h (exact).
constexpr float half_bits_to_float(std::uint16_t h) {
    const std::uint32_t sign = std::uint32_t(h & 0x8000u) << 16;
    const std::uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
    if (e == 0x1fu) return std::bit_cast<float>(sign | 0x7f800000u | (m << 13));
    if (e == 0) {
        const float v = float(m) * 0x1p-24f;  // exact: m < 2^10
        return sign ? -v : v;
    }
    return std::bit_cast<float>(sign | ((e + 112u) << 23) | (m << 13));
}

// kata::exec::half (kata/exec/buffer.hpp) from and to float.
constexpr half to_half(float f) { return half{float_to_half_bits(f)}; }
constexpr float to_float(half h) { return half_bits_to_float(h.bits); }

// f rounded to the nearest binary16 value, as a float.
constexpr float round_to_half(float f) { return half_bits_to_float(float_to_half_bits(f)); }

namespace detail {

inline void round_to_half_generic(float* p, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) p[i] = round_to_half(p[i]);
}

#if KATA_HALF_F16C
inline bool cpu_has_f16c() {
    static const bool has = [] {
        __builtin_cpu_init();
        return __builtin_cpu_supports("f16c") != 0 && __builtin_cpu_supports("avx") != 0;
    }();
    return has;
}
__attribute__((target("avx,f16c"))) inline void round_to_half_f16c(float* p, std::int64_t n) {
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m128i h =
            _mm256_cvtps_ph(_mm256_loadu_ps(p + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm256_storeu_ps(p + i, _mm256_cvtph_ps(h));
    }
    round_to_half_generic(p + i, n - i);
}
#endif

// Set by tests to check the portable path on F16C machines.
inline bool& force_generic_half() {
    static bool v = false;
    return v;
}

}  // namespace detail

// Every p[i] replaced by the nearest binary16 value (in place; the F16C instructions where present).
inline void round_to_half(float* p, std::int64_t n) {
#if KATA_HALF_F16C
    if (!detail::force_generic_half() && detail::cpu_has_f16c()) {
        detail::round_to_half_f16c(p, n);
        return;
    }
#endif
    detail::round_to_half_generic(p, n);
}

// dst[i] = src[i] rounded to binary16 (a half-precision copy of a float32 buffer).
inline void copy_round_to_half(const float* src, float* dst, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) dst[i] = src[i];
    round_to_half(dst, n);
}

}  // namespace kata::exec
