// kata/cpu/kernels/conv_grouped.hpp
//
// Direct channel-last (NHWC) grouped convolution with pre-packed weights and a fused epilogue: the
// frozen executor's path for Convolution and FusedConvolution with channel_last = true and
// 1 < group, other than depthwise (group == C == O has its own kernel in kernels/convolution.hpp),
// whose weight (and bias) are parameters: ResNeXt's 3x3 layers with 32 groups of 4 or 8 channels.
// kernels/convolution.hpp and kernels/fused_convolution.hpp choose it at compile time
// (grouped_path(I)) and pack the weights at bind time (grouped_pack()).
//
// Why not im2col + one GEMM per group: a group's GEMM is (pixels x 9 * Cg) . (9 * Cg x Og) with Og = 4
// or 8 output columns, so OpenBLAS runs 32 tiny GEMMs per image on a strided column buffer, at 5-11
// GFLOP/s (the suite's ResNeXt profile, bench/RESULTS.md 2026-12-04): half of the network's time for
// 5 % of its FLOPs.
//
// Formulation: the output channels are cut into units of 8 lanes (one ymm vector):
//   * "bcast" units (any Cg, Og): group g's Og outputs padded up to a multiple of 8 lanes; every lane
//     of the unit reads the same Cg input channels, so one broadcast input value per (pixel, tap,
//     channel) multiplies a weight vector of 8 lanes (lanes past Og are zero weights, masked stores);
//   * "pair" units (Cg == Og == 4, G even: ResNeXt's first stage): the 8 lanes are two groups' 4
//     outputs, and the 8 input channels of those two groups are one contiguous vector: lane-wise
//     permutes inside each 128-bit half (vpermilps c, c, c, c) give both groups' channel c at once, so
//     no lane is padding (bcast units would waste half of them).
// Packed layout: [bias: units x 8] [unit 0: taps x Cg x 8] [unit 1: ...] (zero-padded lanes).
// A tile is R consecutive output pixels of one output row; for each tap, each pixel points at its
// input C-vector or at a zero vector (padding; a tap that is padding for every pixel is skipped), and
// all units of the tile run before the next tile (the pixels' input stays in L1, the weights, 8 floats
// per (tap, channel, unit), come from L1/L2). Epilogue before the single store: + bias (initial value),
// + residual (NHWC tensor of the output's shape), ReLU. Sums in the order bias, taps (kd, kh, kw),
// channels; threads over output rows.
//
// ISA (kata/cpu/simd.hpp): the AVX2 + FMA kernel is compiled with a function target attribute and
// chosen at run time; elsewhere (or with KATA_CPU_SIMD=generic, simd::force_generic) a portable loop
// reads the same packed weights.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../kernel.hpp"
#include "../parallel.hpp"
#include "../simd.hpp"
#include "conv_nhwc.hpp"

