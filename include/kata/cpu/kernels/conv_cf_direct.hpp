// kata/cpu/kernels/conv_cf_direct.hpp
//
// Direct AVX2 + FMA kernels for channel-first (NCHW) 2-D stride-1 convolutions at training shapes
// (CIFAR-size ResNets: 16-64 channels, 8x8 to 32x32 maps, batch > 1), used by kernels/convolution.hpp
// (forward, and so the stride-1 data gradient, which runs as a forward convolution of dy with flipped
// weights) and kernels/gradient.hpp (filter gradient).
//
// Why: through im2col + OpenBLAS these layers are thin GEMMs (M = 16-64 output channels) that ran at
// 12-31 GFLOP/s per core on the Zen 1 machine (bench/RESULTS.md, 2026-12-03 21:00 UTC), and im2col /
// col2im cost ~10 % of a training step on top. Here the output is tiled directly:
//   forward: a tile is MR (<= 4) output channels x NR (<= 3) vectors of 8 consecutive output columns
//     (vectors numbered row-major over (oh, ow / 8), so a tile may span rows); for every input channel
//     and tap, NR unaligned loads of the zero-padded input, MR broadcasts of weights, MR x NR FMAs into
//     12 accumulators that stay in registers for the whole reduction (C x taps). The input of one item
//     and group is copied once into a zero-padded (C/g, OH + dil (KH - 1), OW + dil (KW - 1)) buffer,
//     so the loop has no bounds checks.
//   filter gradient: a tile is MR (<= 4) output channels x one input channel x one kernel row (KW <= 3
//     taps): MR x KW accumulators summed over all output positions of all the slot's batch items, then
//     reduced across lanes once per chunk of items; the input is read in place (or copied channel-major),
//     the ends of its rows masked (maskload), or for 8-wide rows copied zero-padded; rows that fall in
//     the padding are skipped.
// Both need OW % 8 == 0 (whole vectors per output row); other shapes keep the GEMM path.
// Summation order is fixed by the shapes only (deterministic, independent of threads).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>

#include "../simd.hpp"

namespace kata::cpu::detail::cfd {

using i64 = std::int64_t;

// The constants of one 2-D stride-1 channel-first convolution (per group).
struct shape {
    i64 Cg = 1, Og = 1;  // input / output channels per group
    i64 IH = 1, IW = 1, OH = 1, OW = 1;
    i64 KH = 1, KW = 1;
    i64 pad_h = 0, pad_w = 0, dil_h = 1, dil_w = 1;

