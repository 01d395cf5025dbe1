// kata/cpu/kernels/conv_cf_winograd.hpp
//
// Winograd F(2x2, 3x3) for channel-first (NCHW) 2-D 3x3 stride-1 dilation-1 group-1 convolutions at
// training shapes (CIFAR-size ResNets: 16-64 channels, 8x8 to 32x32 maps, batch > 1), used by
// kernels/convolution.hpp for the forward and kernels/gradient.hpp for the stride-1 data gradient (a
// forward convolution of dy with flipped weights) and the filter gradient (below). Chosen at compile time per layer
// (detail::cf_winograd<g>() in convolution.hpp); KATA_CPU_WINOGRAD=0 (before including kata) turns it
// off, and the direct kernels of kernels/conv_cf_direct.hpp (or im2col + GEMM) run instead, with their
// rounding.
//
// Why: the direct kernels already run these layers at about one core's FMA peak (bench/RESULTS.md,
// 2026-12-04 14:20 UTC), and the machine's second vCPU is the same core's SMT sibling, so a faster
// training step needs fewer multiplications: a 2x2 output tile costs 16 products per (input, output
// channel) pair instead of 36 (2.25x fewer), for transforms that are additions only (and halves in the
// weight transform, done once per call).
//
// Algorithm (Lavin & Gray 2015), per item; the output is cut into 2x2 tiles (tile (th, tw) covers
// outputs (2 th + a, 2 tw + b), its 4x4 input patch starts at padded row 2 th, column 2 tw):
//   U[e][o][c] = (G w[o][c] Gᵀ)[e]       G  = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1]   (once per call)
//   V[e][c][t] = (Bᵀ d[c][t] B)[e]       Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
//   M[e][o][t] = sum_c U[e][o][c] V[e][c][t]    (16 GEMMs, e = 4 i + j)
//   y[o][t]    = Aᵀ M[o][t] A + bias[o]   Aᵀ = [1 1 1 0; 0 1 -1 -1]
// Layout: the item's input is copied zero-padded into (Cg, PH, PW) with PH = 2 TH + 2, PW = 2 TWp + 2
// (TH = ceil(OH / 2) tile rows, TW = ceil(OW / 2) tile columns rounded up to TWp, a multiple of 4), so
// that every patch is inside the copy: odd OH / OW and any padding need no bounds checks, and the
// outputs of the extra tiles are not stored. Tiles are taken in "quads" of 4 consecutive tiles of one
// tile row; a vector of 8 tiles is two quads, one per 128-bit half, so that the stride-2 patch columns
// are two in-lane shuffles (shufps) of two loads per patch row, and the output tile columns two in-lane
// unpacks. The item's vectors are processed in blocks (V and M of a block ~64 KiB);
// the GEMM tile is 4 output channels x 3 vectors of 8 tiles (12 accumulators in registers over the
// whole reduction over channels), like the direct forward tile.
//
// Error: the transforms add and subtract with coefficients 0, +-1 and +-1/2 (exact in binary), so each
// output is the direct convolution's sum of products w d, regrouped. Each of the 16 GEMM sums rounds like
// a Cg-term dot product and the transforms add ~8 roundings, but on transformed values up to 4 (input:
// |Bᵀ d B| <= 4 max|d|) and 2.25 (weights) times the data's magnitude, so the worst-case bound is about
// 9 times the direct kernel's (Cg + 8) u sum |w| |d| (u = 2^-24). Measured (float64 reference,
// unit-variance data, weights scaled 1/sqrt(9 Cg), 16-64 channels at ResNet-20's map sizes): max error
// 2-5e-7 of max |y|, at most 1.6e-7 of sum |w d| per output, half a sequential float loop's; well inside
// the 1e-4 max|reference| of the tests' float64 comparisons (tests/train/conv_winograd.cpp checks it
// against PyTorch and a float64 direct convolution).
// Summation order is fixed by the shapes only (deterministic, independent of threads).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "../simd.hpp"

#ifndef KATA_CPU_WINOGRAD
#define KATA_CPU_WINOGRAD 1
#endif
// The filter gradient below is opt-in (KATA_CPU_WINOGRAD_FILTER_GRAD=1): measured on ResNet-20's layers
// it was no faster than the direct kernel of conv_cf_direct.hpp (bench/RESULTS.md, 2026-12-04 17:25 UTC):
// its GEMM reduces over tiles (6 loads per 8 FMAs, lanes summed per block) and both operands need a
// transform written to and read back from memory, where the direct filter gradient runs at the FMA peak.
#ifndef KATA_CPU_WINOGRAD_FILTER_GRAD
#define KATA_CPU_WINOGRAD_FILTER_GRAD 0
#endif

