// kata/cpu/kernels/affine.hpp
//
// CPU kernel for nnabla's Affine: x is viewed as (B, K) with B = prod(x.shape[:base_axis]) and
// K = prod(x.shape[base_axis:]) (row-major flattening, so the layout of a 4-D input is whatever its
// producer wrote), W (K, O...) is (K, O) with O = prod(W.shape[1:]), y (B, O) = x . W (+ b).
//
// Design: exactly one row-major sgemm (no transposes: nnabla's (in, out) weight layout is already the
// GEMM's B operand). With a bias, y is first filled with b row by row and the sgemm runs with beta = 1.
// Small batches (B <= 8: a classifier head at inference) are matrix-vector products that only stream
// W once: they run a kernel of their own instead, 64-column blocks of y spread over kata's pool
// (kata/cpu/parallel.hpp), up to 4 rows at a time kept in registers (AVX-512 where the CPU has it,
// else AVX2 + FMA, kata/cpu/simd.hpp; portable loops otherwise). Each y element is the same k-ordered float sum as a
// plain dot product.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../gemm.hpp"
#include "../kernel.hpp"
#include "../parallel.hpp"
#include "../simd.hpp"

namespace kata::cpu {

namespace detail {

using i64 = std::int64_t;
inline constexpr i64 small_batch = 8;

// y[r][o0 + j] = b[o0 + j] + sum_k x[r][k] W[k][o0 + j] for r < R, j < n (n <= 64).
template <int R>
void cols_generic(const float* x, i64 K, const float* W, i64 O, const float* b, float* y, i64 o0, int n) {
    float acc[R][64];
    for (int r = 0; r < R; ++r)
        for (int j = 0; j < n; ++j) acc[r][j] = b ? b[o0 + j] : 0.f;
    for (i64 k = 0; k < K; ++k) {
        const float* w = W + k * O + o0;
        for (int r = 0; r < R; ++r) {
            const float xv = x[r * K + k];
            for (int j = 0; j < n; ++j) acc[r][j] += xv * w[j];
        }
    }
    for (int r = 0; r < R; ++r)
        for (int j = 0; j < n; ++j) y[r * O + o0 + j] = acc[r][j];
}

#if KATA_CPU_X86
// The kernels read W's rows (O floats apart: 4 KB for 1000 classes) 64 or 16 columns at a time, so every
// k is another page, which the hardware prefetchers do not follow: the rows this many k ahead are
// requested explicitly (a classifier head streams its weights from memory once per pass).
inline constexpr i64 affine_prefetch_rows = 16;

template <int R>
KATA_CPU_AVX512_TARGET void cols_avx512(const float* x, i64 K, const float* W, i64 O, const float* b,
                                        float* y, i64 o0, int n) {
    __mmask16 m[4];
    for (int v = 0; v < 4; ++v) {
        const int c = std::clamp(n - 16 * v, 0, 16);
        m[v] = __mmask16((1u << c) - 1u);
    }
    __m512 acc[R][4];
#pragma GCC unroll 4
    for (int v = 0; v < 4; ++v) {
        const __m512 bv = b ? _mm512_maskz_loadu_ps(m[v], b + o0 + 16 * v) : _mm512_setzero_ps();
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) acc[r][v] = bv;
    }
    for (i64 k = 0; k < K; ++k) {
        const float* w = W + k * O + o0;
        if (k + affine_prefetch_rows < K) {
#pragma GCC unroll 4
            for (int v = 0; v < (n + 15) / 16; ++v)
                _mm_prefetch(reinterpret_cast<const char*>(w + affine_prefetch_rows * O + 16 * v),
                             _MM_HINT_T0);
        }
        __m512 wv[4];
#pragma GCC unroll 4
        for (int v = 0; v < 4; ++v) wv[v] = _mm512_maskz_loadu_ps(m[v], w + 16 * v);
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
            const __m512 xv = _mm512_set1_ps(x[r * K + k]);
#pragma GCC unroll 4
            for (int v = 0; v < 4; ++v) acc[r][v] = _mm512_fmadd_ps(xv, wv[v], acc[r][v]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
        for (int v = 0; v < 4; ++v) _mm512_mask_storeu_ps(y + r * O + o0 + 16 * v, m[v], acc[r][v]);
}

// AVX2 + FMA: the 64 columns in slices of 16 (R x 2 accumulators, at most 8 of the 16 ymm registers),
// slices past n skipped, the last one masked.
template <int R>
KATA_CPU_AVX2_TARGET void cols_avx2(const float* x, i64 K, const float* W, i64 O, const float* b, float* y,
                                    i64 o0, int n) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (int c0 = 0; c0 < n; c0 += 16) {
        const int nc = std::min(16, n - c0);
        const __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(nc), lane);
        const __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(nc - 8), lane);
        const i64 o = o0 + c0;
        const __m256 b0 = b ? _mm256_maskload_ps(b + o, m0) : _mm256_setzero_ps();
        const __m256 b1 = b ? _mm256_maskload_ps(b + o + 8, m1) : _mm256_setzero_ps();
        __m256 acc[R][2];
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
            acc[r][0] = b0;
            acc[r][1] = b1;
        }
        const float* w = W + o;
        if (nc == 16) {
            for (i64 k = 0; k < K; ++k, w += O) {
                if (k + affine_prefetch_rows < K)
                    _mm_prefetch(reinterpret_cast<const char*>(w + affine_prefetch_rows * O), _MM_HINT_T0);
                const __m256 w0 = _mm256_loadu_ps(w), w1 = _mm256_loadu_ps(w + 8);
#pragma GCC unroll 4
                for (int r = 0; r < R; ++r) {
                    const __m256 xv = _mm256_broadcast_ss(x + r * K + k);
                    acc[r][0] = _mm256_fmadd_ps(xv, w0, acc[r][0]);
                    acc[r][1] = _mm256_fmadd_ps(xv, w1, acc[r][1]);
                }
            }
        } else {
            for (i64 k = 0; k < K; ++k, w += O) {
                const __m256 w0 = _mm256_maskload_ps(w, m0), w1 = _mm256_maskload_ps(w + 8, m1);
#pragma GCC unroll 4
                for (int r = 0; r < R; ++r) {
                    const __m256 xv = _mm256_broadcast_ss(x + r * K + k);
                    acc[r][0] = _mm256_fmadd_ps(xv, w0, acc[r][0]);
                    acc[r][1] = _mm256_fmadd_ps(xv, w1, acc[r][1]);
                }
            }
        }
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
            _mm256_maskstore_ps(y + r * O + o, m0, acc[r][0]);
            _mm256_maskstore_ps(y + r * O + o + 8, m1, acc[r][1]);
        }
    }
}
#endif