    constexpr i64 PH() const { return OH + dil_h * (KH - 1); }  // padded input rows
    constexpr i64 PW() const { return OW + dil_w * (KW - 1); }
    constexpr i64 taps() const { return KH * KW; }
    constexpr i64 padded_floats() const { return Cg * PH() * PW(); }
    // stride 1 and whole vectors per output row, and the padded extent is the input plus its padding
    constexpr bool forward_ok() const {
        return OW % 8 == 0 && PH() == IH + 2 * pad_h && PW() == IW + 2 * pad_w;
    }
    // MR x KW accumulators must fit in the 16 registers with the loads; the masks of rows of several
    // vectors cover their first and last vector only (pad_w <= 8)
    constexpr bool filter_grad_ok() const { return forward_ok() && KW <= 3 && (OW == 8 || pad_w <= 8); }
};

// Items per chunk of filter_grad_items: a tile's dy block (4 output channels of the chunk's items) and
// its input channel (zero-padded when OW == 8) in ~20 KiB, so that they stay in the 32 KiB L1 across the
// kernel rows and input channels that reuse them (one 32x32 item, 4 16x16 ones, 13 8x8 ones); the
// tile's lane sums are then taken once per chunk (per item at 32x32: 12 reductions per ~1500 FMAs).
// At most nb_max items.
template <shape q>
constexpr i64 filter_grad_chunk(i64 nb_max) {
    const i64 xf = q.OW == 8 ? q.PH() * q.PW() : q.IH * q.IW;
    const i64 n = (i64(5) << 10) / (4 * q.OH * q.OW + xf);
    return n < 1 ? 1 : n < nb_max ? n : nb_max;
}
// Floats of one slot's copies of a chunk: x channel-major (Cg, n, ..), zero-padded when OW == 8, and dy
// channel-major (Og, n, OH, OW); chunks of one item are read in place (but the padded x).
template <shape q>
constexpr i64 filter_grad_pack_floats(i64 nb_max) {
    const i64 n = filter_grad_chunk<q>(nb_max);
    const i64 xf = q.OW == 8 ? q.PH() * q.PW() : n == 1 ? 0 : q.IH * q.IW;
    return n * q.Cg * xf + (n == 1 ? 0 : n * q.Og * q.OH * q.OW);
}

#if KATA_CPU_X86

// xp (Cg, PH, PW) = x (Cg, IH, IW) with pad_h / pad_w zeros around.
template <shape q>
inline void pad_item(const float* x, float* xp) {
    constexpr i64 PH = q.PH(), PW = q.PW();
    for (i64 c = 0; c < q.Cg; ++c)
        for (i64 ph = 0; ph < PH; ++ph) {
            float* row = xp + (c * PH + ph) * PW;
            const i64 ih = ph - q.pad_h;
            if (ih < 0 || ih >= q.IH) {
                std::fill_n(row, PW, 0.f);
                continue;
            }
            std::fill_n(row, q.pad_w, 0.f);
            std::memcpy(row + q.pad_w, x + (c * q.IH + ih) * q.IW, sizeof(float) * q.IW);
            std::fill_n(row + q.pad_w + q.IW, PW - q.pad_w - q.IW, 0.f);
        }
}

// One forward tile: y[o0 + m][vector v0 + n] for m < MR, n < NR. w: row o0 of (Og, Cg * taps).
template <shape q, int MR, int NR>
KATA_CPU_AVX2_TARGET inline void forward_tile(const float* xp, const float* w, const float* bias, float* y,
                                              i64 v0) {
    constexpr i64 VW = q.OW / 8, PW = q.PW(), PHW = q.PH() * PW, T = q.taps(), K = q.Cg * T;
    constexpr i64 OSP = q.OH * q.OW;
    const float* xv[NR];
    i64 yo[NR];
#pragma GCC unroll 4
    for (int n = 0; n < NR; ++n) {
        const i64 v = v0 + n, oh = v / VW, j = v % VW;
        xv[n] = xp + oh * PW + j * 8;
        yo[n] = oh * q.OW + j * 8;
    }
    __m256 acc[MR][NR];
#pragma GCC unroll 4
    for (int m = 0; m < MR; ++m) {
        const __m256 b = bias ? _mm256_set1_ps(bias[m]) : _mm256_setzero_ps();
#pragma GCC unroll 4
        for (int n = 0; n < NR; ++n) acc[m][n] = b;
    }
    for (i64 c = 0; c < q.Cg; ++c) {
        const float* wc = w + c * T;
        const i64 xc = c * PHW;
#pragma GCC unroll 9
        for (i64 t = 0; t < T; ++t) {
            const i64 off = xc + (t / q.KW) * q.dil_h * PW + (t % q.KW) * q.dil_w;
            __m256 xr[NR];
#pragma GCC unroll 4
            for (int n = 0; n < NR; ++n) xr[n] = _mm256_loadu_ps(xv[n] + off);
#pragma GCC unroll 4
            for (int m = 0; m < MR; ++m) {
                const __m256 wb = _mm256_broadcast_ss(wc + m * K + t);
#pragma GCC unroll 4
                for (int n = 0; n < NR; ++n) acc[m][n] = _mm256_fmadd_ps(wb, xr[n], acc[m][n]);
            }
        }
    }
#pragma GCC unroll 4
    for (int m = 0; m < MR; ++m)
#pragma GCC unroll 4
        for (int n = 0; n < NR; ++n) _mm256_storeu_ps(y + m * OSP + yo[n], acc[m][n]);
}

// All vectors of MR output channels.
template <shape q, int MR>
KATA_CPU_AVX2_TARGET inline void forward_rows(const float* xp, const float* w, const float* bias, float* y) {
    constexpr i64 NV = q.OH * q.OW / 8, NR = 3, full = NV / NR * NR;
    for (i64 v0 = 0; v0 < full; v0 += NR) forward_tile<q, MR, NR>(xp, w, bias, y, v0);
    if constexpr (NV % NR != 0) forward_tile<q, MR, NV % NR>(xp, w, bias, y, full);
}

// One item and group: yg (Og, OH, OW) = conv(xg (Cg, IH, IW), wg (Og, Cg, KH, KW)) + bias.
// xp: q.padded_floats() floats of scratch.
template <shape q>
KATA_CPU_AVX2_TARGET inline void forward_item(const float* xg, const float* wg, const float* bias, float* yg,
                                              float* xp) {
    constexpr i64 MR = 4, K = q.Cg * q.taps(), OSP = q.OH * q.OW, full = q.Og / MR * MR;
    pad_item<q>(xg, xp);
    for (i64 o0 = 0; o0 < full; o0 += MR)
        forward_rows<q, MR>(xp, wg + o0 * K, bias ? bias + o0 : nullptr, yg + o0 * OSP);
    if constexpr (q.Og % MR != 0)
        forward_rows<q, q.Og % MR>(xp, wg + full * K, bias ? bias + full : nullptr, yg + full * OSP);
}

KATA_CPU_AVX2_TARGET inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

// Lanes l of the row's vector j whose input column 8 j + l + kw dil - pad lies inside [0, IW).
template <shape q>
KATA_CPU_AVX2_TARGET inline __m256i column_mask(i64 j, i64 kw) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i col = _mm256_add_epi32(lane, _mm256_set1_epi32(int(8 * j + kw * q.dil_w - q.pad_w)));
    const __m256i ge0 = _mm256_cmpgt_epi32(col, _mm256_set1_epi32(-1));
    const __m256i ltw = _mm256_cmpgt_epi32(_mm256_set1_epi32(int(q.IW)), col);
    return _mm256_and_si256(ge0, ltw);
}