namespace kata::cpu::detail::wino {

using i64 = std::int64_t;

// One 3x3 stride-1 dilation-1 channel-first convolution (group 1).
struct shape {
    i64 Cg = 1, Og = 1;
    i64 IH = 1, IW = 1, OH = 1, OW = 1;
    i64 pad_h = 0, pad_w = 0;

    constexpr i64 TH() const { return (OH + 1) / 2; }            // tile rows
    constexpr i64 QW() const { return ((OW + 1) / 2 + 3) / 4; }  // quads per tile row
    constexpr i64 quads() const { return TH() * QW(); }
    constexpr i64 vecs() const { return (quads() + 1) / 2; }  // vectors of 8 tiles (2 quads)
    constexpr i64 PH() const { return 2 * TH() + 2; }
    constexpr i64 PW() const { return 8 * QW() + 2; }
    constexpr i64 padded_floats() const { return Cg * PH() * PW(); }
    // vectors per block: V and M of a block (16 (Cg + Og) 8 NVB floats) in ~64 KiB, a multiple of the
    // GEMM tile's 3 vectors, at least 3 (ResNet-20 b64, one thread: 3-vector blocks at 16 channels made
    // the step 0.93x as long as 6-vector ones, 12-vector ones 1.04x; bench/RESULTS.md 2026-12-04 17:10)
    constexpr i64 block_vecs() const {
        i64 n = 16384 / (128 * (Cg + Og)) / 3 * 3;
        if (n < 3) n = 3;
        return n < vecs() ? n : vecs();
    }
    constexpr i64 scratch_floats() const { return padded_floats() + 16 * (Cg + Og) * 8 * block_vecs(); }
    constexpr i64 weight_floats() const { return 16 * Og * Cg; }