namespace kata::cpu::detail {

inline constexpr int grouped_max_taps = 64;  // taps of one tile held at once (7x7 = 49, 3x3x3 = 27)
inline constexpr int grouped_R = 6;          // output pixels per tile

// Run-time description of one grouped convolution (normalised to 3 spatial axes).
struct gparams {
    params g;  // geometry (B, C, O, in, out, k, pad, stride, dil, taps, in_sp, out_sp, M, has_bias)
    i64 G = 1, Cg = 1, Og = 1;
    bool pair = false;  // units of two groups of 4 (Cg == Og == 4, G even)
    i64 vpg = 1;        // units per group (bcast): ceil(Og / 8)
    i64 units = 1;
    i64 unit_floats = 1;  // taps * Cg * 8
};

// Whether the grouped fast path handles this op instance (a Convolution, or the FusedConvolution that
// kata/converters/fuse_convolution_epilogue.hpp makes of one), and its weight (and bias) are frozen
// parameters packed at bind time.
constexpr bool grouped_path(const op_instance& I) {
    if (I.op != op_kind::convolution && I.op != op_kind::fused_convolution) return false;
    if (!I.attr.channel_last || I.attr.group <= 1) return false;
    if (I.type != dtype::f32 || I.nin < 2 || I.in_type[0] != dtype::f32 || I.in_type[1] != dtype::f32)
        return false;
    const int nsp = I.attr.spatial_dims;
    if (nsp < 1 || nsp > 3) return false;
    if (I.in[0].rank != I.attr.base_axis + nsp + 1 || I.out.rank != I.attr.base_axis + nsp + 1) return false;
    const i64 C = I.in[0].dims[I.in[0].rank - 1], O = I.out.dims[I.out.rank - 1], G = I.attr.group;
    if (C % G != 0 || O % G != 0) return false;
    if (C == G && O == G) return false;  // depthwise: kernels/convolution.hpp's packed depthwise kernel
    i64 taps = 1;
    for (int i = 0; i < nsp; ++i) taps *= I.attr.kernel[i];
    if (taps > grouped_max_taps) return false;
    if (!I.in_frozen[1]) return false;
    return !(I.attr.has_bias && I.nin >= 3) || I.in_frozen[2];
}

constexpr gparams make_gparams(const op_instance& I) {
    gparams q;
    q.g = make_params(I);  // group-agnostic geometry (its K / nb / chunking are not used here)
    q.G = I.attr.group;
    q.Cg = q.g.C / q.G;
    q.Og = q.g.O / q.G;
    q.pair = q.Cg == 4 && q.Og == 4 && q.G % 2 == 0;
    q.vpg = (q.Og + 7) / 8;
    q.units = q.pair ? q.G / 2 : q.G * q.vpg;
    q.unit_floats = q.g.taps * q.Cg * 8;
    return q;
}

constexpr const char* grouped_path_name(const gparams& q) {
    return q.pair ? "nhwc-grouped4" : "nhwc-grouped";
}

constexpr i64 grouped_packed_floats(const gparams& q) { return q.units * 8 + q.units * q.unit_floats; }
// The zero vector that padding taps read (a whole C-vector plus slack for the last unit's 8 lanes).
constexpr i64 grouped_scratch_floats(const gparams& q) { return q.g.C + 16; }

// Output channel and input channel of lane l of unit u for reduction channel c (-1: padding lane).
constexpr i64 grouped_lane_out(const gparams& q, i64 u, int l) {
    if (q.pair) return u * 8 + l;
    const i64 grp = u / q.vpg, o = (u % q.vpg) * 8 + l;
    return o < q.Og ? grp * q.Og + o : -1;
}
constexpr i64 grouped_lane_in(const gparams& q, i64 u, int l, i64 c) {
    if (q.pair) return u * 8 + (l / 4) * 4 + c;
    return (u / q.vpg) * q.Cg + c;
}

// W (O, taps, Cg) row-major and bias (O) or null -> packed (see the header comment).
inline void grouped_pack(const gparams& q, const float* w, const float* bias, float* packed) {
    const i64 taps = q.g.taps;
    for (i64 u = 0; u < q.units; ++u)
        for (int l = 0; l < 8; ++l) {
            const i64 o = grouped_lane_out(q, u, l);
            packed[u * 8 + l] = (bias && o >= 0) ? bias[o] : 0.f;
        }
    float* pw = packed + q.units * 8;
    for (i64 u = 0; u < q.units; ++u)
        for (i64 t = 0; t < taps; ++t)
            for (i64 c = 0; c < q.Cg; ++c)
                for (int l = 0; l < 8; ++l) {
                    const i64 o = grouped_lane_out(q, u, l);
                    pw[((u * taps + t) * q.Cg + c) * 8 + l] = o >= 0 ? w[(o * taps + t) * q.Cg + c] : 0.f;
                }
}

// The taps of one tile: for each tap that is not padding for every pixel, its index and one input
// pointer per pixel (the pixel's C-vector, or the zero vector).
struct gtile {
    int n = 0;
    int tap[grouped_max_taps];
    const float* a[grouped_max_taps][grouped_R];
};

// Builds the tile of R pixels starting at output column ow0 of output row r = (b * OD + od) * OH + oh.
inline void grouped_tile(const params& p, const float* x, const float* zero, i64 r, i64 ow0, int R,
                         gtile& t) {
    const i64 b = r / (p.out[0] * p.out[1]), od = (r / p.out[1]) % p.out[0], oh = r % p.out[1];
    t.n = 0;
    for (i64 kd = 0; kd < p.k[0]; ++kd) {
        const i64 id = od * p.stride[0] - p.pad[0] + kd * p.dil[0];
        if (id < 0 || id >= p.in[0]) continue;
        for (i64 kh = 0; kh < p.k[1]; ++kh) {
            const i64 ih = oh * p.stride[1] - p.pad[1] + kh * p.dil[1];
            if (ih < 0 || ih >= p.in[1]) continue;
            const float* row = x + ((b * p.in[0] + id) * p.in[1] + ih) * p.in[2] * p.C;
            for (i64 kw = 0; kw < p.k[2]; ++kw) {
                bool any = false;
                for (int i = 0; i < R; ++i) {
                    const i64 iw = (ow0 + i) * p.stride[2] - p.pad[2] + kw * p.dil[2];
                    const bool in = iw >= 0 && iw < p.in[2];
                    t.a[t.n][i] = in ? row + iw * p.C : zero;
                    any = any || in;
                }
                if (any) t.tap[t.n++] = int((kd * p.k[1] + kh) * p.k[2] + kw);
            }
        }
    }
}

// ---- portable variant: any R, one unit ----------------------------------------------------------------
inline void grouped_unit_generic(const gparams& q, const gtile& t, int R, i64 u, const float* packed,
                                 const float* res, bool relu, float* y) {
    const float* w = packed + q.units * 8 + u * q.unit_floats;
    for (int i = 0; i < R; ++i) {
        float acc[8];
        for (int l = 0; l < 8; ++l) acc[l] = packed[u * 8 + l];
        for (int j = 0; j < t.n; ++j) {
            const float* wt = w + i64(t.tap[j]) * q.Cg * 8;
            for (i64 c = 0; c < q.Cg; ++c)
                for (int l = 0; l < 8; ++l) acc[l] += t.a[j][i][grouped_lane_in(q, u, l, c)] * wt[c * 8 + l];
        }
        for (int l = 0; l < 8; ++l) {
            const i64 o = grouped_lane_out(q, u, l);
            if (o < 0) continue;
            float v = acc[l];
            if (res) v += res[i * q.g.O + o];
            if (relu) v = v > 0.f ? v : 0.f;
            y[i * q.g.O + o] = v;
        }
    }
}

#if KATA_CPU_X86
// ---- AVX2 + FMA: R pixels x V units of one group (bcast), or R pixels x one pair unit -----------------
// Registers: R x V accumulators + V weight vectors + the broadcast (bcast, R = 6, V = 2: 15), or R
// accumulators + R input vectors + the weight vector + a permute (pair, R = 6: 14).
template <int R, int V>
KATA_CPU_AVX2_TARGET void grouped_bcast_avx2(const gparams& q, const gtile& t, i64 u, const float* packed,
                                             const float* res, bool relu, float* y) {
    const float* w = packed + q.units * 8 + u * q.unit_floats;
    const i64 cin = (u / q.vpg) * q.Cg;
    const i64 o0 = (u / q.vpg) * q.Og + (u % q.vpg) * 8;
    const i64 uf = q.unit_floats, Cg = q.Cg, O = q.g.O;
    __m256 acc[R][V];
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) {
        const __m256 bv = _mm256_load_ps(packed + (u + v) * 8);
#pragma GCC unroll 8
        for (int i = 0; i < R; ++i) acc[i][v] = bv;
    }
    for (int j = 0; j < t.n; ++j) {
        const float* wt = w + i64(t.tap[j]) * Cg * 8;
        const float* a[R];
#pragma GCC unroll 8
        for (int i = 0; i < R; ++i) a[i] = t.a[j][i] + cin;
        for (i64 c = 0; c < Cg; ++c, wt += 8) {
            __m256 wv[V];
#pragma GCC unroll 2
            for (int v = 0; v < V; ++v) wv[v] = _mm256_load_ps(wt + v * uf);
#pragma GCC unroll 8
            for (int i = 0; i < R; ++i) {
                const __m256 xb = _mm256_broadcast_ss(a[i] + c);
#pragma GCC unroll 2
                for (int v = 0; v < V; ++v) acc[i][v] = _mm256_fmadd_ps(xb, wv[v], acc[i][v]);
            }
        }
    }
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256 zero = _mm256_setzero_ps();
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) {
        const i64 lanes = std::min<i64>(8, q.Og - ((u + v) % q.vpg) * 8);
        const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(int(lanes)), lane);
        const i64 oc = o0 + v * 8;