// Whether the input columns of a row's vector J for tap column kw all lie inside the row (no mask).
template <shape q>
constexpr bool columns_inside(i64 J, i64 kw) {
    const i64 lo = 8 * J + kw * q.dil_w - q.pad_w;
    return lo >= 0 && lo + 8 <= q.IW;
}

// Tap columns kw, kw + 1, .. of filter_grad_step_masked (a compile-time kw: which loads need a mask).
template <shape q, int MR, i64 J, i64 kw>
KATA_CPU_AVX2_TARGET __attribute__((always_inline)) inline void
filter_grad_columns(__m256 (&acc)[MR][q.KW], const __m256 (&d)[MR], const float* xr, const __m256i* mask) {
    if constexpr (kw < q.KW) {
        const float* p = xr + kw * q.dil_w;
        __m256 xv;
        if constexpr (J < 0 || columns_inside<q>(J, kw))
            xv = _mm256_loadu_ps(p);
        else
            xv = _mm256_maskload_ps(p, mask[kw]);
#pragma GCC unroll 4
        for (int m = 0; m < MR; ++m) acc[m][kw] = _mm256_fmadd_ps(d[m], xv, acc[m][kw]);
        filter_grad_columns<q, MR, J, kw + 1>(acc, d, xr, mask);
    }
}

// One vector of output columns of filter_grad_tile_masked: acc[m][kw] += dy[m] * x shifted by kw. J: the
// vector's index in its row when it is the first or last (its loads that cross the row's ends masked
// with mask[kw]), -1 for the vectors between (all inside: checked by filter_grad_ok's pad_w <= 8).
template <shape q, int MR, i64 J>
KATA_CPU_AVX2_TARGET __attribute__((always_inline)) inline void
filter_grad_step_masked(__m256 (&acc)[MR][q.KW], const float* xr, const float* dyr, i64 dcs,
                        const __m256i* mask) {
    __m256 d[MR];
#pragma GCC unroll 4
    for (int m = 0; m < MR; ++m) d[m] = _mm256_loadu_ps(dyr + m * dcs);
    filter_grad_columns<q, MR, J, 0>(acc, d, xr, mask);
}