    // Filter gradient. Vectors per block: V and the transformed dy of a block in ~256 KiB, at least 8
    // (the lane sums of a GEMM tile are taken once per block); items of fewer vectors are put several to
    // a block, longer ones split.
    constexpr i64 fg_target() const {
        const i64 n = 65536 / (128 * (Cg + Og));
        return n < 8 ? 8 : n;
    }
    constexpr i64 fg_items() const { return vecs() >= fg_target() ? 1 : fg_target() / vecs(); }
    constexpr i64 fg_block_vecs() const {
        return fg_items() > 1 ? fg_items() * vecs() : vecs() < fg_target() ? vecs() : fg_target();
    }
    // dy is read in place when its tiles are whole (even OH, whole quads per row), else from a copy
    // zero-padded to (Og, 2 TH, 8 QW): the outputs past OH / OW add nothing
    constexpr bool dy_padded() const { return OH % 2 != 0 || OW % 8 != 0; }
    constexpr i64 dy_padded_floats() const { return dy_padded() ? Og * 2 * TH() * 8 * QW() : 0; }
    // a slot's partial sums of dU, in the order the GEMM tiles of 4 output x 2 input channels reduce them:
    // (16, ceil(Og / 4), ceil(Cg / 2), 8)
    constexpr i64 OB() const { return (Og + 3) / 4; }
    constexpr i64 CB() const { return (Cg + 1) / 2; }
    constexpr i64 partial_floats() const { return 16 * OB() * CB() * 8; }
    constexpr i64 fg_scratch_floats() const {
        return padded_floats() + dy_padded_floats() + 16 * (Cg + Og) * 8 * fg_block_vecs();
    }
    // the padded copy holds every patch: stride 1, 3x3 taps
    constexpr bool ok() const {
        return OH >= 1 && OW >= 1 && pad_h >= 0 && pad_w >= 0 && OH == IH + 2 * pad_h - 2 &&
               OW == IW + 2 * pad_w - 2;
    }
};

// U (16, Og, Cg) = G w Gᵀ for w (Og, Cg, 3, 3).
template <shape q>
inline void transform_weights(const float* w, float* u) {
    constexpr i64 OC = q.Og * q.Cg;
    for (i64 oc = 0; oc < OC; ++oc) {
        const float* g = w + oc * 9;
        float t[4][3];  // G g: rows of the 4x3 product
        for (int j = 0; j < 3; ++j) {
            t[0][j] = g[j];
            t[1][j] = 0.5f * (g[j] + g[3 + j] + g[6 + j]);
            t[2][j] = 0.5f * (g[j] - g[3 + j] + g[6 + j]);
            t[3][j] = g[6 + j];
        }
        for (int i = 0; i < 4; ++i) {
            u[(4 * i + 0) * OC + oc] = t[i][0];
            u[(4 * i + 1) * OC + oc] = 0.5f * (t[i][0] + t[i][1] + t[i][2]);
            u[(4 * i + 2) * OC + oc] = 0.5f * (t[i][0] - t[i][1] + t[i][2]);
            u[(4 * i + 3) * OC + oc] = t[i][2];
        }
    }
}

// The reference transform of one tile (scalar; tests compare the vector code with it).
// d: 4x4 patch, row stride ld; v: 16 outputs, element e at v[e * vs].
inline void input_tile_ref(const float* d, i64 ld, float* v, i64 vs) {
    float t[4][4];
    for (int r = 0; r < 4; ++r) {
        const float* p = d + r * ld;
        t[r][0] = p[0] - p[2];
        t[r][1] = p[1] + p[2];
        t[r][2] = p[2] - p[1];
        t[r][3] = p[1] - p[3];
    }
    for (int j = 0; j < 4; ++j) {
        v[(0 + j) * vs] = t[0][j] - t[2][j];
        v[(4 + j) * vs] = t[1][j] + t[2][j];
        v[(8 + j) * vs] = t[2][j] - t[1][j];
        v[(12 + j) * vs] = t[1][j] - t[3][j];
    }
}

#if KATA_CPU_X86

// xp (Cg, PH, PW) = x (Cg, IH, IW) at offset (pad_h, pad_w), zeros around. The zeros depend only on
// the shape: `fresh` writes them (the slot's first item of a call), otherwise only the interior is
// copied over the previous item's.
template <shape q>
inline void pad_item(const float* x, float* xp, bool fresh) {
    constexpr i64 PH = q.PH(), PW = q.PW();
    if (fresh) std::fill_n(xp, q.padded_floats(), 0.f);
    for (i64 c = 0; c < q.Cg; ++c)
        for (i64 ih = 0; ih < q.IH; ++ih)
            std::memcpy(xp + (c * PH + ih + q.pad_h) * PW + q.pad_w, x + (c * q.IH + ih) * q.IW,
                        sizeof(float) * q.IW);
}

KATA_CPU_AVX2_TARGET inline __m256 load2(const float* lo, const float* hi) {
    return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(lo)), _mm_loadu_ps(hi), 1);
}

// The 4 transformed columns of patch row r of 8 tiles (quad p0 in the low half, p1 in the high half):
// t0 = d0 - d2, t1 = d1 + d2, t2 = d2 - d1, t3 = d1 - d3 where dj holds column 2 tw + j of each tile.
KATA_CPU_AVX2_TARGET __attribute__((always_inline)) inline void
row_transform(const float* p0, const float* p1, __m256 (&t)[4]) {
    const __m256 a = load2(p0, p1), b = load2(p0 + 4, p1 + 4);
    const __m256 a2 = load2(p0 + 2, p1 + 2), b2 = load2(p0 + 6, p1 + 6);
    const __m256 d0 = _mm256_shuffle_ps(a, b, 0x88), d1 = _mm256_shuffle_ps(a, b, 0xDD);
    const __m256 d2 = _mm256_shuffle_ps(a2, b2, 0x88), d3 = _mm256_shuffle_ps(a2, b2, 0xDD);
    t[0] = _mm256_sub_ps(d0, d2);
    t[1] = _mm256_add_ps(d1, d2);
    t[2] = _mm256_sub_ps(d2, d1);
    t[3] = _mm256_sub_ps(d1, d3);
}

// Top-left patch element of quad k of the item (tile row th, tiles 4 (k % QW) .. + 3).
template <shape q>
constexpr i64 quad_offset(i64 k) {
    return 2 * (k / q.QW()) * q.PW() + 8 * (k % q.QW());
}

