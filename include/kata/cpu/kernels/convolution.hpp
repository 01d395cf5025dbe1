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
//   * depthwise-like groups (C/g == 1, e.g. group == C, and DepthwiseConvolution) would be O(C) tiny
//     GEMMs: a direct loop over output channels instead (shared with kernels/depthwise.hpp).
//   * bias: Y is initialised with the bias and the sgemm runs with beta = 1 (nothing else is fused).
// In a frozen executor, channel-last group-1 convolutions with parameter weights run the direct NHWC
// kernel on weights packed at bind time instead (kernels/conv_nhwc.hpp; see kernel<convolution>).
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
template <geometry g>
inline void im2col_cf(const float* x, float* col) {
    constexpr i64 rows = g.Cg * g.taps;
    constexpr i64 IH = g.in[1], IW = g.in[2], ID = g.in[0];
    constexpr i64 OD = g.out[0], OH = g.out[1], OW = g.out[2];
    parallel_for(
        rows,
        [&](i64 r0, i64 r1) {
            for (i64 r = r0; r < r1; ++r) {
                const i64 c = r / g.taps;
                const i64 t = r % g.taps;
                const i64 kd = t / (g.k[1] * g.k[2]), kh = (t / g.k[2]) % g.k[1], kw = t % g.k[2];
                const float* xc = x + c * g.in_sp;
                float* out = col + r * g.out_sp;
                // Valid ow range: 0 <= ow*s - p + kw*d < IW.
                const i64 off_w = kw * g.dil[2] - g.pad[2];
                i64 lo = off_w >= 0 ? 0 : (-off_w + g.stride[2] - 1) / g.stride[2];
                i64 hi = IW - off_w <= 0 ? 0 : (IW - off_w + g.stride[2] - 1) / g.stride[2];
                lo = std::min(lo, OW);
                hi = std::clamp(hi, lo, OW);
                for (i64 od = 0; od < OD; ++od) {
                    const i64 id = od * g.stride[0] - g.pad[0] + kd * g.dil[0];
                    for (i64 oh = 0; oh < OH; ++oh) {
                        float* o = out + (od * OH + oh) * OW;
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
        },
        std::max<i64>(1, 4096 / std::max<i64>(1, g.out_sp)));
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

template <geometry g>
constexpr bool use_direct_depthwise() {
    return g.Cg == 1 && g.G > 1;
}

template <geometry g>
constexpr std::size_t conv_workspace() {
    if constexpr (use_direct_depthwise<g>() || g.pointwise())
        return 0;
    else
        return std::size_t(g.Cg * g.taps * g.out_sp) * sizeof(float);
}

// The whole forward for a geometry (shared by Convolution and DepthwiseConvolution).
template <geometry g>
inline void conv_forward(const float* x, const float* w, const float* bias, float* y, std::byte* ws) {
    constexpr i64 K = g.Cg * g.taps;  // reduction length per group
    if constexpr (use_direct_depthwise<g>()) {
        if constexpr (g.cl)
            depthwise_cl<g>(x, w, bias, y);
        else
            depthwise_cf<g>(x, w, bias, y);
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
// the direct NHWC kernel on weights packed at bind time (kernels/conv_nhwc.hpp); everything else, and
// every convolution of a live executor, runs the im2col / GEMM path above. The choice is
// detail::packed_path(I): a compile-time property of the op instance.
template <>
struct kernel<op_kind::convolution> {
    static constexpr bool bind_time_preparation = true;

    template <op_instance I>
    static constexpr std::size_t prepared_bytes() {
        if constexpr (detail::packed_path(I))
            return std::size_t(detail::packed_floats(detail::make_params(I))) * sizeof(float);
        else
            return 0;
    }
    template <op_instance I>
    static void prepare(const prepare_io& io) {
        constexpr detail::params P = detail::make_params(I);
        detail::pack(P, io.input(1), P.has_bias ? io.input(2) : nullptr,
                     reinterpret_cast<float*>(io.prepared));
    }
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        if constexpr (detail::packed_path(I))
            return std::size_t(detail::scratch_floats(detail::make_params(I))) * sizeof(float);
        else
            return detail::conv_workspace<detail::conv_geometry<I>()>();
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        if constexpr (detail::packed_path(I)) {
            constexpr detail::params P = detail::make_params(I);
            detail::forward(P, io.input(0), reinterpret_cast<const float*>(io.prepared), nullptr, false,
                            io.output(), reinterpret_cast<float*>(io.workspace));
        } else {
            constexpr detail::geometry g = detail::conv_geometry<I>();
            detail::conv_forward<g>(io.input(0), io.input(1), I.attr.has_bias ? io.input(2) : nullptr,
                                    io.output(), io.workspace);
        }
    }
};

}  // namespace kata::cpu