// dW[o0 + m][c][kh][kw] (m < MR, kw < KW) = (add ? itself : 0) + the sum over items [0, nb) (strides xs,
// dys) and all output positions. x: input channel c of item 0; dy: output channel o0 of item 0 (channel
// stride dcs); dw: &dW[o0][c][kh][0].
template <shape q, int MR>
KATA_CPU_AVX2_TARGET inline void filter_grad_tile_masked(const float* x, i64 xs, const float* dy, i64 dys,
                                                         i64 dcs, i64 nb, i64 kh, float* dw, bool add) {
    constexpr i64 VW = q.OW / 8, KW = q.KW, K = q.Cg * q.taps();
    __m256i mfirst[KW], mlast[KW];
#pragma GCC unroll 3
    for (i64 kw = 0; kw < KW; ++kw) {
        mfirst[kw] = column_mask<q>(0, kw);
        mlast[kw] = column_mask<q>(VW - 1, kw);
    }
    const i64 dh = kh * q.dil_h - q.pad_h;  // ih = oh + dh
    const i64 oh0 = std::max<i64>(0, -dh), oh1 = std::min<i64>(q.OH, q.IH - dh);
    __m256 acc[MR][KW];
#pragma GCC unroll 4
    for (int m = 0; m < MR; ++m)
#pragma GCC unroll 3
        for (int kw = 0; kw < KW; ++kw) acc[m][kw] = _mm256_setzero_ps();
    for (i64 b = 0; b < nb; ++b)
        for (i64 oh = oh0; oh < oh1; ++oh) {
            const float* xr = x + b * xs + (oh + dh) * q.IW - q.pad_w;  // column -pad_w of input row
            const float* dyr = dy + b * dys + oh * q.OW;
            if constexpr (VW == 1) {
                filter_grad_step_masked<q, MR, 0>(acc, xr, dyr, dcs, mfirst);
            } else {
                filter_grad_step_masked<q, MR, 0>(acc, xr, dyr, dcs, mfirst);
                for (i64 j = 1; j < VW - 1; ++j)
                    filter_grad_step_masked<q, MR, -1>(acc, xr + 8 * j, dyr + 8 * j, dcs, nullptr);
                filter_grad_step_masked<q, MR, VW - 1>(acc, xr + 8 * (VW - 1), dyr + 8 * (VW - 1), dcs,
                                                       mlast);
            }
        }
#pragma GCC unroll 4
    for (int m = 0; m < MR; ++m)
#pragma GCC unroll 3
        for (int kw = 0; kw < KW; ++kw) dw[m * K + kw] = (add ? dw[m * K + kw] : 0.f) + hsum(acc[m][kw]);
}