// V[e][c][8 (n - v0) ..] for the block's vectors n in [v0, v1) (ldv floats per row).
template <shape q>
KATA_CPU_AVX2_TARGET inline void input_transform(const float* xp, float* V, i64 ldv, i64 v0, i64 v1) {
    constexpr i64 PW = q.PW(), PHW = q.PH() * PW, NQ = q.quads();
    for (i64 n = v0; n < v1; ++n) {
        const i64 o0 = quad_offset<q>(2 * n);
        // an odd quad count leaves the last vector's high half without a quad: it repeats the low one
        // (its outputs are not stored)
        const i64 o1 = 2 * n + 1 < NQ ? quad_offset<q>(2 * n + 1) : o0;
        float* vn = V + 8 * (n - v0);
        for (i64 c = 0; c < q.Cg; ++c) {
            const float* p0 = xp + c * PHW + o0;
            const float* p1 = xp + c * PHW + o1;
            float* vc = vn + c * ldv;
            constexpr i64 es = q.Cg;  // rows of V between elements e and e + 1
            __m256 t0[4], t1[4], t2[4], t3[4];
            row_transform(p0, p1, t0);
            row_transform(p0 + PW, p1 + PW, t1);
            row_transform(p0 + 2 * PW, p1 + 2 * PW, t2);
#pragma GCC unroll 4
            for (int j = 0; j < 4; ++j) {
                _mm256_storeu_ps(vc + (0 + j) * es * ldv, _mm256_sub_ps(t0[j], t2[j]));
                _mm256_storeu_ps(vc + (4 + j) * es * ldv, _mm256_add_ps(t1[j], t2[j]));
                _mm256_storeu_ps(vc + (8 + j) * es * ldv, _mm256_sub_ps(t2[j], t1[j]));
            }
            row_transform(p0 + 3 * PW, p1 + 3 * PW, t3);
#pragma GCC unroll 4
            for (int j = 0; j < 4; ++j)
                _mm256_storeu_ps(vc + (12 + j) * es * ldv, _mm256_sub_ps(t1[j], t3[j]));
        }
    }
}

// M[o0 + m][8 n ..] (m < MR, n < NR) = sum_c U[o0 + m][c] V[c][8 n ..] for one element e.
template <shape q, int MR, int NR>
KATA_CPU_AVX2_TARGET inline void gemm_tile(const float* u, const float* v, i64 ld, float* m) {
    __m256 acc[MR][NR];
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
        for (int n = 0; n < NR; ++n) acc[i][n] = _mm256_setzero_ps();
    for (i64 c = 0; c < q.Cg; ++c) {
        __m256 xr[NR];
#pragma GCC unroll 4
        for (int n = 0; n < NR; ++n) xr[n] = _mm256_loadu_ps(v + c * ld + 8 * n);
#pragma GCC unroll 4
        for (int i = 0; i < MR; ++i) {
            const __m256 wb = _mm256_broadcast_ss(u + i * q.Cg + c);
#pragma GCC unroll 4
            for (int n = 0; n < NR; ++n) acc[i][n] = _mm256_fmadd_ps(wb, xr[n], acc[i][n]);
        }
    }
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
        for (int n = 0; n < NR; ++n) _mm256_storeu_ps(m + i * ld + 8 * n, acc[i][n]);
}

// All nv vectors of MR output channels.
template <shape q, int MR>
KATA_CPU_AVX2_TARGET inline void gemm_rows(const float* u, const float* v, i64 ld, float* m, i64 nv) {
    constexpr int NR = 3;
    i64 n = 0;
    for (; n + NR <= nv; n += NR) gemm_tile<q, MR, NR>(u, v + 8 * n, ld, m + 8 * n);
    if (nv - n == 2)
        gemm_tile<q, MR, 2>(u, v + 8 * n, ld, m + 8 * n);
    else if (nv - n == 1)
        gemm_tile<q, MR, 1>(u, v + 8 * n, ld, m + 8 * n);
}

// M[e] (Og, nv vectors) = U[e] (Og, Cg) V[e] (Cg, nv vectors) for the 16 elements.
template <shape q>
KATA_CPU_AVX2_TARGET inline void gemms(const float* U, const float* V, float* M, i64 ld, i64 nv) {
    constexpr int MR = 4;
    constexpr i64 full = q.Og / MR * MR;
    for (i64 e = 0; e < 16; ++e) {
        const float* ue = U + e * q.Og * q.Cg;
        const float* ve = V + e * q.Cg * ld;
        float* me = M + e * q.Og * ld;
        for (i64 o0 = 0; o0 < full; o0 += MR) gemm_rows<q, MR>(ue + o0 * q.Cg, ve, ld, me + o0 * ld, nv);
        if constexpr (q.Og % MR != 0) gemm_rows<q, q.Og % MR>(ue + full * q.Cg, ve, ld, me + full * ld, nv);
    }
}