#pragma GCC unroll 8
        for (int i = 0; i < R; ++i) {
            __m256 s = acc[i][v];
            float* yo = y + i * O + oc;
            if (lanes == 8) {
                if (res) s = _mm256_add_ps(s, _mm256_loadu_ps(res + i * O + oc));
                if (relu) s = _mm256_max_ps(s, zero);
                _mm256_storeu_ps(yo, s);
            } else {
                if (res) s = _mm256_add_ps(s, _mm256_maskload_ps(res + i * O + oc, m));
                if (relu) s = _mm256_max_ps(s, zero);
                _mm256_maskstore_ps(yo, m, s);
            }
        }
    }
}

template <int R>
KATA_CPU_AVX2_TARGET void grouped_pair_avx2(const gparams& q, const gtile& t, i64 u, const float* packed,
                                            const float* res, bool relu, float* y) {
    const float* w = packed + q.units * 8 + u * q.unit_floats;
    const i64 c0 = u * 8, O = q.g.O;
    __m256 acc[R];
    const __m256 bv = _mm256_load_ps(packed + u * 8);
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) acc[i] = bv;
    for (int j = 0; j < t.n; ++j) {
        const float* wt = w + i64(t.tap[j]) * 32;
        __m256 xv[R];
#pragma GCC unroll 8
        for (int i = 0; i < R; ++i) xv[i] = _mm256_loadu_ps(t.a[j][i] + c0);
        const __m256 w0 = _mm256_load_ps(wt), w1 = _mm256_load_ps(wt + 8), w2 = _mm256_load_ps(wt + 16),
                     w3 = _mm256_load_ps(wt + 24);
#pragma GCC unroll 8
        for (int i = 0; i < R; ++i) {
            acc[i] = _mm256_fmadd_ps(_mm256_permute_ps(xv[i], 0x00), w0, acc[i]);
            acc[i] = _mm256_fmadd_ps(_mm256_permute_ps(xv[i], 0x55), w1, acc[i]);
            acc[i] = _mm256_fmadd_ps(_mm256_permute_ps(xv[i], 0xAA), w2, acc[i]);
            acc[i] = _mm256_fmadd_ps(_mm256_permute_ps(xv[i], 0xFF), w3, acc[i]);
        }
    }
    const __m256 zero = _mm256_setzero_ps();
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) {
        __m256 s = acc[i];
        if (res) s = _mm256_add_ps(s, _mm256_loadu_ps(res + i * O + c0));
        if (relu) s = _mm256_max_ps(s, zero);
        _mm256_storeu_ps(y + i * O + c0, s);
    }
}

