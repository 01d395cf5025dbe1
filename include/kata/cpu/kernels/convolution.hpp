// kata/cpu/kernels/convolution.hpp
//
// CPU kernel for nnabla's Convolution (1-D/2-D/3-D, pad/stride/dilation, group, channel-first and
// channel-last, base_axis >= 1: every axis before base_axis is a batch axis).
//
// Layouts (docs/nnabla-semantics.md §0.1): channel-first x (B, C, S..), W (O, C/g, k..), y (B, O, S'..);
//                     channel-last  x (B, S.., C), W (O, k.., C/g), y (B, S'.., O). Bias (O,).
//
// Design: everything is a row-major sgemm (kata/cpu/gemm.hpp: single-threaded OpenBLAS calls, a large
// GEMM split in blocks over kata's pool, so no allocation per call), with all sizes
// compile-time constants taken from the op_instance.
//   * 1x1, stride 1, pad 0 (any dilation, any group): no im2col at all.
//       channel-first, per batch item and group: Y_g(O/g, HW) = W_g(O/g, C/g) . X_g(C/g, HW)
//       channel-last, batch folded into M:       Y(BHW, O_g) = X(BHW, C_g; ld C) . W_g^T   (ld O)
//   * otherwise im2col into the workspace (one batch item, one group at a time) + one sgemm:
//       channel-first col (C/g*taps, S'): rows are (c, kd, kh, kw); for stride 1 each output row is a
//         zero-fill / memcpy / zero-fill of an input row; Y_g(O/g, S') = W_g . col
//       channel-last col (S', taps*C/g): contiguous C/g runs per tap (memcpy); Y = col . W_g^T
//     im2col is split over the two cores (kata/cpu/parallel.hpp); so is the sgemm (by gemm.hpp).
//   * channel-first with batch > 1: whole batch items per pool thread instead, each with its own column
//     buffer and single-threaded GEMMs (for_items_by_slot below; the convolution gradients use it too).
//   * depthwise-like groups (C/g == 1, e.g. group == C, and DepthwiseConvolution) would be O(C) tiny
//     GEMMs: a direct loop over output channels instead (shared with kernels/depthwise.hpp).
//   * bias: Y is initialised with the bias and the sgemm runs with beta = 1 (nothing else is fused).
// In a frozen executor, channel-last group-1 convolutions with parameter weights run the direct NHWC
// kernel on weights packed at bind time instead (kernels/conv_nhwc.hpp; see kernel<convolution>), and
// channel-last depthwise ones (group == C == O) a direct kernel on weights packed as (taps, C), with
// an AVX2 + FMA variant (dw_nhwc_forward; live executors pack into the workspace per call).
// Spatial ranks 1 and 2 are handled as 3-D with leading unit axes (k = 1, pad 0, stride 1), so one
// im2col covers all ranks; with constant sizes the unit loops fold away.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../gemm.hpp"
#include "../kernel.hpp"
#include "../parallel.hpp"
#include "../simd.hpp"
#include "conv_cf_direct.hpp"
#include "conv_cf_winograd.hpp"
#include "conv_grouped.hpp"
#include "conv_nhwc.hpp"

namespace kata::cpu {

namespace detail {

using i64 = std::int64_t;

// Geometry of one convolution-like op, normalised to 3 spatial axes (leading unit axes added).
struct geometry {
    i64 B = 1;         // product of the batch axes (before base_axis)
    i64 C = 1, O = 1;  // input / output channels
    i64 G = 1;         // groups
    i64 Cg = 1, Og = 1;
    bool cl = false;  // channel-last
    i64 in[3]{1, 1, 1}, out[3]{1, 1, 1}, k[3]{1, 1, 1}, pad[3]{}, stride[3]{1, 1, 1}, dil[3]{1, 1, 1};
    i64 in_sp = 1, out_sp = 1, taps = 1;