// Stores the 8 values of one output row of a quad (columns 8 qw .. 8 qw + 7), the ones past OW masked.
template <shape q>
KATA_CPU_AVX2_TARGET __attribute__((always_inline)) inline void store_quad_row(float* row, i64 qw, __m256 v) {
    if constexpr (q.OW % 8 == 0) {
        _mm256_storeu_ps(row + 8 * qw, v);
    } else {
        const i64 left = q.OW - 8 * qw;
        if (left >= 8) {
            _mm256_storeu_ps(row + 8 * qw, v);
        } else {
            const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
            _mm256_maskstore_ps(row + 8 * qw, _mm256_cmpgt_epi32(_mm256_set1_epi32(int(left)), lane), v);
        }
    }
}

// y[o][..] for the block's vectors n in [v0, v1) from M (16, Og, ld) and the bias.
template <shape q>
KATA_CPU_AVX2_TARGET inline void output_transform(const float* M, i64 ld, const float* bias, float* y, i64 v0,
                                                  i64 v1) {
    constexpr i64 OSP = q.OH * q.OW, NQ = q.quads();
    const i64 es = q.Og * ld;  // floats between elements e and e + 1 of M
    for (i64 o = 0; o < q.Og; ++o) {
        const __m256 b = bias ? _mm256_set1_ps(bias[o]) : _mm256_setzero_ps();
        float* yo = y + o * OSP;
        for (i64 n = v0; n < v1; ++n) {
            const float* m = M + o * ld + 8 * (n - v0);
            __m256 s0[4], s1[4];  // Aᵀ M: rows 0 and 1
#pragma GCC unroll 4
            for (int j = 0; j < 4; ++j) {
                const __m256 m0 = _mm256_loadu_ps(m + j * es), m1 = _mm256_loadu_ps(m + (4 + j) * es);
                const __m256 m2 = _mm256_loadu_ps(m + (8 + j) * es), m3 = _mm256_loadu_ps(m + (12 + j) * es);
                s0[j] = _mm256_add_ps(_mm256_add_ps(m0, m1), m2);
                s1[j] = _mm256_sub_ps(_mm256_sub_ps(m1, m2), m3);
            }
            __m256 r[2][2];  // (Aᵀ M A)[a][b] + bias
            r[0][0] = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(s0[0], s0[1]), s0[2]), b);
            r[0][1] = _mm256_add_ps(_mm256_sub_ps(_mm256_sub_ps(s0[1], s0[2]), s0[3]), b);
            r[1][0] = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(s1[0], s1[1]), s1[2]), b);
            r[1][1] = _mm256_add_ps(_mm256_sub_ps(_mm256_sub_ps(s1[1], s1[2]), s1[3]), b);
            const i64 k0 = 2 * n, th0 = k0 / q.QW(), qw0 = k0 % q.QW();
            const bool second = k0 + 1 < NQ;
            const i64 th1 = (k0 + 1) / q.QW(), qw1 = (k0 + 1) % q.QW();
#pragma GCC unroll 2
            for (int a = 0; a < 2; ++a) {
                // tile t's (a, 0), (a, 1) next to each other: output columns 2 t, 2 t + 1
                const __m256 lo = _mm256_unpacklo_ps(r[a][0], r[a][1]);  // tiles 0, 1 | 4, 5
                const __m256 hi = _mm256_unpackhi_ps(r[a][0], r[a][1]);  // tiles 2, 3 | 6, 7
                const i64 oh0 = 2 * th0 + a;
                if (q.OH % 2 == 0 || oh0 < q.OH)
                    store_quad_row<q>(yo + oh0 * q.OW, qw0, _mm256_permute2f128_ps(lo, hi, 0x20));
                const i64 oh1 = 2 * th1 + a;
                if (second && (q.OH % 2 == 0 || oh1 < q.OH))
                    store_quad_row<q>(yo + oh1 * q.OW, qw1, _mm256_permute2f128_ps(lo, hi, 0x31));
            }
        }
    }
}