// dW_g (Og, Cg, KH, KW) of one group summed over items [0, nb): x points at the group's first input
// channel of item 0, dy at its first output channel (item strides xs, dys). Chunks of several items
// are first copied into pk (filter_grad_pack_floats<q>(nb_max) floats) channel-major, (Cg, n, IH, IW)
// and (Og, n, OH, OW): read in place, a tile's items sit a whole item apart (16-64 KiB), so all of them
// map to the same L1 sets and evict each other.
template <shape q>
KATA_CPU_AVX2_TARGET inline void filter_grad_items_masked(const float* x, i64 xs, const float* dy, i64 dys,
                                                          i64 nb, i64 nb_max, float* pk, float* dw) {
    constexpr i64 MR = 4, K = q.Cg * q.taps(), ISP = q.IH * q.IW, OSP = q.OH * q.OW, full = q.Og / MR * MR;
    const i64 chunk = filter_grad_chunk<q>(nb_max);
    for (i64 b0 = 0; b0 < nb; b0 += chunk) {
        const i64 n = std::min(chunk, nb - b0);
        const float* px = x + b0 * xs;
        const float* pd = dy + b0 * dys;
        i64 xcs = ISP, dcs = OSP;  // channel strides (in place: one item)
        if (chunk > 1) {
            float* cx = pk;
            float* cd = pk + n * q.Cg * ISP;
            for (i64 b = 0; b < n; ++b) {
                for (i64 c = 0; c < q.Cg; ++c)
                    std::memcpy(cx + (c * n + b) * ISP, x + (b0 + b) * xs + c * ISP, sizeof(float) * ISP);
                for (i64 o = 0; o < q.Og; ++o)
                    std::memcpy(cd + (o * n + b) * OSP, dy + (b0 + b) * dys + o * OSP, sizeof(float) * OSP);
            }
            px = cx;
            pd = cd;
            xcs = n * ISP;
            dcs = n * OSP;
        }
        const bool add = b0 > 0;
        for (i64 o0 = 0; o0 < q.Og; o0 += MR)
            for (i64 c = 0; c < q.Cg; ++c)
                for (i64 kh = 0; kh < q.KH; ++kh) {
                    const float* xc = px + c * xcs;
                    const float* dyo = pd + o0 * dcs;
                    float* d = dw + o0 * K + c * q.taps() + kh * q.KW;
                    if (o0 < full)
                        filter_grad_tile_masked<q, MR>(xc, ISP, dyo, OSP, dcs, n, kh, d, add);
                    else if constexpr (q.Og % MR != 0)
                        filter_grad_tile_masked<q, q.Og % MR>(xc, ISP, dyo, OSP, dcs, n, kh, d, add);
                }
    }
}

// dW[o0 + m][c][kh][kw] (m < MR, kw < KW) = (add ? itself : 0) + the sum over items [0, nb) and all
// output positions. xp: padded input channel c of item 0 (item stride PH PW); dy: output channel o0 of
// item 0 (item stride dys, channel stride dcs); dw: &dW[o0][c][kh][0].
template <shape q, int MR>
KATA_CPU_AVX2_TARGET inline void filter_grad_tile_padded(const float* xp, const float* dy, i64 dys, i64 dcs,
                                                         i64 nb, i64 kh, float* dw, bool add) {
    constexpr i64 VW = q.OW / 8, KW = q.KW, K = q.Cg * q.taps(), PW = q.PW(), PHW = q.PH() * PW;
    // padded row oh + kh dil holds input row oh + kh dil - pad_h: rows of padding add nothing
    const i64 dh = kh * q.dil_h - q.pad_h;
    const i64 oh0 = std::max<i64>(0, -dh), oh1 = std::min<i64>(q.OH, q.IH - dh);
    __m256 acc[MR][KW];
#pragma GCC unroll 4
    for (int m = 0; m < MR; ++m)
#pragma GCC unroll 3
        for (int kw = 0; kw < KW; ++kw) acc[m][kw] = _mm256_setzero_ps();
    for (i64 b = 0; b < nb; ++b)
        for (i64 oh = oh0; oh < oh1; ++oh) {
            const float* xr = xp + b * PHW + (oh + kh * q.dil_h) * PW;
            const float* dyr = dy + b * dys + oh * q.OW;
            for (i64 j = 0; j < VW; ++j) {
                __m256 d[MR];
#pragma GCC unroll 4
                for (int m = 0; m < MR; ++m) d[m] = _mm256_loadu_ps(dyr + m * dcs + 8 * j);
#pragma GCC unroll 3
                for (int kw = 0; kw < KW; ++kw) {
                    const __m256 xv = _mm256_loadu_ps(xr + 8 * j + kw * q.dil_w);
#pragma GCC unroll 4
                    for (int m = 0; m < MR; ++m) acc[m][kw] = _mm256_fmadd_ps(d[m], xv, acc[m][kw]);
                }
            }
        }
#pragma GCC unroll 4
    for (int m = 0; m < MR; ++m)
#pragma GCC unroll 3
        for (int kw = 0; kw < KW; ++kw) dw[m * K + kw] = (add ? dw[m * K + kw] : 0.f) + hsum(acc[m][kw]);
}