    // 1x1, stride 1, pad 0 and equal spatial sizes (deconvolution's output_padding can break the
    // latter): im2col / col2im is the identity.
    constexpr bool pointwise() const {
        for (int i = 0; i < 3; ++i)
            if (k[i] != 1 || stride[i] != 1 || pad[i] != 0 || in[i] != out[i]) return false;
        return true;
    }
};

// `in_ch`/`out_ch` are the channel counts of x and y; spatial sizes come from x and y.
constexpr geometry make_geometry(const op_instance& I, i64 in_ch, i64 out_ch, i64 groups, bool cl) {
    geometry g;
    const shape_t& xs = I.in[0];
    const shape_t& ys = I.out;
    const int ba = I.attr.base_axis;
    const int nsp = I.attr.spatial_dims;
    g.B = xs.prod(0, ba);
    g.C = in_ch;
    g.O = out_ch;
    g.G = groups;
    g.Cg = in_ch / groups;
    g.Og = out_ch / groups;
    g.cl = cl;
    const int fs = cl ? ba : ba + 1;  // first spatial axis of x and y
    for (int i = 0; i < nsp; ++i) {
        const int j = 3 - nsp + i;
        g.in[j] = xs.dims[fs + i];
        g.out[j] = ys.dims[fs + i];
        g.k[j] = I.attr.kernel[i];
        g.pad[j] = I.attr.pad[i];
        g.stride[j] = I.attr.stride[i];
        g.dil[j] = I.attr.dilation[i];
    }
    g.in_sp = g.in[0] * g.in[1] * g.in[2];
    g.out_sp = g.out[0] * g.out[1] * g.out[2];
    g.taps = g.k[0] * g.k[1] * g.k[2];
    return g;
}

template <op_instance I>
constexpr geometry conv_geometry() {
    constexpr bool cl = I.attr.channel_last;
    constexpr int cax = cl ? I.in[0].rank - 1 : I.attr.base_axis;
    return make_geometry(I, I.in[0].dims[cax], I.in[1].dims[0], I.attr.group, cl);
}

// Fills rows [0, rows) of a row-major (rows, n) matrix with the per-row value bias[row] (or 0).
inline void fill_rows(float* y, i64 rows, i64 n, i64 ld, const float* bias) {
    for (i64 r = 0; r < rows; ++r) {
        const float v = bias ? bias[r] : 0.f;
        float* p = y + r * ld;
        for (i64 j = 0; j < n; ++j) p[j] = v;
    }
}

// Fills rows of a row-major (rows, n) matrix with the vector bias[0..n) (channel-last bias).
inline void fill_cols(float* y, i64 rows, i64 n, i64 ld, const float* bias) {
    for (i64 r = 0; r < rows; ++r) {
        float* p = y + r * ld;
        if (bias)
            std::memcpy(p, bias, std::size_t(n) * sizeof(float));
        else
            std::memset(p, 0, std::size_t(n) * sizeof(float));
    }
}

// Channel-first im2col for one batch item and one group: x points at channel c0 of the item,
// col is (Cg * taps, out_sp) with rows ordered (c, kd, kh, kw) like W's (C/g, k..) trailing axes.
// im2col_cf_rows fills rows [r0, r1) on the calling thread, for the output rows (od * OH + oh) in
// [q0, q1) only (col's rows then hold (q1 - q0) * OW values); im2col_cf splits all rows over the pool.
template <geometry g>
inline void im2col_cf_rows(const float* x, float* col, i64 r0, i64 r1, i64 q0 = 0,
                           i64 q1 = g.out[0] * g.out[1]) {
    constexpr i64 IH = g.in[1], IW = g.in[2], ID = g.in[0];
    constexpr i64 OH = g.out[1], OW = g.out[2];
    const i64 ld = (q1 - q0) * OW;
    for (i64 r = r0; r < r1; ++r) {
        const i64 c = r / g.taps;
        const i64 t = r % g.taps;
        const i64 kd = t / (g.k[1] * g.k[2]), kh = (t / g.k[2]) % g.k[1], kw = t % g.k[2];
        const float* xc = x + c * g.in_sp;
        float* out = col + r * ld;
        // Valid ow range: 0 <= ow*s - p + kw*d < IW.
        const i64 off_w = kw * g.dil[2] - g.pad[2];
        i64 lo = off_w >= 0 ? 0 : (-off_w + g.stride[2] - 1) / g.stride[2];
        i64 hi = IW - off_w <= 0 ? 0 : (IW - off_w + g.stride[2] - 1) / g.stride[2];
        lo = std::min(lo, OW);
        hi = std::clamp(hi, lo, OW);
        for (i64 q = q0; q < q1; ++q) {
            const i64 od = q / OH, oh = q % OH;
            const i64 id = od * g.stride[0] - g.pad[0] + kd * g.dil[0];
            float* o = out + (q - q0) * OW;
            const i64 ih = oh * g.stride[1] - g.pad[1] + kh * g.dil[1];
            if (id < 0 || id >= ID || ih < 0 || ih >= IH) {
                std::memset(o, 0, sizeof(float) * OW);
                continue;
            }
            const float* xr = xc + (id * IH + ih) * IW + off_w;
            for (i64 ow = 0; ow < lo; ++ow) o[ow] = 0.f;
            if constexpr (g.stride[2] == 1) {
                if (hi > lo) std::memcpy(o + lo, xr + lo, sizeof(float) * std::size_t(hi - lo));
            } else {
                for (i64 ow = lo; ow < hi; ++ow) o[ow] = xr[ow * g.stride[2]];
            }
            for (i64 ow = hi; ow < OW; ++ow) o[ow] = 0.f;
        }
    }
}

template <geometry g>
inline void im2col_cf(const float* x, float* col) {
    parallel_for(
        g.Cg * g.taps, [&](i64 r0, i64 r1) { im2col_cf_rows<g>(x, col, r0, r1); },
        std::max<i64>(1, 4096 / std::max<i64>(1, g.out_sp)));
}

// ---- Channel-first, batch > 1: batch items split over the pool ----------------------------------------
// Each pool chunk ("slot") takes a fixed range of batch items and runs them one after the other on its
// thread: im2col into the slot's own column buffer, then one single-threaded GEMM per group. Why not
// the per-item split above: at CIFAR sizes (16-64 channels, 8x8 to 32x32 maps) each item's GEMM is
// small (e.g. 16 x 1024 x 144), so splitting it costs two pool hand-offs per item and layer and leaves
// OpenBLAS blocks too thin; whole items per thread need one hand-off per layer and keep each GEMM
// whole. Slots are a compile-time count (the workspace holds one column buffer each) and more than
// the machine's 2 threads, so that a core taken by another process leaves its items to the other one
// (the pool claims chunks dynamically). The item ranges depend only on B, so results do not depend on
// which thread runs which slot. Shared with the convolution gradients (kernels/gradient.hpp).
template <geometry g>
constexpr i64 item_slots() {
    return g.B < 4 ? g.B : 4;
}
template <geometry g>
constexpr bool batch_parallel_cf() {
    return !g.cl && g.B >= 2;
}
// f(slot, b) for every batch item b, slot by slot over the pool (single-threaded BLAS inside).
template <geometry g, class F>
inline void for_items_by_slot(F&& f) {
    constexpr i64 S = item_slots<g>();
    blas::use_single_threaded_blas();
    parallel_for(
        S,
        [&](i64 s0, i64 s1) {
            for (i64 s = s0; s < s1; ++s)
                for (i64 b = g.B * s / S; b < g.B * (s + 1) / S; ++b) f(s, b);
        },
        1);
}

// Output rows (od * OH + oh) per column block of conv_item_cf: blocks of at most ~128 KiB of columns,
// so that im2col's writes and the GEMM's reads of them stay in the core's L2 cache (512 KiB on the
// Zen 1 machine) instead of going through memory (a 16-channel 32x32 3x3 layer has 576 KiB of
// columns per item); the rows are split evenly over the blocks.
template <geometry g>
constexpr i64 col_block_rows() {
    constexpr i64 rows = g.out[0] * g.out[1];
    constexpr i64 bytes = g.Cg * g.taps * g.out_sp * i64(sizeof(float));
    constexpr i64 blocks = (bytes + (i64(128) << 10) - 1) / (i64(128) << 10);
    constexpr i64 nb = blocks < rows ? blocks : rows;
    return (rows + nb - 1) / nb;
}

// The direct AVX2 kernels of kernels/conv_cf_direct.hpp take channel-first 2-D stride-1 convolutions
// whose output rows are whole vectors (not pointwise ones: those need no im2col and run one GEMM).
template <geometry g>
constexpr cfd::shape cf_direct_shape() {
    return {g.Cg,   g.Og,   g.in[1],  g.in[2],  g.out[1], g.out[2],
            g.k[1], g.k[2], g.pad[1], g.pad[2], g.dil[1], g.dil[2]};
}
template <geometry g>
constexpr bool cf_direct_2d() {
    return KATA_CPU_X86 && !g.cl && !g.pointwise() && g.in[0] == 1 && g.out[0] == 1 && g.k[0] == 1 &&
           g.stride[0] == 1 && g.stride[1] == 1 && g.stride[2] == 1;
}
template <geometry g>
constexpr bool cf_direct_forward() {
    return cf_direct_2d<g>() && cf_direct_shape<g>().forward_ok();
}

// Floats of one slot's column buffer: one block of col_block_rows (0 when im2col is the identity),
// or the direct kernel's zero-padded copy of one item and group, whichever is larger.
template <geometry g>
constexpr i64 col_floats() {
    const i64 cols = g.pointwise() ? 0 : g.Cg * g.taps * col_block_rows<g>() * g.out[2];
    if constexpr (cf_direct_forward<g>())
        return std::max(cols, cf_direct_shape<g>().padded_floats());
    else
        return cols;
}

// Winograd F(2x2, 3x3) (kernels/conv_cf_winograd.hpp) takes the channel-first 3x3 stride-1 dilation-1
// group-1 convolutions at batch > 1 with at least 8 input and 8 output channels (below, the transforms
// cost more than the products they save: ResNet's 3-channel stem keeps the direct kernel), unless
// KATA_CPU_WINOGRAD is 0.
template <geometry g>
constexpr wino::shape cf_winograd_shape() {
    return {g.Cg, g.Og, g.in[1], g.in[2], g.out[1], g.out[2], g.pad[1], g.pad[2]};
}
template <geometry g>
constexpr bool cf_winograd() {
    return KATA_CPU_WINOGRAD && cf_direct_2d<g>() && batch_parallel_cf<g>() && g.G == 1 && g.k[1] == 3 &&
           g.k[2] == 3 && g.dil[1] == 1 && g.dil[2] == 1 && g.Cg >= 8 && g.Og >= 8 &&
           cf_winograd_shape<g>().ok();
}
// The filter gradient's Winograd kernel is opt-in (see conv_cf_winograd.hpp).
template <geometry g>
constexpr bool cf_winograd_filter_grad() {
    return KATA_CPU_WINOGRAD_FILTER_GRAD && cf_winograd<g>();
}
// Floats per slot of the batch-parallel forward: col_floats, or Winograd's scratch (padded copy and one
// block of V and M) where it runs, whichever is larger.
template <geometry g>
constexpr i64 cf_slot_floats() {
    if constexpr (cf_winograd<g>())
        return std::max(col_floats<g>(), cf_winograd_shape<g>().scratch_floats());
    else
        return col_floats<g>();
}
// Workspace floats of the batch-parallel forward: the slots', then Winograd's transformed weights.
template <geometry g>
constexpr i64 cf_forward_floats() {
    if constexpr (cf_winograd<g>())
        return item_slots<g>() * cf_slot_floats<g>() + cf_winograd_shape<g>().weight_floats();
    else
        return item_slots<g>() * cf_slot_floats<g>();
}

// One item of a channel-first convolution on the calling thread: y_b = W . im2col(x_b) per group
// (plus bias), im2col and GEMM block by block of output rows. col: col_floats<g>() floats.
template <geometry g>
inline void conv_item_cf(const float* xb, const float* w, const float* bias, float* yb, float* col) {
    constexpr i64 K = g.Cg * g.taps;
#if KATA_CPU_X86
    if constexpr (cf_direct_forward<g>()) {
        if (simd::use_avx2_fma()) {
            for (i64 gi = 0; gi < g.G; ++gi)
                cfd::forward_item<cf_direct_shape<g>()>(xb + gi * g.Cg * g.in_sp, w + gi * g.Og * K,
                                                        bias ? bias + gi * g.Og : nullptr,
                                                        yb + gi * g.Og * g.out_sp, col);
            return;
        }
    }
#endif
    constexpr i64 rows = g.out[0] * g.out[1], R = col_block_rows<g>();
    if (bias) fill_rows(yb, g.O, g.out_sp, g.out_sp, bias);
    const float beta = bias ? 1.f : 0.f;
    for (i64 gi = 0; gi < g.G; ++gi) {
        const float* xg = xb + gi * g.Cg * g.in_sp;
        const float* wg = w + gi * g.Og * K;
        float* yg = yb + gi * g.Og * g.out_sp;
        if constexpr (g.pointwise()) {
            blas::detail::sgemm1(false, false, g.Og, g.out_sp, K, 1.f, wg, K, xg, g.out_sp, beta, yg,
                                 g.out_sp);
        } else {
            for (i64 q0 = 0; q0 < rows; q0 += R) {
                const i64 q1 = std::min(rows, q0 + R), n = (q1 - q0) * g.out[2];
                im2col_cf_rows<g>(xg, col, 0, K, q0, q1);
                blas::detail::sgemm1(false, false, g.Og, n, K, 1.f, wg, K, col, n, beta, yg + q0 * g.out[2],
                                     g.out_sp);
            }
        }
    }
}

// The batch-parallel channel-first forward: Winograd where cf_winograd<g>() (weights transformed once
// into the workspace after the slots'), else conv_item_cf per item. ws: cf_forward_floats<g>() floats.
template <geometry g>
inline void conv_forward_cf_items(const float* x, const float* w, const float* bias, float* y, float* ws) {
#if KATA_CPU_X86
    if constexpr (cf_winograd<g>()) {
        if (simd::use_avx2_fma()) {
            constexpr wino::shape q = cf_winograd_shape<g>();
            constexpr i64 S = item_slots<g>();
            float* u = ws + S * cf_slot_floats<g>();
            wino::transform_weights<q>(w, u);
            for_items_by_slot<g>([&](i64 s, i64 b) {
                wino::forward_item<q>(x + b * g.C * g.in_sp, u, bias, y + b * g.O * g.out_sp,
                                      ws + s * cf_slot_floats<g>(), b == g.B * s / S);
            });
            return;
        }
    }
#endif
    for_items_by_slot<g>([&](i64 s, i64 b) {
        conv_item_cf<g>(x + b * g.C * g.in_sp, w, bias, y + b * g.O * g.out_sp, ws + s * cf_slot_floats<g>());
    });
}

// Channel-last im2col for one batch item and one group: x points at the item's first element plus the
// group's channel offset (row stride C), col is (out_sp, taps * Cg) with columns ordered (kd, kh, kw, c)
// like W's (k.., C/g) trailing axes.
template <geometry g>
inline void im2col_cl(const float* x, float* col) {
    constexpr i64 IH = g.in[1], IW = g.in[2], ID = g.in[0];
    constexpr i64 OH = g.out[1], OW = g.out[2];
    constexpr i64 K = g.taps * g.Cg;
    parallel_for(
        g.out[0] * OH,
        [&](i64 r0, i64 r1) {
            for (i64 r = r0; r < r1; ++r) {
                const i64 od = r / OH, oh = r % OH;
                for (i64 ow = 0; ow < OW; ++ow) {
                    float* o = col + ((od * OH + oh) * OW + ow) * K;
                    for (i64 kd = 0; kd < g.k[0]; ++kd) {
                        const i64 id = od * g.stride[0] - g.pad[0] + kd * g.dil[0];
                        for (i64 kh = 0; kh < g.k[1]; ++kh) {
                            const i64 ih = oh * g.stride[1] - g.pad[1] + kh * g.dil[1];
                            for (i64 kw = 0; kw < g.k[2]; ++kw, o += g.Cg) {
                                const i64 iw = ow * g.stride[2] - g.pad[2] + kw * g.dil[2];
                                if (id < 0 || id >= ID || ih < 0 || ih >= IH || iw < 0 || iw >= IW)
                                    std::memset(o, 0, sizeof(float) * g.Cg);
                                else
                                    std::memcpy(o, x + ((id * IH + ih) * IW + iw) * g.C,
                                                sizeof(float) * g.Cg);
                            }
                        }
                    }
                }
            }
        },
        1);
}

// Direct convolution for C/g == 1 (each output channel j reads input channel j / Og), channel-first.
// w: (O, taps). Used for group == C and for DepthwiseConvolution (multiplier = Og).
template <geometry g>
inline void depthwise_cf(const float* x, const float* w, const float* bias, float* y) {
    constexpr i64 IH = g.in[1], IW = g.in[2], ID = g.in[0];
    constexpr i64 OD = g.out[0], OH = g.out[1], OW = g.out[2];
    parallel_for(
        g.B * g.O,
        [&](i64 q0, i64 q1) {
            for (i64 q = q0; q < q1; ++q) {
                const i64 b = q / g.O, j = q % g.O;
                const float* xc = x + (b * g.C + j / g.Og) * g.in_sp;
                const float* wj = w + j * g.taps;
                float* yj = y + q * g.out_sp;
                const float bv = bias ? bias[j] : 0.f;
                for (i64 i = 0; i < g.out_sp; ++i) yj[i] = bv;
                for (i64 kd = 0; kd < g.k[0]; ++kd)
                    for (i64 kh = 0; kh < g.k[1]; ++kh)
                        for (i64 kw = 0; kw < g.k[2]; ++kw) {
                            const float wv = wj[(kd * g.k[1] + kh) * g.k[2] + kw];
                            const i64 off_w = kw * g.dil[2] - g.pad[2];
                            i64 lo = off_w >= 0 ? 0 : (-off_w + g.stride[2] - 1) / g.stride[2];
                            i64 hi = IW - off_w <= 0 ? 0 : (IW - off_w + g.stride[2] - 1) / g.stride[2];
                            lo = std::min(lo, OW);
                            hi = std::clamp(hi, lo, OW);
                            for (i64 od = 0; od < OD; ++od) {
                                const i64 id = od * g.stride[0] - g.pad[0] + kd * g.dil[0];
                                if (id < 0 || id >= ID) continue;
                                for (i64 oh = 0; oh < OH; ++oh) {
                                    const i64 ih = oh * g.stride[1] - g.pad[1] + kh * g.dil[1];
                                    if (ih < 0 || ih >= IH) continue;
                                    const float* xr = xc + (id * IH + ih) * IW + off_w;
                                    float* o = yj + (od * OH + oh) * OW;
                                    for (i64 ow = lo; ow < hi; ++ow) o[ow] += wv * xr[ow * g.stride[2]];
                                }
                            }
                        }
            }
        },
        1);
}

// Direct convolution for C/g == 1, channel-last: y (B, S', O), x (B, S, C), w (O, k.., 1).
template <geometry g>
inline void depthwise_cl(const float* x, const float* w, const float* bias, float* y) {
    constexpr i64 IH = g.in[1], IW = g.in[2], ID = g.in[0];
    constexpr i64 OH = g.out[1], OW = g.out[2];
    parallel_for(
        g.B * g.out[0] * OH,
        [&](i64 r0, i64 r1) {
            for (i64 r = r0; r < r1; ++r) {
                const i64 b = r / (g.out[0] * OH), od = (r / OH) % g.out[0], oh = r % OH;
                const float* xb = x + b * g.in_sp * g.C;
                for (i64 ow = 0; ow < OW; ++ow) {
                    float* o = y + ((b * g.out[0] + od) * OH * OW + oh * OW + ow) * g.O;
                    for (i64 j = 0; j < g.O; ++j) o[j] = bias ? bias[j] : 0.f;
                    for (i64 kd = 0; kd < g.k[0]; ++kd) {
                        const i64 id = od * g.stride[0] - g.pad[0] + kd * g.dil[0];
                        if (id < 0 || id >= ID) continue;
                        for (i64 kh = 0; kh < g.k[1]; ++kh) {
                            const i64 ih = oh * g.stride[1] - g.pad[1] + kh * g.dil[1];
                            if (ih < 0 || ih >= IH) continue;
                            for (i64 kw = 0; kw < g.k[2]; ++kw) {
                                const i64 iw = ow * g.stride[2] - g.pad[2] + kw * g.dil[2];
                                if (iw < 0 || iw >= IW) continue;
                                const float* xp = xb + ((id * IH + ih) * IW + iw) * g.C;
                                const i64 t = (kd * g.k[1] + kh) * g.k[2] + kw;
                                for (i64 j = 0; j < g.O; ++j) o[j] += w[j * g.taps + t] * xp[j / g.Og];
                            }
                        }
                    }
                }
            }
        },
        1);
}

// ---- Depthwise channel-last, multiplier 1 (group == C == O: MobileNet's 3x3 layers), AVX2 + FMA -------
// The weights are first laid out as (taps, Cp) followed by the bias (Cp), Cp = C rounded up to 8 and
// zero-filled (at bind time in a frozen executor, in the workspace per call otherwise), so that one
// tap's weights for 8 channels are one aligned vector. Per output row (batch, depth, height), per
// vector of 8 channels: the k x k weight vectors stay in registers, the kernel rows that fall into
// the padding are dropped once for the whole row, and the row's pixels are split into a left border,
// an interior and a right border (compile-time bounds: every kw tap of an interior pixel is inside the
// image, so the interior runs without any bounds check, 4 pixels at a time for 4 independent FMA
// chains) and the borders check each tap. Channels past C (C % 8 != 0) use masked loads and stores.
// Bias, residual and ReLU are the epilogue before the single store. Sums in the order of depthwise_cl
// (bias, then taps in (kd, kh, kw) order).
template <geometry g>
constexpr bool depthwise_nhwc() {
    return g.cl && g.G > 1 && g.Cg == 1 && g.Og == 1;
}
template <geometry g>
constexpr i64 dw_cp() {
    return (g.C + 7) / 8 * 8;
}
template <geometry g>
constexpr i64 dw_packed_floats() {
    return (g.taps + 1) * dw_cp<g>();
}

// w (C, taps) and bias (C) or null -> packed (taps, Cp) + bias (Cp).
template <geometry g>
inline void dw_pack(const float* w, const float* bias, float* packed) {
    constexpr i64 Cp = dw_cp<g>();
    for (i64 t = 0; t < g.taps; ++t)
        for (i64 c = 0; c < Cp; ++c) packed[t * Cp + c] = c < g.C ? w[c * g.taps + t] : 0.f;
    for (i64 c = 0; c < Cp; ++c) packed[g.taps * Cp + c] = (bias && c < g.C) ? bias[c] : 0.f;
}

#if KATA_CPU_X86
// (Helpers rather than lambdas: a lambda does not inherit its enclosing function's target attribute.)
template <bool Tail>
KATA_CPU_AVX2_TARGET inline __m256 dw_load(const float* p, __m256i mask) {
    if constexpr (Tail)
        return _mm256_maskload_ps(p, mask);
    else
        return _mm256_loadu_ps(p);
}
template <bool Tail>
KATA_CPU_AVX2_TARGET inline void dw_store(float* o, const float* res, bool relu, __m256 a, __m256i mask) {
    if (res) a = _mm256_add_ps(a, dw_load<Tail>(res, mask));
    if (relu) a = _mm256_max_ps(a, _mm256_setzero_ps());
    if constexpr (Tail)
        _mm256_maskstore_ps(o, mask, a);
    else
        _mm256_storeu_ps(o, a);
}

// One vector of 8 channels (starting at c) of one output row. rows[j]: input row of kernel row j
// (j = kd * k1 + kh) at iw = 0, or null where it lies in the padding.
template <geometry g, bool Tail>
KATA_CPU_AVX2_TARGET inline void dw_block_avx2(const float* const* rows, const float* packed, i64 c,
                                               __m256i mask, const float* res, bool relu, float* y) {
    constexpr i64 C = g.C, Cp = dw_cp<g>(), IW = g.in[2], OW = g.out[2];
    constexpr i64 K2 = g.k[2], S2 = g.stride[2], P2 = g.pad[2], D2 = g.dil[2], NK = g.k[0] * g.k[1];
    // Interior [lo, hi): ow * S2 - P2 >= 0 and ow * S2 - P2 + (K2 - 1) * D2 <= IW - 1.
    constexpr i64 lo = std::min(OW, (P2 + S2 - 1) / S2);
    constexpr i64 last_in = IW - 1 + P2 - (K2 - 1) * D2;
    constexpr i64 hi = std::clamp(last_in < 0 ? i64(0) : last_in / S2 + 1, lo, OW);
    __m256 wv[NK][K2];
#pragma GCC unroll 16
    for (i64 j = 0; j < NK; ++j)
#pragma GCC unroll 16
        for (i64 kw = 0; kw < K2; ++kw) wv[j][kw] = _mm256_load_ps(packed + (j * K2 + kw) * Cp + c);
    const __m256 bias = _mm256_load_ps(packed + g.taps * Cp + c);
    const float* rc = res ? res + c : nullptr;
    float* yc = y + c;
    i64 ow = 0;
    for (bool right = false;; right = true) {
        // Border pixels: each tap checked.
        for (; ow < (right ? OW : lo); ++ow) {
            __m256 a = bias;
#pragma GCC unroll 16
            for (i64 j = 0; j < NK; ++j) {
                if (!rows[j]) continue;
#pragma GCC unroll 16
                for (i64 kw = 0; kw < K2; ++kw) {
                    const i64 iw = ow * S2 - P2 + kw * D2;
                    if (iw < 0 || iw >= IW) continue;
                    a = _mm256_fmadd_ps(dw_load<Tail>(rows[j] + iw * C + c, mask), wv[j][kw], a);
                }
            }
            dw_store<Tail>(yc + ow * C, rc ? rc + ow * C : nullptr, relu, a, mask);
        }
        if (right) break;
        // Interior: no bounds checks, 4 pixels at a time.
        for (; ow + 4 <= hi; ow += 4) {
            __m256 a0 = bias, a1 = bias, a2 = bias, a3 = bias;
#pragma GCC unroll 16
            for (i64 j = 0; j < NK; ++j) {
                if (!rows[j]) continue;
                const float* xr = rows[j] + (ow * S2 - P2) * C + c;
#pragma GCC unroll 16
                for (i64 kw = 0; kw < K2; ++kw) {
                    const float* xp = xr + kw * D2 * C;
                    a0 = _mm256_fmadd_ps(dw_load<Tail>(xp, mask), wv[j][kw], a0);
                    a1 = _mm256_fmadd_ps(dw_load<Tail>(xp + S2 * C, mask), wv[j][kw], a1);
                    a2 = _mm256_fmadd_ps(dw_load<Tail>(xp + 2 * S2 * C, mask), wv[j][kw], a2);
                    a3 = _mm256_fmadd_ps(dw_load<Tail>(xp + 3 * S2 * C, mask), wv[j][kw], a3);
                }
            }
            dw_store<Tail>(yc + ow * C, rc ? rc + ow * C : nullptr, relu, a0, mask);
            dw_store<Tail>(yc + (ow + 1) * C, rc ? rc + (ow + 1) * C : nullptr, relu, a1, mask);
            dw_store<Tail>(yc + (ow + 2) * C, rc ? rc + (ow + 2) * C : nullptr, relu, a2, mask);
            dw_store<Tail>(yc + (ow + 3) * C, rc ? rc + (ow + 3) * C : nullptr, relu, a3, mask);
        }
        for (; ow < hi; ++ow) {
            __m256 a = bias;
#pragma GCC unroll 16
            for (i64 j = 0; j < NK; ++j) {
                if (!rows[j]) continue;
                const float* xr = rows[j] + (ow * S2 - P2) * C + c;
#pragma GCC unroll 16
                for (i64 kw = 0; kw < K2; ++kw)
                    a = _mm256_fmadd_ps(dw_load<Tail>(xr + kw * D2 * C, mask), wv[j][kw], a);
            }
            dw_store<Tail>(yc + ow * C, rc ? rc + ow * C : nullptr, relu, a, mask);
        }
    }
}

// Output rows [r0, r1) (r = (b * OD + od) * OH + oh).
template <geometry g>
KATA_CPU_AVX2_TARGET void dw_rows_avx2(const float* x, const float* packed, const float* res, bool relu,
                                       float* y, i64 r0, i64 r1) {
    constexpr i64 C = g.C, ID = g.in[0], IH = g.in[1], IW = g.in[2], OD = g.out[0], OH = g.out[1],
                  OW = g.out[2];
    constexpr i64 K1 = g.k[1], NK = g.k[0] * g.k[1];
    constexpr i64 full = C / 8 * 8;
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i tail = _mm256_cmpgt_epi32(_mm256_set1_epi32(int(C - full)), lane);
    for (i64 r = r0; r < r1; ++r) {
        const i64 b = r / (OD * OH), od = (r / OH) % OD, oh = r % OH;
        const float* rows[NK];
        for (i64 j = 0; j < NK; ++j) {
            const i64 id = od * g.stride[0] - g.pad[0] + (j / K1) * g.dil[0];
            const i64 ih = oh * g.stride[1] - g.pad[1] + (j % K1) * g.dil[1];
            rows[j] = (id < 0 || id >= ID || ih < 0 || ih >= IH) ? nullptr
                                                                 : x + (((b * ID + id) * IH + ih) * IW) * C;
        }
        float* yr = y + r * OW * C;
        const float* rr = res ? res + r * OW * C : nullptr;
        for (i64 c = 0; c < full; c += 8) dw_block_avx2<g, false>(rows, packed, c, lane, rr, relu, yr);
        if constexpr (full < C) dw_block_avx2<g, true>(rows, packed, full, tail, rr, relu, yr);
    }
}
#endif

// The same on the packed weights without vector instructions (the portable variant of a frozen
// executor's depthwise layers: it reads the weights as packed at bind time, like the AVX2 one).
template <geometry g>
inline void dw_nhwc_portable(const float* x, const float* packed, const float* res, bool relu, float* y) {
    constexpr i64 C = g.C, Cp = dw_cp<g>(), ID = g.in[0], IH = g.in[1], IW = g.in[2];
    constexpr i64 OD = g.out[0], OH = g.out[1], OW = g.out[2];
    parallel_for(
        g.B * OD * OH,
        [&](i64 r0, i64 r1) {
            for (i64 r = r0; r < r1; ++r) {
                const i64 b = r / (OD * OH), od = (r / OH) % OD, oh = r % OH;
                for (i64 ow = 0; ow < OW; ++ow) {
                    float* o = y + (r * OW + ow) * C;
                    for (i64 j = 0; j < C; ++j) o[j] = packed[g.taps * Cp + j];
                    for (i64 kd = 0; kd < g.k[0]; ++kd) {
                        const i64 id = od * g.stride[0] - g.pad[0] + kd * g.dil[0];
                        if (id < 0 || id >= ID) continue;
                        for (i64 kh = 0; kh < g.k[1]; ++kh) {
                            const i64 ih = oh * g.stride[1] - g.pad[1] + kh * g.dil[1];
                            if (ih < 0 || ih >= IH) continue;
                            for (i64 kw = 0; kw < g.k[2]; ++kw) {
                                const i64 iw = ow * g.stride[2] - g.pad[2] + kw * g.dil[2];
                                if (iw < 0 || iw >= IW) continue;
                                const float* xp = x + (((b * ID + id) * IH + ih) * IW + iw) * C;
                                const float* wt = packed + ((kd * g.k[1] + kh) * g.k[2] + kw) * Cp;
                                for (i64 j = 0; j < C; ++j) o[j] += wt[j] * xp[j];
                            }
                        }
                    }
                    if (res || relu)
                        for (i64 j = 0; j < C; ++j) {
                            float v = o[j];
                            if (res) v = v + res[(r * OW + ow) * C + j];
                            if (relu) v = v > 0.f ? v : 0.f;
                            o[j] = v;
                        }
                }
            }
        },
        1);
}

// y = act(depthwise(x) + bias [+ res]) on weights packed by dw_pack(): the AVX2 + FMA kernel where
// the CPU has it (simd::use_avx2_fma()), else the portable loop.
template <geometry g>
inline void dw_nhwc_forward(const float* x, const float* packed, const float* res, bool relu, float* y) {
#if KATA_CPU_X86
    if (simd::use_avx2_fma()) {
        parallel_for(
            g.B * g.out[0] * g.out[1],
            [&](i64 r0, i64 r1) { dw_rows_avx2<g>(x, packed, res, relu, y, r0, r1); }, 1);
        return;
    }
#endif
    dw_nhwc_portable<g>(x, packed, res, relu, y);
}

// Whether a frozen executor runs this instance on depthwise weights packed at bind time.
template <op_instance I>
constexpr bool dw_packed_path() {
    constexpr geometry g = conv_geometry<I>();
    if constexpr (!depthwise_nhwc<g>() || I.type != dtype::f32 || I.nin < 2)
        return false;
    else
        return I.in_frozen[1] && (!(I.attr.has_bias && I.nin >= 3) || I.in_frozen[2]);
}

template <geometry g>
constexpr bool use_direct_depthwise() {
    return g.Cg == 1 && g.G > 1;
}

template <geometry g>
constexpr std::size_t conv_workspace() {
    if constexpr (depthwise_nhwc<g>())
        return std::size_t(dw_packed_floats<g>()) * sizeof(float);
    else if constexpr (use_direct_depthwise<g>() || g.pointwise())
        return 0;
    else if constexpr (batch_parallel_cf<g>())
        return std::size_t(cf_forward_floats<g>()) * sizeof(float);
    else
        return std::size_t(g.Cg * g.taps * g.out_sp) * sizeof(float);
}

// The whole forward for a geometry (shared by Convolution and DepthwiseConvolution).
template <geometry g>
inline void conv_forward(const float* x, const float* w, const float* bias, float* y, std::byte* ws) {
    constexpr i64 K = g.Cg * g.taps;  // reduction length per group
    if constexpr (use_direct_depthwise<g>()) {
        if constexpr (depthwise_nhwc<g>()) {
            if (simd::use_avx2_fma()) {
                float* packed = reinterpret_cast<float*>(ws);
                dw_pack<g>(w, bias, packed);
                dw_nhwc_forward<g>(x, packed, nullptr, false, y);
                return;
            }
        }
        if constexpr (g.cl)
            depthwise_cl<g>(x, w, bias, y);
        else
            depthwise_cf<g>(x, w, bias, y);
    } else if constexpr (batch_parallel_cf<g>()) {
        conv_forward_cf_items<g>(x, w, bias, y, reinterpret_cast<float*>(ws));
    } else if constexpr (!g.cl) {
        float* col = reinterpret_cast<float*>(ws);
        for (i64 b = 0; b < g.B; ++b) {
            const float* xb = x + b * g.C * g.in_sp;
            float* yb = y + b * g.O * g.out_sp;
            if (bias) fill_rows(yb, g.O, g.out_sp, g.out_sp, bias);
            const float beta = bias ? 1.f : 0.f;
            for (i64 gi = 0; gi < g.G; ++gi) {
                const float* xg = xb + gi * g.Cg * g.in_sp;
                const float* B = xg;
                if constexpr (!g.pointwise()) {
                    im2col_cf<g>(xg, col);
                    B = col;
                }
                blas::sgemm(false, false, g.Og, g.out_sp, K, 1.f, w + gi * g.Og * K, K, B, g.out_sp, beta,
                            yb + gi * g.Og * g.out_sp, g.out_sp);
            }
        }
    } else {
        const float beta = bias ? 1.f : 0.f;
        if constexpr (g.pointwise()) {
            // Batch folded into M: Y(B*S, O) = X(B*S, C) . W^T, per group with strided columns.
            if (bias) fill_cols(y, g.B * g.out_sp, g.O, g.O, bias);
            for (i64 gi = 0; gi < g.G; ++gi)
                blas::sgemm(false, true, g.B * g.out_sp, g.Og, g.Cg, 1.f, x + gi * g.Cg, g.C,
                            w + gi * g.Og * g.Cg, g.Cg, beta, y + gi * g.Og, g.O);
        } else {
            float* col = reinterpret_cast<float*>(ws);
            for (i64 b = 0; b < g.B; ++b) {
                const float* xb = x + b * g.C * g.in_sp;
                float* yb = y + b * g.O * g.out_sp;
                if (bias) fill_cols(yb, g.out_sp, g.O, g.O, bias);
                for (i64 gi = 0; gi < g.G; ++gi) {
                    im2col_cl<g>(xb + gi * g.Cg, col);
                    blas::sgemm(false, true, g.out_sp, g.Og, K, 1.f, col, K, w + gi * g.Og * K, K, beta,
                                yb + gi * g.Og, g.O);
                }
            }
        }
    }
}

}  // namespace detail

// In a frozen executor, a channel-last group-1 convolution whose weight (and bias) are parameters runs
// the direct NHWC kernel on weights packed at bind time (kernels/conv_nhwc.hpp), a grouped one
// (1 < group, not depthwise) the direct grouped kernel (kernels/conv_grouped.hpp); everything else, and
// every convolution of a live executor, runs the im2col / GEMM path above. The choice is
// detail::packed_path(I): a compile-time property of the op instance.
template <>
struct kernel<op_kind::convolution> {
    static constexpr bool bind_time_preparation = true;