// One item: y (Og, OH, OW) = conv(x (Cg, IH, IW), w) + bias with U = transform_weights<q>(w).
// scratch: q.scratch_floats() floats (the padded copy, then V and M of one block); fresh: whether the
// scratch's padding zeros must be written (the slot's first item of a call).
template <shape q>
KATA_CPU_AVX2_TARGET inline void forward_item(const float* x, const float* U, const float* bias, float* y,
                                              float* scratch, bool fresh) {
    constexpr i64 NVB = q.block_vecs(), NV = q.vecs(), ld = 8 * NVB;
    float* xp = scratch;
    float* V = xp + q.padded_floats();
    float* M = V + 16 * q.Cg * ld;
    pad_item<q>(x, xp, fresh);
    for (i64 v0 = 0; v0 < NV; v0 += NVB) {
        const i64 v1 = std::min(NV, v0 + NVB);
        input_transform<q>(xp, V, ld, v0, v1);
        gemms<q>(U, V, M, ld, v1 - v0);
        output_transform<q>(M, ld, bias, y, v0, v1);
    }
}

// ---- filter gradient -------------------------------------------------------------------------------
// y = Aᵀ [U ⊙ V] A is linear in U = G w Gᵀ, so over all tiles t of all items
//   dU[e][o][c] = sum_t D[e][o][t] V[e][c][t]    with D[o][t] = A dy[o][t] Aᵀ (4x4 from the 2x2 dy tile)
//   dW[o][c]    = Gᵀ dU[o][c] G
// (dy of the outputs past OH / OW is zero: padded copy). The products are 16 per tile and channel pair
// instead of the direct kernel's 36; V is the forward's input transform.

// dp (Og, 2 TH, 8 QW) = dy (Og, OH, OW) zero-padded (zeros written when fresh, as pad_item).
template <shape q>
inline void pad_dy(const float* dy, float* dp, bool fresh) {
    constexpr i64 DH = 2 * q.TH(), DW = 8 * q.QW();
    if (fresh) std::fill_n(dp, q.dy_padded_floats(), 0.f);
    for (i64 o = 0; o < q.Og; ++o)
        for (i64 oh = 0; oh < q.OH; ++oh)
            std::memcpy(dp + (o * DH + oh) * DW, dy + (o * q.OH + oh) * q.OW, sizeof(float) * q.OW);
}

// D[e][o][8 (n - v0) ..] = (A dy[o] Aᵀ)[e] for the item's vectors n in [v0, v1). d: dy of the item,
// (Og, OH, OW), or its padded copy when q.dy_padded(). The missing second quad of an odd count is zero.
template <shape q>
KATA_CPU_AVX2_TARGET inline void dy_transform(const float* d, float* D, i64 ld, i64 v0, i64 v1) {
    constexpr bool P = q.dy_padded();
    constexpr i64 DW = P ? 8 * q.QW() : q.OW, DSP = P ? 2 * q.TH() * DW : q.OH * q.OW, NQ = q.quads();
    const i64 es = q.Og * ld;
    const __m256 z = _mm256_setzero_ps();
    for (i64 n = v0; n < v1; ++n) {
        const i64 k0 = 2 * n, k1 = 2 * n + 1;
        const bool second = k1 < NQ;
        const i64 off0 = 2 * (k0 / q.QW()) * DW + 8 * (k0 % q.QW());
        const i64 off1 = second ? 2 * (k1 / q.QW()) * DW + 8 * (k1 % q.QW()) : off0;
        float* out = D + 8 * (n - v0);
        for (i64 o = 0; o < q.Og; ++o) {
            const float* p0 = d + o * DSP + off0;
            const float* p1 = d + o * DSP + off1;
            const __m256 a = load2(p0, p1), b = load2(p0 + 4, p1 + 4);
            const __m256 c = load2(p0 + DW, p1 + DW), f = load2(p0 + DW + 4, p1 + DW + 4);
            __m256 y00 = _mm256_shuffle_ps(a, b, 0x88), y01 = _mm256_shuffle_ps(a, b, 0xDD);
            __m256 y10 = _mm256_shuffle_ps(c, f, 0x88), y11 = _mm256_shuffle_ps(c, f, 0xDD);
            if (!second) {
                y00 = _mm256_insertf128_ps(y00, _mm_setzero_ps(), 1);
                y01 = _mm256_insertf128_ps(y01, _mm_setzero_ps(), 1);
                y10 = _mm256_insertf128_ps(y10, _mm_setzero_ps(), 1);
                y11 = _mm256_insertf128_ps(y11, _mm_setzero_ps(), 1);
            }
            // rows of A dy: (y00, y01), (y00 + y10, y01 + y11), (y00 - y10, y01 - y11), (-y10, -y11);
            // each row (u, v) times Aᵀ: (u, u + v, u - v, -v)
            const __m256 r[4][2] = {{y00, y01},
                                    {_mm256_add_ps(y00, y10), _mm256_add_ps(y01, y11)},
                                    {_mm256_sub_ps(y00, y10), _mm256_sub_ps(y01, y11)},
                                    {_mm256_sub_ps(z, y10), _mm256_sub_ps(z, y11)}};
            float* oo = out + o * ld;
#pragma GCC unroll 4
            for (int i = 0; i < 4; ++i) {
                _mm256_storeu_ps(oo + (4 * i + 0) * es, r[i][0]);
                _mm256_storeu_ps(oo + (4 * i + 1) * es, _mm256_add_ps(r[i][0], r[i][1]));
                _mm256_storeu_ps(oo + (4 * i + 2) * es, _mm256_sub_ps(r[i][0], r[i][1]));
                _mm256_storeu_ps(oo + (4 * i + 3) * es, _mm256_sub_ps(z, r[i][1]));
            }
        }
    }
}