// dW_g (Og, Cg, KH, KW) of one group summed over items [0, nb): x points at the group's first input
// channel of item 0, dy at its first output channel (item strides xs, dys). Chunk by chunk, the items'
// input is copied zero-padded into pk (filter_grad_pack_floats<q>(nb_max) floats) channel-major,
// (Cg, n, PH, PW), and for chunks of several items dy too, (Og, n, OH, OW): read in place, a tile's
// items sit a whole item apart (16-64 KiB), so all of them map to the same L1 sets and evict each other.
template <shape q>
KATA_CPU_AVX2_TARGET inline void filter_grad_items_padded(const float* x, i64 xs, const float* dy, i64 dys,
                                                          i64 nb, i64 nb_max, float* pk, float* dw) {
    constexpr i64 MR = 4, K = q.Cg * q.taps(), ISP = q.IH * q.IW, OSP = q.OH * q.OW, full = q.Og / MR * MR;
    constexpr i64 PHW = q.PH() * q.PW();
    const i64 chunk = filter_grad_chunk<q>(nb_max);
    for (i64 b0 = 0; b0 < nb; b0 += chunk) {
        const i64 n = std::min(chunk, nb - b0);
        float* px = pk;
        for (i64 c = 0; c < q.Cg; ++c)
            for (i64 b = 0; b < n; ++b)
                pad_item<shape{1, 1, q.IH, q.IW, q.OH, q.OW, q.KH, q.KW, q.pad_h, q.pad_w, q.dil_h, q.dil_w}>(
                    x + (b0 + b) * xs + c * ISP, px + (c * n + b) * PHW);
        const float* pd = dy + b0 * dys;
        i64 ds = dys, dcs = OSP;  // item and channel strides of dy (in place: one item)
        if (chunk > 1) {
            float* cd = pk + n * q.Cg * PHW;
            for (i64 o = 0; o < q.Og; ++o)
                for (i64 b = 0; b < n; ++b)
                    std::memcpy(cd + (o * n + b) * OSP, dy + (b0 + b) * dys + o * OSP, sizeof(float) * OSP);
            pd = cd;
            ds = OSP;
            dcs = n * OSP;
        }
        const bool add = b0 > 0;
        for (i64 o0 = 0; o0 < q.Og; o0 += MR)
            for (i64 c = 0; c < q.Cg; ++c)
                for (i64 kh = 0; kh < q.KH; ++kh) {
                    const float* xc = px + c * n * PHW;
                    const float* dyo = pd + o0 * dcs;
                    float* d = dw + o0 * K + c * q.taps() + kh * q.KW;
                    if (o0 < full)
                        filter_grad_tile_padded<q, MR>(xc, dyo, ds, dcs, n, kh, d, add);
                    else if constexpr (q.Og % MR != 0)
                        filter_grad_tile_padded<q, q.Og % MR>(xc, dyo, ds, dcs, n, kh, d, add);
                }
    }
}

// dW_g (Og, Cg, KH, KW) of one group summed over items [0, nb) (item strides xs, dys; pk:
// filter_grad_pack_floats<q>(nb_max) floats). Rows of several vectors read the input in place (or
// copied channel-major) and mask the first and last vector of each row; rows of one vector (OW == 8),
// where every load would be masked, read a zero-padded copy instead (8x8: 80 against 57 GFLOP/s per
// core in isolation, while at 32x32 the padded copy costs ~15 %).
template <shape q>
KATA_CPU_AVX2_TARGET inline void filter_grad_items(const float* x, i64 xs, const float* dy, i64 dys, i64 nb,
                                                   i64 nb_max, float* pk, float* dw) {
    if constexpr (q.OW == 8)
        filter_grad_items_padded<q>(x, xs, dy, dys, nb, nb_max, pk, dw);
    else
        filter_grad_items_masked<q>(x, xs, dy, dys, nb, nb_max, pk, dw);
}

#endif  // KATA_CPU_X86

}  // namespace kata::cpu::detail::cfd
