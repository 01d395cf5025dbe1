// kata/cpu/kernels/deconvolution.hpp
//
// CPU kernel for nnabla's Deconvolution (transposed convolution; 1-D/2-D/3-D, pad/stride/dilation,
// output_padding, group, channel-first and channel-last, base_axis >= 1).
//
// Layouts (docs/nnabla-semantics.md §0.1): channel-first x (B, C, S..), W (C, O/g, k..), y (B, O, S'..);
//                     channel-last  x (B, S.., C), W (C, k.., O/g), y (B, S'.., O). Bias (O,).
// y[o, i*s - p + t*d] += x[c, i] * W[c, o, t]; output size (i-1)s - 2p + d(k-1) + 1 + output_padding
// (output_padding only enlarges y; the extra positions receive whatever taps reach them, or the bias).
//
// Design: the adjoint of im2col + GEMM (as in nnabla/Caffe):
//   channel-first, per batch item and group: col(O/g*taps, S) = W_g^T(O/g*taps, C/g) . X_g(C/g, S),
//     then col2im scatters col into y (split over output channels: no write conflicts);
//   channel-last: col(S, taps*O/g) = X_g(S, C/g; ld C) . W_g(C/g, taps*O/g), then a gather-style
//     col2im over output rows (conflict-free when split across cores).
//   1x1 / stride 1 / pad 0: col2im is the identity, the sgemm writes y directly (beta = 1 over the bias
//   or 0 fill); channel-last folds the batch into M.
// y is initialised with the bias (or 0) once; every group accumulates into its own channels.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../gemm.hpp"
#include "../kernel.hpp"
#include "../parallel.hpp"
#include "convolution.hpp"