// p[2 m + j] += sum over nv vectors of D[m][..] V[j][..] (m < MR <= 4 output channels, j < NC <= 2
// input channels; the others stay 0): 8 accumulators, their lanes summed at once (hadd tree).
template <shape q, int MR, int NC>
KATA_CPU_AVX2_TARGET inline void fg_tile(const float* d, const float* v, i64 ld, i64 nv, float* p) {
    __m256 acc[4][2];
#pragma GCC unroll 4
    for (int m = 0; m < 4; ++m) acc[m][0] = acc[m][1] = _mm256_setzero_ps();
    for (i64 n = 0; n < nv; ++n) {
        __m256 dv[MR], xv[NC];
#pragma GCC unroll 4
        for (int m = 0; m < MR; ++m) dv[m] = _mm256_loadu_ps(d + m * ld + 8 * n);
#pragma GCC unroll 2
        for (int j = 0; j < NC; ++j) xv[j] = _mm256_loadu_ps(v + j * ld + 8 * n);
#pragma GCC unroll 4
        for (int m = 0; m < MR; ++m)
#pragma GCC unroll 2
            for (int j = 0; j < NC; ++j) acc[m][j] = _mm256_fmadd_ps(dv[m], xv[j], acc[m][j]);
    }
    const __m256 h01 = _mm256_hadd_ps(acc[0][0], acc[0][1]), h23 = _mm256_hadd_ps(acc[1][0], acc[1][1]);
    const __m256 h45 = _mm256_hadd_ps(acc[2][0], acc[2][1]), h67 = _mm256_hadd_ps(acc[3][0], acc[3][1]);
    const __m256 lo = _mm256_hadd_ps(h01, h23), hi = _mm256_hadd_ps(h45, h67);
    const __m256 r =
        _mm256_add_ps(_mm256_permute2f128_ps(lo, hi, 0x20), _mm256_permute2f128_ps(lo, hi, 0x31));
    _mm256_storeu_ps(p, _mm256_add_ps(_mm256_loadu_ps(p), r));
}

template <shape q, int MR>
KATA_CPU_AVX2_TARGET inline void fg_rows(const float* d, const float* v, i64 ld, i64 nv, float* p) {
    constexpr i64 fc = q.Cg / 2;
    for (i64 cb = 0; cb < fc; ++cb) fg_tile<q, MR, 2>(d, v + 2 * cb * ld, ld, nv, p + 8 * cb);
    if constexpr (q.Cg % 2 != 0) fg_tile<q, MR, 1>(d, v + 2 * fc * ld, ld, nv, p + 8 * fc);
}