// All units of one tile of R pixels.
template <int R>
KATA_CPU_AVX2_TARGET void grouped_tile_avx2(const gparams& q, const gtile& t, const float* packed,
                                            const float* res, bool relu, float* y) {
    if (q.pair) {
        for (i64 u = 0; u < q.units; ++u) grouped_pair_avx2<R>(q, t, u, packed, res, relu, y);
        return;
    }
    for (i64 u = 0; u < q.units;) {
        if (q.vpg - u % q.vpg >= 2) {
            grouped_bcast_avx2<R, 2>(q, t, u, packed, res, relu, y);
            u += 2;
        } else {
            grouped_bcast_avx2<R, 1>(q, t, u, packed, res, relu, y);
            u += 1;
        }
    }
}

KATA_CPU_AVX2_TARGET inline void grouped_run_avx2(int R, const gparams& q, const gtile& t,
                                                  const float* packed, const float* res, bool relu,
                                                  float* y) {
    switch (R) {
    case 1: return grouped_tile_avx2<1>(q, t, packed, res, relu, y);
    case 2: return grouped_tile_avx2<2>(q, t, packed, res, relu, y);
    case 3: return grouped_tile_avx2<3>(q, t, packed, res, relu, y);
    case 4: return grouped_tile_avx2<4>(q, t, packed, res, relu, y);
    case 5: return grouped_tile_avx2<5>(q, t, packed, res, relu, y);
    default: return grouped_tile_avx2<grouped_R>(q, t, packed, res, relu, y);
    }
}
static_assert(grouped_R == 6, "grouped_run_avx2 dispatches R = 1..6");
#endif

// The forward: y = act(grouped_conv(x) + bias [+ res]) on weights packed by grouped_pack(); `scratch`
// holds grouped_scratch_floats(q) floats (the zero vector, zeroed here).
inline void grouped_forward(const gparams& q, const float* x, const float* packed, const float* res,
                            bool relu, float* y, float* scratch) {
    const params& p = q.g;
    std::memset(scratch, 0, sizeof(float) * std::size_t(grouped_scratch_floats(q)));
    const float* zero = scratch;
    const bool avx2 = simd::use_avx2_fma();
    const i64 OW = p.out[2], O = p.O;
    parallel_for(
        p.B * p.out[0] * p.out[1],
        [&](i64 r0, i64 r1) {
            gtile t;
            for (i64 r = r0; r < r1; ++r) {
                for (i64 ow = 0; ow < OW; ow += grouped_R) {
                    const int R = int(std::min<i64>(grouped_R, OW - ow));
                    grouped_tile(p, x, zero, r, ow, R, t);
                    const i64 m = r * OW + ow;
                    float* yt = y + m * O;
                    const float* rt = res ? res + m * O : nullptr;
#if KATA_CPU_X86
                    if (avx2) {
                        grouped_run_avx2(R, q, t, packed, rt, relu, yt);
                        continue;
                    }
#endif
                    (void)avx2;
                    for (i64 u = 0; u < q.units; ++u) grouped_unit_generic(q, t, R, u, packed, rt, relu, yt);
                }
            }
        },
        1);
}

}  // namespace kata::cpu::detail