enum class affine_isa { generic, avx2, avx512 };

template <int R>
inline void cols(affine_isa v, const float* x, i64 K, const float* W, i64 O, const float* b, float* y, i64 o0,
                 int n) {
#if KATA_CPU_X86
    if (v == affine_isa::avx512) return cols_avx512<R>(x, K, W, O, b, y, o0, n);
    if (v == affine_isa::avx2) return cols_avx2<R>(x, K, W, O, b, y, o0, n);
#endif
    (void)v;
    cols_generic<R>(x, K, W, O, b, y, o0, n);
}

// y (B, O) = x (B, K) . W (K, O) (+ b), B <= small_batch.
inline void small_batch_forward(const float* x, i64 B, i64 K, const float* W, i64 O, const float* b,
                                float* y) {
    const affine_isa avx = simd::use_avx512() ? affine_isa::avx512
                           : simd::use_avx2() ? affine_isa::avx2
                                              : affine_isa::generic;
    const i64 blocks = (O + 63) / 64;
    parallel_for(
        blocks,
        [&](i64 q0, i64 q1) {
            for (i64 q = q0; q < q1; ++q) {
                const i64 o0 = q * 64;
                const int n = int(std::min<i64>(64, O - o0));
                for (i64 r = 0; r < B; r += 4) {
                    const float* xr = x + r * K;
                    float* yr = y + r * O;
                    switch (std::min<i64>(4, B - r)) {
                    case 1: cols<1>(avx, xr, K, W, O, b, yr, o0, n); break;
                    case 2: cols<2>(avx, xr, K, W, O, b, yr, o0, n); break;
                    case 3: cols<3>(avx, xr, K, W, O, b, yr, o0, n); break;
                    default: cols<4>(avx, xr, K, W, O, b, yr, o0, n); break;
                    }
                }
            }
        },
        1);
}

}  // namespace detail

template <>
struct kernel<op_kind::affine> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        constexpr std::int64_t B = I.in[0].prod(0, I.attr.base_axis);
        constexpr std::int64_t K = I.in[0].prod_from(I.attr.base_axis);
        constexpr std::int64_t O = I.in[1].prod_from(1);
        static_assert(I.in[1].dims[0] == K, "Affine: W.shape[0] must equal prod(x.shape[base_axis:])");
        float* y = io.output();
        if constexpr (B <= detail::small_batch && I.type == dtype::f32) {
            detail::small_batch_forward(io.input(0), B, K, io.input(1), O,
                                        I.attr.has_bias ? io.input(2) : nullptr, y);
            return;
        }
        float beta = 0.f;
        if constexpr (I.attr.has_bias) {
            const float* b = io.input(2);
            for (std::int64_t r = 0; r < B; ++r) std::memcpy(y + r * O, b, sizeof(float) * std::size_t(O));
            beta = 1.f;
        }
        blas::sgemm(false, false, B, O, K, 1.f, io.input(0), K, io.input(1), O, beta, y, O);
    }
};

}  // namespace kata::cpu