// P (partial_floats) += the block's dU: D (16, Og, ld), V (16, Cg, ld), nv vectors.
template <shape q>
KATA_CPU_AVX2_TARGET inline void fg_gemms(const float* D, const float* V, i64 ld, i64 nv, float* P) {
    constexpr i64 OB = q.OB(), CB = q.CB(), fo = q.Og / 4;
    for (i64 e = 0; e < 16; ++e) {
        const float* de = D + e * q.Og * ld;
        const float* ve = V + e * q.Cg * ld;
        float* pe = P + e * OB * CB * 8;
        for (i64 ob = 0; ob < fo; ++ob) fg_rows<q, 4>(de + 4 * ob * ld, ve, ld, nv, pe + ob * CB * 8);
        if constexpr (q.Og % 4 != 0) fg_rows<q, q.Og % 4>(de + 4 * fo * ld, ve, ld, nv, pe + fo * CB * 8);
    }
}

// One slot's partial dU (P: partial_floats, overwritten) over items [0, nb): x points at item 0's input,
// dy at its output gradient (item strides xs, dys). scratch: fg_scratch_floats().
template <shape q>
KATA_CPU_AVX2_TARGET inline void filter_grad_items(const float* x, i64 xs, const float* dy, i64 dys, i64 nb,
                                                   float* scratch, float* P) {
    constexpr i64 NV = q.vecs(), NI = q.fg_items(), NVB = q.fg_block_vecs(), ld = 8 * NVB;
    float* xp = scratch;
    float* dp = xp + q.padded_floats();
    float* V = dp + q.dy_padded_floats();
    float* D = V + 16 * q.Cg * ld;
    std::fill_n(P, q.partial_floats(), 0.f);
    bool fresh = true;
    auto item_dy = [&](i64 b) {
        const float* d = dy + b * dys;
        if constexpr (q.dy_padded()) {
            pad_dy<q>(d, dp, fresh);
            d = dp;
        }
        return d;
    };
    for (i64 b0 = 0; b0 < nb; b0 += NI) {
        const i64 b1 = std::min(nb, b0 + NI);
        if constexpr (NI > 1) {
            // several whole items per block
            for (i64 b = b0; b < b1; ++b) {
                pad_item<q>(x + b * xs, xp, fresh);
                const float* d = item_dy(b);
                fresh = false;
                input_transform<q>(xp, V + 8 * NV * (b - b0), ld, 0, NV);
                dy_transform<q>(d, D + 8 * NV * (b - b0), ld, 0, NV);
            }
            fg_gemms<q>(D, V, ld, (b1 - b0) * NV, P);
        } else {
            pad_item<q>(x + b0 * xs, xp, fresh);
            const float* d = item_dy(b0);
            fresh = false;
            for (i64 v0 = 0; v0 < NV; v0 += NVB) {
                const i64 v1 = std::min(NV, v0 + NVB);
                input_transform<q>(xp, V, ld, v0, v1);
                dy_transform<q>(d, D, ld, v0, v1);
                fg_gemms<q>(D, V, ld, v1 - v0, P);
            }
        }
    }
}

// dW (Og, Cg, 3, 3) = Gᵀ dU G with dU the sum of the S slots' partials (parts: S x partial_floats), added
// in slot order.
template <shape q>
inline void filter_grad_finish(const float* parts, i64 S, float* dw) {
    constexpr i64 PF = q.partial_floats(), OB = q.OB(), CB = q.CB();
    for (i64 o = 0; o < q.Og; ++o)
        for (i64 c = 0; c < q.Cg; ++c) {
            float D[4][4];
            for (i64 e = 0; e < 16; ++e) {
                const i64 i = ((e * OB + o / 4) * CB + c / 2) * 8 + (o % 4) * 2 + c % 2;
                float v = parts[i];
                for (i64 s = 1; s < S; ++s) v += parts[s * PF + i];
                D[e / 4][e % 4] = v;
            }
            float Z[3][4];  // Gᵀ D
            for (int j = 0; j < 4; ++j) {
                Z[0][j] = D[0][j] + 0.5f * (D[1][j] + D[2][j]);
                Z[1][j] = 0.5f * (D[1][j] - D[2][j]);
                Z[2][j] = 0.5f * (D[1][j] + D[2][j]) + D[3][j];
            }
            float* w = dw + (o * q.Cg + c) * 9;
            for (int r = 0; r < 3; ++r) {
                w[3 * r + 0] = Z[r][0] + 0.5f * (Z[r][1] + Z[r][2]);
                w[3 * r + 1] = 0.5f * (Z[r][1] - Z[r][2]);
                w[3 * r + 2] = 0.5f * (Z[r][1] + Z[r][2]) + Z[r][3];
            }
        }
}

#endif  // KATA_CPU_X86

}  // namespace kata::cpu::detail::wino
