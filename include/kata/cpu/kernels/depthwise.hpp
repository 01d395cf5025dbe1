// kata/cpu/kernels/depthwise.hpp
//
// CPU kernels for nnabla's DepthwiseConvolution and DepthwiseDeconvolution (channel-first, 1-D/2-D,
// base_axis >= 1).
//
// DepthwiseConvolution(multiplier m): x (B, C, S..), W (C*m, k..), y (B, C*m, S'..);
//   y[j] = conv(x[j / m], W[j]) (+ b[j]): a grouped convolution with group = C and W (C*m, 1, k..).
//   It shares the direct per-channel loop of kernels/convolution.hpp (kata::cpu::detail::depthwise_cf):
//   with one input channel per group a GEMM would have K = taps only.
// DepthwiseDeconvolution(divisor d): x (B, C, S..), W (C, k..), y (B, C/d, S'..);
//   y[j] = sum_{c = j*d .. j*d+d-1} deconv(x[c], W[c]) (+ b[j]): torch conv_transpose with
//   groups = C/d and W reshaped (C, 1, k..). Direct scatter loop, split over (batch, output channel)
//   so the cores never write the same plane.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "../kernel.hpp"
#include "../parallel.hpp"
#include "convolution.hpp"

namespace kata::cpu {

namespace detail {

using kata::cpu::detail::geometry;
using i64 = std::int64_t;

template <op_instance I>
constexpr geometry dwconv_geometry() {
    constexpr i64 C = I.in[0].dims[I.attr.base_axis];
    return kata::cpu::detail::make_geometry(I, C, C * I.attr.group, C, false);
}

template <op_instance I>
constexpr geometry dwdeconv_geometry() {
    constexpr i64 C = I.in[0].dims[I.attr.base_axis];
    return kata::cpu::detail::make_geometry(I, C, C / I.attr.group, C / I.attr.group, false);
}

// y (B, O, S'), x (B, C, S), w (C, taps); output channel j sums input channels j*Cg .. j*Cg+Cg-1.
template <geometry g>
inline void dwdeconv_forward(const float* x, const float* w, const float* bias, float* y) {
    constexpr i64 ID = g.in[0], IH = g.in[1], IW = g.in[2];
    constexpr i64 OD = g.out[0], OH = g.out[1], OW = g.out[2];
    parallel_for(
        g.B * g.O,
        [&](i64 q0, i64 q1) {
            for (i64 q = q0; q < q1; ++q) {
                const i64 b = q / g.O, j = q % g.O;
                float* yj = y + q * g.out_sp;
                const float bv = bias ? bias[j] : 0.f;
                for (i64 i = 0; i < g.out_sp; ++i) yj[i] = bv;
                for (i64 ci = 0; ci < g.Cg; ++ci) {
                    const i64 c = j * g.Cg + ci;
                    const float* xc = x + (b * g.C + c) * g.in_sp;
                    const float* wc = w + c * g.taps;
                    for (i64 t = 0; t < g.taps; ++t) {
                        const i64 kd = t / (g.k[1] * g.k[2]), kh = (t / g.k[2]) % g.k[1], kw = t % g.k[2];
                        const float wv = wc[t];
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
                                const float* xr = xc + (id * IH + ih) * IW;
                                float* yr = yj + (od * OH + oh) * OW + off_w;
                                for (i64 iw = lo; iw < hi; ++iw) yr[iw * g.stride[2]] += wv * xr[iw];
                            }
                        }
                    }
                }
            }
        },
        1);
}

}  // namespace detail

template <>
struct kernel<op_kind::depthwise_convolution> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        constexpr detail::geometry g = detail::dwconv_geometry<I>();
        detail::depthwise_cf<g>(io.input(0), io.input(1), I.attr.has_bias ? io.input(2) : nullptr,
                                io.output());
    }
};

template <>
struct kernel<op_kind::depthwise_deconvolution> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        constexpr detail::geometry g = detail::dwdeconv_geometry<I>();
        detail::dwdeconv_forward<g>(io.input(0), io.input(1), I.attr.has_bias ? io.input(2) : nullptr,
                                    io.output());
    }
};

}  // namespace kata::cpu