    template <op_instance I>
    static constexpr std::size_t prepared_bytes() {
        if constexpr (detail::packed_path(I))
            return std::size_t(detail::packed_floats(detail::make_params(I))) * sizeof(float);
        else if constexpr (detail::dw_packed_path<I>())
            return std::size_t(detail::dw_packed_floats<detail::conv_geometry<I>()>()) * sizeof(float);
        else if constexpr (detail::grouped_path(I))
            return std::size_t(detail::grouped_packed_floats(detail::make_gparams(I))) * sizeof(float);
        else
            return 0;
    }
    // The packed paths hold W and b in the prepared copy: run() never reads inputs 1 and 2 there, so
    // a frozen executor may release the source's copies (exec::executor::release_prepared_parameters).
    template <op_instance I>
    static constexpr bool prepared_input(int k) {
        if constexpr (detail::packed_path(I) || detail::dw_packed_path<I>() || detail::grouped_path(I))
            return k == 1 || (k == 2 && I.attr.has_bias && I.nin >= 3);
        else
            return false;
    }
    template <op_instance I>
    static void prepare(const prepare_io& io) {
        if constexpr (detail::dw_packed_path<I>()) {
            detail::dw_pack<detail::conv_geometry<I>()>(io.input(1), I.attr.has_bias ? io.input(2) : nullptr,
                                                        reinterpret_cast<float*>(io.prepared));
        } else if constexpr (detail::grouped_path(I)) {
            constexpr detail::gparams Q = detail::make_gparams(I);
            detail::grouped_pack(Q, io.input(1), Q.g.has_bias ? io.input(2) : nullptr,
                                 reinterpret_cast<float*>(io.prepared));
        } else {
            constexpr detail::params P = detail::make_params(I);
            detail::pack(P, io.input(1), P.has_bias ? io.input(2) : nullptr,
                         reinterpret_cast<float*>(io.prepared));
        }
    }
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        if constexpr (detail::packed_path(I))
            return std::size_t(detail::scratch_floats(detail::make_params(I))) * sizeof(float);
        else if constexpr (detail::dw_packed_path<I>())
            return 0;
        else if constexpr (detail::grouped_path(I))
            return std::size_t(detail::grouped_scratch_floats(detail::make_gparams(I))) * sizeof(float);
        else
            return detail::conv_workspace<detail::conv_geometry<I>()>();
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        if constexpr (detail::packed_path(I)) {
            constexpr detail::params P = detail::make_params(I);
            detail::forward(P, io.input(0), reinterpret_cast<const float*>(io.prepared), nullptr, false,
                            io.output(), reinterpret_cast<float*>(io.workspace));
        } else if constexpr (detail::dw_packed_path<I>()) {
            detail::dw_nhwc_forward<detail::conv_geometry<I>()>(
                io.input(0), reinterpret_cast<const float*>(io.prepared), nullptr, false, io.output());
        } else if constexpr (detail::grouped_path(I)) {
            detail::grouped_forward(detail::make_gparams(I), io.input(0),
                                    reinterpret_cast<const float*>(io.prepared), nullptr, false, io.output(),
                                    reinterpret_cast<float*>(io.workspace));
        } else {
            constexpr detail::geometry g = detail::conv_geometry<I>();
            detail::conv_forward<g>(io.input(0), io.input(1), I.attr.has_bias ? io.input(2) : nullptr,
                                    io.output(), io.workspace);
        }
    }
};

}  // namespace kata::cpu