namespace kata::cpu {

namespace detail {

using kata::cpu::detail::geometry;
using i64 = std::int64_t;

template <op_instance I>
constexpr geometry deconv_geometry() {
    constexpr bool cl = I.attr.channel_last;
    constexpr int cax = cl ? I.in[0].rank - 1 : I.attr.base_axis;
    constexpr i64 C = I.in[0].dims[cax];
    constexpr i64 Og = cl ? I.in[1].dims[I.in[1].rank - 1] : I.in[1].dims[1];
    return kata::cpu::detail::make_geometry(I, C, Og * I.attr.group, I.attr.group, cl);
}

// Channel-first col2im for one batch item and one group: col (Og*taps, in_sp) rows (o, kd, kh, kw);
// y points at the group's first output channel.
template <geometry g>
inline void col2im_cf(const float* col, float* y) {
    constexpr i64 ID = g.in[0], IH = g.in[1], IW = g.in[2];
    constexpr i64 OD = g.out[0], OH = g.out[1], OW = g.out[2];
    parallel_for(
        g.Og,
        [&](i64 o0, i64 o1) {
            for (i64 o = o0; o < o1; ++o) {
                float* yo = y + o * g.out_sp;
                for (i64 t = 0; t < g.taps; ++t) {
                    const i64 kd = t / (g.k[1] * g.k[2]), kh = (t / g.k[2]) % g.k[1], kw = t % g.k[2];
                    const float* cr = col + (o * g.taps + t) * g.in_sp;
                    // Valid iw: 0 <= iw*s + off_w < OW.
                    const i64 off_w = kw * g.dil[2] - g.pad[2];
                    i64 lo = off_w >= 0 ? 0 : (-off_w + g.stride[2] - 1) / g.stride[2];
                    i64 hi = OW - off_w <= 0 ? 0 : (OW - off_w + g.stride[2] - 1) / g.stride[2];
                    lo = std::min(lo, IW);
                    hi = std::clamp(hi, lo, IW);
                    for (i64 id = 0; id < ID; ++id) {
                        const i64 od = id * g.stride[0] - g.pad[0] + kd * g.dil[0];
                        if (od < 0 || od >= OD) continue;
                        for (i64 ih = 0; ih < IH; ++ih) {
                            const i64 oh = ih * g.stride[1] - g.pad[1] + kh * g.dil[1];
                            if (oh < 0 || oh >= OH) continue;
                            const float* c = cr + (id * IH + ih) * IW;
                            float* yr = yo + (od * OH + oh) * OW + off_w;
                            for (i64 iw = lo; iw < hi; ++iw) yr[iw * g.stride[2]] += c[iw];
                        }
                    }
                }
            }
        },
        1);
}

// Channel-last col2im (gather) for one batch item and one group: col (in_sp, taps*Og) columns (t, o);
// y points at the item's first element plus the group's channel offset (row stride O).
template <geometry g>
inline void col2im_cl(const float* col, float* y) {
    constexpr i64 ID = g.in[0], IH = g.in[1], IW = g.in[2];
    constexpr i64 OH = g.out[1], OW = g.out[2];
    constexpr i64 N = g.taps * g.Og;
    parallel_for(
        g.out[0] * OH,
        [&](i64 r0, i64 r1) {
            for (i64 r = r0; r < r1; ++r) {
                const i64 od = r / OH, oh = r % OH;
                for (i64 ow = 0; ow < OW; ++ow) {
                    float* yp = y + ((od * OH + oh) * OW + ow) * g.O;
                    for (i64 kd = 0; kd < g.k[0]; ++kd) {
                        const i64 nd = od + g.pad[0] - kd * g.dil[0];
                        if (nd < 0 || nd % g.stride[0]) continue;
                        const i64 id = nd / g.stride[0];
                        if (id >= ID) continue;
                        for (i64 kh = 0; kh < g.k[1]; ++kh) {
                            const i64 nh = oh + g.pad[1] - kh * g.dil[1];
                            if (nh < 0 || nh % g.stride[1]) continue;
                            const i64 ih = nh / g.stride[1];
                            if (ih >= IH) continue;
                            for (i64 kw = 0; kw < g.k[2]; ++kw) {
                                const i64 nw = ow + g.pad[2] - kw * g.dil[2];
                                if (nw < 0 || nw % g.stride[2]) continue;
                                const i64 iw = nw / g.stride[2];
                                if (iw >= IW) continue;
                                const i64 t = (kd * g.k[1] + kh) * g.k[2] + kw;
                                const float* c = col + ((id * IH + ih) * IW + iw) * N + t * g.Og;
                                for (i64 o = 0; o < g.Og; ++o) yp[o] += c[o];
                            }
                        }
                    }
                }
            }
        },
        1);
}

template <geometry g>
constexpr std::size_t deconv_workspace() {
    if constexpr (g.pointwise())
        return 0;
    else
        return std::size_t(g.Og * g.taps * g.in_sp) * sizeof(float);
}

template <geometry g>
inline void deconv_forward(const float* x, const float* w, const float* bias, float* y, std::byte* ws) {
    constexpr i64 N = g.Og * g.taps;  // per-group W row length (channel-first: (o, t); channel-last: (t, o))
    float* col = reinterpret_cast<float*>(ws);
    if constexpr (!g.cl) {
        for (i64 b = 0; b < g.B; ++b) {
            const float* xb = x + b * g.C * g.in_sp;
            float* yb = y + b * g.O * g.out_sp;
            if (bias || !g.pointwise()) kata::cpu::detail::fill_rows(yb, g.O, g.out_sp, g.out_sp, bias);
            const float beta = bias ? 1.f : 0.f;
            for (i64 gi = 0; gi < g.G; ++gi) {
                const float* wg = w + gi * g.Cg * N;
                const float* xg = xb + gi * g.Cg * g.in_sp;
                float* yg = yb + gi * g.Og * g.out_sp;
                if constexpr (g.pointwise()) {
                    blas::sgemm(true, false, g.Og, g.in_sp, g.Cg, 1.f, wg, N, xg, g.in_sp, beta, yg,
                                g.out_sp);
                } else {
                    blas::sgemm(true, false, N, g.in_sp, g.Cg, 1.f, wg, N, xg, g.in_sp, 0.f, col, g.in_sp);
                    col2im_cf<g>(col, yg);
                }
            }
        }
    } else {
        if constexpr (g.pointwise()) {
            const float beta = bias ? 1.f : 0.f;
            if (bias) kata::cpu::detail::fill_cols(y, g.B * g.out_sp, g.O, g.O, bias);
            for (i64 gi = 0; gi < g.G; ++gi)
                blas::sgemm(false, false, g.B * g.in_sp, g.Og, g.Cg, 1.f, x + gi * g.Cg, g.C,
                            w + gi * g.Cg * N, N, beta, y + gi * g.Og, g.O);
        } else {
            for (i64 b = 0; b < g.B; ++b) {
                const float* xb = x + b * g.C * g.in_sp;
                float* yb = y + b * g.O * g.out_sp;
                kata::cpu::detail::fill_cols(yb, g.out_sp, g.O, g.O, bias);
                for (i64 gi = 0; gi < g.G; ++gi) {
                    blas::sgemm(false, false, g.in_sp, N, g.Cg, 1.f, xb + gi * g.Cg, g.C, w + gi * g.Cg * N,
                                N, 0.f, col, N);
                    col2im_cl<g>(col, yb + gi * g.Og);
                }
            }
        }
    }
}

}  // namespace detail

template <>
struct kernel<op_kind::deconvolution> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return detail::deconv_workspace<detail::deconv_geometry<I>()>();
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        constexpr detail::geometry g = detail::deconv_geometry<I>();
        detail::deconv_forward<g>(io.input(0), io.input(1), I.attr.has_bias ? io.input(2) : nullptr,
                                  io.output(), io.workspace);
    }
};

}  // namespace kata::cpu
