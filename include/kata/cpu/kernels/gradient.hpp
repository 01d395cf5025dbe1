// kata/cpu/kernels/gradient.hpp
//
// CPU kernels of the reductions, the losses and the gradient kinds (kata/ops/reduction.hpp, loss.hpp,
// gradient.hpp), all allocation-free like every kernel (the executor plans their buffers and scratch).
//
//   Sum / Mean, BroadcastGrad   an odometer over x's index space with the reduced axes' output stride 0;
//                               Sum/Mean accumulate in double (workspace); when the kept axes are
//                               adjacent, contiguous runs with four double partials instead
//   SoftmaxCrossEntropy(+Grad)  per (outer, inner) position: max-shifted log-sum-exp along the axis
//   AffineDataGrad / FilterGrad one sgemm each (kata/cpu/gemm.hpp)
//   ConvolutionDataGrad         per batch item and group: col = W_g^T dY_g (sgemm), then col2im adds col
//                               into dx (channel-first: rows of one input channel together, channels
//                               split over kata's pool; channel-last: serial). Channel-first with
//                               batch > 1: whole items per pool thread (convolution.hpp's
//                               for_items_by_slot), and with stride 1 and pad <= dil (k - 1) the
//                               gradient runs as the forward convolution of dY with flipped weights
//   ConvolutionFilterGrad       per batch item and group: im2col of x (the forward's), dW_g += dY_g col^T
//                               (channel-last: dY_g^T col). Channel-first with batch > 1: whole items
//                               per pool thread, one partial dW per slot, added in slot order
//   MaxPoolingGrad              the forward's windows; dy goes to the first maximum of each window
//                               (strictly greater wins, padding never wins: nnabla's arg-max);
//                               channel-first non-overlapping windows (kernel == stride, no padding):
//                               each dx written once, the arg-max found with selects. Pooling
//                               gradients of >= 64K values: planes split over kata's pool
//   AveragePoolingGrad          dy / divisor to every valid input of the window (the forward's divisor)
//   SumPoolingGrad              dy to every valid input of the window
//   EmbedFilterGrad             zero, then dW[idx[i]] += dy[i]
//   ConcatenateGrad             one memcpy per outer index
//   FixedPointQuantizeGrad      dy inside the forward's [min, max], 0 outside (straight-through)
//   BatchNormalizationGrad      batch_stat: dx = gamma/sqrt(v+eps) (dy - mean(dy) - xhat mean(dy xhat))
//                               with the batch mean and biased variance recomputed from x in the pass
//                               that sums dy and dy (x - x0) (float partials per run, double across
//                               runs), channels over the pool;
//                               several normalised axes: the forward's bn_plan walk, serial, in double
//                               test mode: dx = dy gamma / sqrt(running var + eps)
//   BatchNormalizationGammaGrad sum over the non-channel axes of dy xhat (batch_stat: the same one pass)
//   ReLUGrad and the other        dy and the forward value, element by element; > 1M values: split over
//   element-wise gradients        the pool as the forward's maps (elementwise.hpp)
//   AccumulateGrad              G += g into the parameter's gradient buffer (input 1; inputs are mutable
//                               for this and for BatchNormalization's running statistics)
// The convolution gradients use the GEMM path for every geometry (groups with one channel each
// included); they share the forward's geometry and im2col (kernels/convolution.hpp).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

#include "../gemm.hpp"
#include "../kernel.hpp"
#include "../parallel.hpp"
#include "batch_normalization.hpp"
#include "convolution.hpp"
#include "elementwise.hpp"
#include "pooling.hpp"

namespace kata::cpu {

namespace detail {

using i64 = std::int64_t;

// x's index space with, per axis, the stride of the reduced (keep_dims) tensor: 0 on reduced axes.
struct reduce_map {
    int rank = 0;
    i64 dims[max_rank]{};
    i64 ostride[max_rank]{};
    i64 n = 1;
};

constexpr reduce_map make_reduce_map(const shape_t& x, const attributes& a) {
    reduce_map m;
    m.rank = x.rank;
    bool red[max_rank]{};
    for (int i = 0; i < a.naxes; ++i) red[a.axes[i]] = true;
    i64 s = 1;
    for (int d = x.rank - 1; d >= 0; --d) {
        m.dims[d] = x.dims[d];
        m.ostride[d] = red[d] ? 0 : s;
        if (!red[d]) s *= x.dims[d];
    }
    m.n = x.numel();
    return m;
}

// f(i, o) for every flat index i of x and the flat index o of the reduced tensor it maps to.
template <reduce_map M, class F>
inline void for_each_reduced(F&& f) {
    i64 idx[max_rank > 0 ? max_rank : 1]{};
    i64 o = 0;
    for (i64 i = 0; i < M.n; ++i) {
        f(i, o);
        for (int d = M.rank - 1; d >= 0; --d) {
            ++idx[d];
            o += M.ostride[d];
            if (idx[d] < M.dims[d]) break;
            o -= M.ostride[d] * M.dims[d];
            idx[d] = 0;
        }
    }
}

// The reduction as an (outer, C, inner) view when the kept axes (of size > 1) are adjacent: C output
// values, each the sum of `outer` contiguous runs of `inner` values (e.g. BatchNormalization's beta
// gradient, Sum over N, H, W of NCHW; a bias gradient, Sum over the batch axis). Then the runs are
// summed by contiguous loops (four double partials) instead of the odometer.
struct kept_block {
    bool ok = false;
    i64 outer = 1, C = 1, inner = 1;
};
constexpr kept_block make_kept_block(const shape_t& x, const attributes& a) {
    bool red[max_rank]{};
    for (int i = 0; i < a.naxes; ++i) red[a.axes[i]] = true;
    int first = -1, last = -1;
    for (int d = 0; d < x.rank; ++d)
        if (!red[d] && x.dims[d] != 1) {
            if (first < 0) first = d;
            last = d;
        }
    kept_block k;
    if (first < 0) {
        k.ok = true;
        k.inner = x.numel();
        return k;
    }
    for (int d = first; d <= last; ++d)
        if (red[d] && x.dims[d] != 1) return k;
    k.ok = true;
    k.outer = x.prod(0, first);
    k.C = x.prod(first, last + 1);
    k.inner = x.prod_from(last + 1);
    return k;
}

template <op_instance I, bool Mean>
struct reduce_kernel {
    template <op_instance J>
    static constexpr std::size_t workspace_bytes() {
        return std::size_t(J.out.numel()) * sizeof(double);
    }
    template <op_instance J>
    static void run(const kernel_io& io) {
        constexpr reduce_map M = make_reduce_map(J.in[0], J.attr);
        constexpr i64 no = J.out.numel();
        double* acc = reinterpret_cast<double*>(io.workspace);
        for (i64 j = 0; j < no; ++j) acc[j] = 0.0;
        const float* x = io.input(0);
        constexpr kept_block K = make_kept_block(J.in[0], J.attr);
        if constexpr (K.ok && K.C == no) {
            for (i64 o = 0; o < K.outer; ++o)
                for (i64 c = 0; c < K.C; ++c) {
                    const float* xp = x + (o * K.C + c) * K.inner;
                    if constexpr (K.inner == 1) {
                        acc[c] += double(xp[0]);
                    } else {
                        // Four double partials: the sum is kept in double as the odometer keeps it
                        // (a gradient that sums to ~0, e.g. below a training-mode BN, needs it).
                        constexpr i64 nb = K.inner - K.inner % 4;
                        double p[4]{};
                        for (i64 j = 0; j < nb; j += 4)
                            for (int k = 0; k < 4; ++k) p[k] += double(xp[j + k]);
                        for (i64 j = nb; j < K.inner; ++j) p[0] += double(xp[j]);
                        acc[c] += (p[0] + p[1]) + (p[2] + p[3]);
                    }
                }
        } else {
            for_each_reduced<M>([&](i64 i, i64 o) { acc[o] += double(x[i]); });
        }
        constexpr double scale = Mean ? 1.0 / double(M.n / (no > 0 ? no : 1)) : 1.0;
        float* y = io.output();
        for (i64 j = 0; j < no; ++j) y[j] = float(acc[j] * scale);
    }
};

}  // namespace detail

template <>
struct kernel<op_kind::sum> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return std::size_t(I.out.numel()) * sizeof(double);
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        detail::reduce_kernel<I, false>::template run<I>(io);
    }
};
template <>
struct kernel<op_kind::mean> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return std::size_t(I.out.numel()) * sizeof(double);
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        detail::reduce_kernel<I, true>::template run<I>(io);
    }
};

template <>
struct kernel<op_kind::broadcast_grad> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        constexpr detail::reduce_map M = detail::make_reduce_map(I.out, I.attr);
        constexpr float scale = float(I.attr.val);
        const float* dy = io.input(0);
        float* dx = io.output();
        detail::for_each_reduced<M>([&](std::int64_t i, std::int64_t o) { dx[i] = dy[o] * scale; });
    }
};

template <>
struct kernel<op_kind::softmax_cross_entropy> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        constexpr detail::axis_view V = detail::make_axis_view(I.in[0], I.attr.axis);
        const float* x = io.input(0);
        const std::int32_t* t = io.input<std::int32_t>(1);
        float* y = io.output();
        for (std::int64_t o = 0; o < V.outer; ++o)
            for (std::int64_t j = 0; j < V.inner; ++j) {
                const float* xp = x + o * V.C * V.inner + j;
                float mx = -std::numeric_limits<float>::infinity();
                for (std::int64_t c = 0; c < V.C; ++c) mx = std::max(mx, xp[c * V.inner]);
                double s = 0.0;
                for (std::int64_t c = 0; c < V.C; ++c) s += std::exp(double(xp[c * V.inner] - mx));
                const std::int32_t label = t[o * V.inner + j];
                y[o * V.inner + j] = float(std::log(s) - double(xp[std::int64_t(label) * V.inner] - mx));
            }
    }
};

template <>
struct kernel<op_kind::softmax_cross_entropy_grad> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        constexpr detail::axis_view V = detail::make_axis_view(I.out, I.attr.axis);
        const float* dy = io.input(0);
        const float* x = io.input(1);
        const std::int32_t* t = io.input<std::int32_t>(2);
        float* dx = io.output();
        for (std::int64_t o = 0; o < V.outer; ++o)
            for (std::int64_t j = 0; j < V.inner; ++j) {
                const std::int64_t base = o * V.C * V.inner + j;
                float mx = -std::numeric_limits<float>::infinity();
                for (std::int64_t c = 0; c < V.C; ++c) mx = std::max(mx, x[base + c * V.inner]);
                double s = 0.0;
                for (std::int64_t c = 0; c < V.C; ++c) s += std::exp(double(x[base + c * V.inner] - mx));
                const float g = dy[o * V.inner + j];
                const std::int64_t label = t[o * V.inner + j];
                for (std::int64_t c = 0; c < V.C; ++c) {
                    const double p = std::exp(double(x[base + c * V.inner] - mx)) / s;
                    dx[base + c * V.inner] = float(double(g) * (p - (c == label ? 1.0 : 0.0)));
                }
            }
    }
};

template <>
struct kernel<op_kind::squared_error> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        const float* a = io.input(0);
        const float* b = io.input(1);
        float* y = io.output();
        for (std::int64_t i = 0; i < I.out.numel(); ++i) {
            const float d = a[i] - b[i];
            y[i] = d * d;
        }
    }
};

template <>
struct kernel<op_kind::constant> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        std::fill_n(io.output(), I.out.numel(), float(I.attr.val));
    }
};

template <>
struct kernel<op_kind::accumulate_grad> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        const float* g = io.input(0);
        float* acc = io.input(1);
        for (std::int64_t i = 0; i < I.in[1].numel(); ++i) acc[i] += g[i];
    }
};

// ---- Affine --------------------------------------------------------------------------------------

template <>
struct kernel<op_kind::affine_data_grad> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        constexpr std::int64_t B = I.out.prod(0, I.attr.base_axis), K = I.out.prod_from(I.attr.base_axis);
        constexpr std::int64_t O = I.in[1].numel() / K;
        blas::sgemm(false, true, B, K, O, 1.f, io.input(0), O, io.input(1), O, 0.f, io.output(), K);
    }
};

template <>
struct kernel<op_kind::affine_filter_grad> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        constexpr std::int64_t B = I.in[0].prod(0, I.attr.base_axis), K = I.in[0].prod_from(I.attr.base_axis);
        constexpr std::int64_t O = I.out.numel() / K;
        blas::sgemm(true, false, K, O, B, 1.f, io.input(0), K, io.input(1), O, 0.f, io.output(), O);
    }
};

// ---- Convolution ---------------------------------------------------------------------------------

namespace detail {

// The forward convolution's geometry: x, W and y shapes taken from the gradient node's instance.
constexpr kata::cpu::detail::geometry conv_geometry_of(const op_instance& G, const shape_t& x,
                                                       const shape_t& w, const shape_t& y) {
    op_instance F = G;
    F.in[0] = x;
    F.in[1] = w;
    F.out = y;
    const bool cl = G.attr.channel_last;
    const int cax = cl ? x.rank - 1 : G.attr.base_axis;
    return kata::cpu::detail::make_geometry(F, x.dims[cax], w.dims[0], G.attr.group, cl);
}

// Adds col (Cg * taps, out_sp) into channel-first dx of one item and group (the adjoint of im2col_cf):
// channels [c0, c1) on the calling thread; im2col_adjoint_cf splits the channels over the pool.
template <kata::cpu::detail::geometry g>
inline void im2col_adjoint_cf_rows(const float* col, float* dx, i64 c0, i64 c1) {
    constexpr i64 IH = g.in[1], IW = g.in[2], ID = g.in[0];
    constexpr i64 OD = g.out[0], OH = g.out[1], OW = g.out[2];
    for (i64 c = c0; c < c1; ++c) {
        float* xc = dx + c * g.in_sp;
        for (i64 t = 0; t < g.taps; ++t) {
            const i64 kd = t / (g.k[1] * g.k[2]), kh = (t / g.k[2]) % g.k[1], kw = t % g.k[2];
            const float* cr = col + (c * g.taps + t) * g.out_sp;
            for (i64 od = 0; od < OD; ++od) {
                const i64 id = od * g.stride[0] - g.pad[0] + kd * g.dil[0];
                if (id < 0 || id >= ID) continue;
                for (i64 oh = 0; oh < OH; ++oh) {
                    const i64 ih = oh * g.stride[1] - g.pad[1] + kh * g.dil[1];
                    if (ih < 0 || ih >= IH) continue;
                    const float* cp = cr + (od * OH + oh) * OW;
                    float* xr = xc + (id * IH + ih) * IW;
                    for (i64 ow = 0; ow < OW; ++ow) {
                        const i64 iw = ow * g.stride[2] - g.pad[2] + kw * g.dil[2];
                        if (iw >= 0 && iw < IW) xr[iw] += cp[ow];
                    }
                }
            }
        }
    }
}

template <kata::cpu::detail::geometry g>
inline void im2col_adjoint_cf(const float* col, float* dx) {
    parallel_for(
        g.Cg, [&](i64 c0, i64 c1) { im2col_adjoint_cf_rows<g>(col, dx, c0, c1); }, 1);
}

// The data gradient of a stride-1 convolution is itself a stride-1 convolution, of dy, with W's
// taps flipped and its two channel axes swapped per group, dilation kept and padding
// dil * (k - 1) - pad:  dx[c][i] = sum_{o,t} W[o][c][t] dy[o][i + pad - t dil]. Taking that route
// (channel-first, batch > 1, padding <= dil * (k - 1), e.g. 3x3 pad 1) turns col2im's scattered adds
// into im2col's copies and the GEMM's reduction length from O into O * taps (e.g. 16 -> 144), where
// OpenBLAS runs near its best; the flipped weights are packed into the workspace per call.
constexpr bool data_grad_as_conv(const geometry& g) {
    if (g.cl || g.B < 2) return false;
    for (int d = 0; d < 3; ++d)
        if (g.stride[d] != 1 || g.dil[d] * (g.k[d] - 1) - g.pad[d] < 0) return false;
    return true;
}
constexpr geometry transposed_geometry(const geometry& g) {
    geometry t = g;
    t.C = g.O;
    t.O = g.C;
    t.Cg = g.Og;
    t.Og = g.Cg;
    for (int d = 0; d < 3; ++d) {
        t.in[d] = g.out[d];
        t.out[d] = g.in[d];
        t.pad[d] = g.dil[d] * (g.k[d] - 1) - g.pad[d];
    }
    t.in_sp = g.out_sp;
    t.out_sp = g.in_sp;
    return t;
}
// wt[(gi Cg + c) Og + o][t] = w[(gi Og + o) Cg + c][taps - 1 - t]: the weights of transposed_geometry.
template <geometry g>
inline void pack_transposed_weights(const float* w, float* wt) {
    for (i64 gi = 0; gi < g.G; ++gi)
        for (i64 c = 0; c < g.Cg; ++c)
            for (i64 o = 0; o < g.Og; ++o) {
                const float* src = w + ((gi * g.Og + o) * g.Cg + c) * g.taps;
                float* dst = wt + ((gi * g.Cg + c) * g.Og + o) * g.taps;
                for (i64 t = 0; t < g.taps; ++t) dst[t] = src[g.taps - 1 - t];
            }
}

// Adds col (out_sp, taps * Cg) into channel-last dx of one item at the group's channel offset.
template <kata::cpu::detail::geometry g>
inline void im2col_adjoint_cl(const float* col, float* dx) {
    constexpr i64 IH = g.in[1], IW = g.in[2], ID = g.in[0];
    constexpr i64 OH = g.out[1], OW = g.out[2];
    constexpr i64 K = g.taps * g.Cg;
    for (i64 od = 0; od < g.out[0]; ++od)
        for (i64 oh = 0; oh < OH; ++oh)
            for (i64 ow = 0; ow < OW; ++ow) {
                const float* o = col + ((od * OH + oh) * OW + ow) * K;
                for (i64 kd = 0; kd < g.k[0]; ++kd) {
                    const i64 id = od * g.stride[0] - g.pad[0] + kd * g.dil[0];
                    for (i64 kh = 0; kh < g.k[1]; ++kh) {
                        const i64 ih = oh * g.stride[1] - g.pad[1] + kh * g.dil[1];
                        for (i64 kw = 0; kw < g.k[2]; ++kw, o += g.Cg) {
                            const i64 iw = ow * g.stride[2] - g.pad[2] + kw * g.dil[2];
                            if (id < 0 || id >= ID || ih < 0 || ih >= IH || iw < 0 || iw >= IW) continue;
                            float* xp = dx + ((id * IH + ih) * IW + iw) * g.C;
                            for (i64 c = 0; c < g.Cg; ++c) xp[c] += o[c];
                        }
                    }
                }
            }
}

}  // namespace detail

// Inputs (dy, W), output dx (shape attr.target).
template <>
struct kernel<op_kind::convolution_data_grad> {
    template <op_instance I>
    static constexpr detail::geometry geo = detail::conv_geometry_of(I, I.out, I.in[1], I.in[0]);

    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        constexpr detail::geometry g = geo<I>;
        if constexpr (detail::data_grad_as_conv(g)) {
            constexpr detail::geometry t = detail::transposed_geometry(g);
            return std::size_t(g.O * g.Cg * g.taps + detail::cf_forward_floats<t>()) * sizeof(float);
        } else if constexpr (detail::batch_parallel_cf<g>()) {
            return std::size_t(detail::item_slots<g>() * g.Cg * g.taps * g.out_sp) * sizeof(float);
        } else {
            return std::size_t(g.Cg * g.taps * g.out_sp) * sizeof(float);
        }
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        constexpr detail::geometry g = geo<I>;
        constexpr std::int64_t K = g.Cg * g.taps;
        const float* dy = io.input(0);
        const float* w = io.input(1);
        float* dx = io.output();
        float* col = reinterpret_cast<float*>(io.workspace);
        if constexpr (detail::data_grad_as_conv(g)) {
            // dx = conv(dy, flipped W): every element of dx written once, no zero fill.
            constexpr detail::geometry t = detail::transposed_geometry(g);
            float* wt = col;
            float* cols = wt + g.O * K;
            detail::pack_transposed_weights<g>(w, wt);
            detail::conv_forward_cf_items<t>(dy, wt, nullptr, dx, cols);
            return;
        } else if constexpr (detail::batch_parallel_cf<g>()) {
            // Per item: col = W_g^T dy_g (one single-threaded GEMM per group), then col2im into dx_b.
            detail::for_items_by_slot<g>([&](std::int64_t s, std::int64_t b) {
                float* cs = col + s * K * g.out_sp;
                float* dxb = dx + b * g.C * g.in_sp;
                std::fill_n(dxb, g.C * g.in_sp, 0.f);
                for (std::int64_t gi = 0; gi < g.G; ++gi) {
                    blas::detail::sgemm1(true, false, K, g.out_sp, g.Og, 1.f, w + gi * g.Og * K, K,
                                         dy + (b * g.O + gi * g.Og) * g.out_sp, g.out_sp, 0.f, cs, g.out_sp);
                    detail::im2col_adjoint_cf_rows<g>(cs, dxb + gi * g.Cg * g.in_sp, 0, g.Cg);
                }
            });
            return;
        }
        std::fill_n(dx, g.B * g.C * g.in_sp, 0.f);
        for (std::int64_t b = 0; b < g.B; ++b) {
            const float* dyb = dy + b * g.O * g.out_sp;
            float* dxb = dx + b * g.C * g.in_sp;
            for (std::int64_t gi = 0; gi < g.G; ++gi) {
                if constexpr (!g.cl) {
                    blas::sgemm(true, false, K, g.out_sp, g.Og, 1.f, w + gi * g.Og * K, K,
                                dyb + gi * g.Og * g.out_sp, g.out_sp, 0.f, col, g.out_sp);
                    detail::im2col_adjoint_cf<g>(col, dxb + gi * g.Cg * g.in_sp);
                } else {
                    blas::sgemm(false, false, g.out_sp, K, g.Og, 1.f, dyb + gi * g.Og, g.O, w + gi * g.Og * K,
                                K, 0.f, col, K);
                    detail::im2col_adjoint_cl<g>(col, dxb + gi * g.Cg);
                }
            }
        }
    }
};

// Inputs (x, dy), output dW (shape attr.target).
template <>
struct kernel<op_kind::convolution_filter_grad> {
    template <op_instance I>
    static constexpr detail::geometry geo = detail::conv_geometry_of(I, I.in[0], I.out, I.in[1]);

    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        constexpr detail::geometry g = geo<I>;
        if constexpr (detail::batch_parallel_cf<g>()) {
            constexpr std::int64_t S = detail::item_slots<g>();
            std::int64_t pack = 0;  // the direct kernel's channel-major copies, one per slot
            if constexpr (detail::cf_direct_2d<g>() && detail::cf_direct_shape<g>().filter_grad_ok())
                pack = detail::cfd::filter_grad_pack_floats<detail::cf_direct_shape<g>()>((g.B + S - 1) / S);
            std::int64_t n = S * (detail::col_floats<g>() + g.O * g.Cg * g.taps + pack);
            if constexpr (detail::cf_winograd_filter_grad<g>()) {  // per slot: dU's partial and the scratch
                constexpr detail::wino::shape q = detail::cf_winograd_shape<g>();
                n = std::max<std::int64_t>(n, S * (q.partial_floats() + q.fg_scratch_floats()));
            }
            return std::size_t(n) * sizeof(float);
        } else
            return std::size_t(g.Cg * g.taps * g.out_sp) * sizeof(float);
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        constexpr detail::geometry g = geo<I>;
        constexpr std::int64_t K = g.Cg * g.taps;
        const float* x = io.input(0);
        const float* dy = io.input(1);
        float* dw = io.output();
        float* col = reinterpret_cast<float*>(io.workspace);
#if KATA_CPU_X86
        if constexpr (detail::cf_winograd_filter_grad<g>()) {
            if (simd::use_avx2_fma()) {
                // Winograd (kernels/conv_cf_winograd.hpp): each slot sums its items' transformed dW into
                // its own partial; the partials are added in slot order, then transformed back.
                constexpr detail::wino::shape q = detail::cf_winograd_shape<g>();
                constexpr std::int64_t S = detail::item_slots<g>(), PF = q.partial_floats();
                constexpr std::int64_t SF = q.fg_scratch_floats();
                float* parts = col;
                float* scratch = parts + S * PF;
                parallel_for(
                    S,
                    [&](std::int64_t s0, std::int64_t s1) {
                        for (std::int64_t s = s0; s < s1; ++s) {
                            const std::int64_t b0 = g.B * s / S, b1 = g.B * (s + 1) / S;
                            detail::wino::filter_grad_items<q>(x + b0 * g.C * g.in_sp, g.C * g.in_sp,
                                                               dy + b0 * g.O * g.out_sp, g.O * g.out_sp,
                                                               b1 - b0, scratch + s * SF, parts + s * PF);
                        }
                    },
                    1);
                detail::wino::filter_grad_finish<q>(parts, S, dw);
                return;
            }
        }
        if constexpr (detail::batch_parallel_cf<g>() && detail::cf_direct_2d<g>() &&
                      detail::cf_direct_shape<g>().filter_grad_ok()) {
            if (simd::use_avx2_fma()) {
                // Direct kernel (kernels/conv_cf_direct.hpp): each slot sums its items' dW in registers
                // into its own partial, then the partials are added in slot order as below.
                constexpr std::int64_t S = detail::item_slots<g>(), WK = g.O * K, NB = (g.B + S - 1) / S;
                constexpr detail::cfd::shape q = detail::cf_direct_shape<g>();
                constexpr std::int64_t PK = detail::cfd::filter_grad_pack_floats<q>(NB);
                float* parts = col + S * detail::col_floats<g>();
                float* packs = parts + S * WK;
                parallel_for(
                    S,
                    [&](std::int64_t s0, std::int64_t s1) {
                        for (std::int64_t s = s0; s < s1; ++s) {
                            const std::int64_t b0 = g.B * s / S, b1 = g.B * (s + 1) / S;
                            for (std::int64_t gi = 0; gi < g.G; ++gi)
                                detail::cfd::filter_grad_items<q>(
                                    x + (b0 * g.C + gi * g.Cg) * g.in_sp, g.C * g.in_sp,
                                    dy + (b0 * g.O + gi * g.Og) * g.out_sp, g.O * g.out_sp, b1 - b0, NB,
                                    packs + s * PK, parts + s * WK + gi * g.Og * K);
                        }
                    },
                    1);
                for (std::int64_t i = 0; i < WK; ++i) {
                    float v = parts[i];
                    for (std::int64_t s = 1; s < S; ++s) v += parts[s * WK + i];
                    dw[i] = v;
                }
                return;
            }
        }
#endif
        if constexpr (detail::batch_parallel_cf<g>()) {
            // Each slot sums its items' dW_g = dy_g im2col(x_g)^T into its own partial; the partials are
            // then added in slot order (the same sums whichever thread ran which slot).
            constexpr std::int64_t S = detail::item_slots<g>(), WK = g.O * K;
            float* parts = col + S * detail::col_floats<g>();
            constexpr std::int64_t rows = g.out[0] * g.out[1], R = detail::col_block_rows<g>();
            detail::for_items_by_slot<g>([&](std::int64_t s, std::int64_t b) {
                float* cs = col + s * detail::col_floats<g>();
                const bool first = b == g.B * s / S;
                for (std::int64_t gi = 0; gi < g.G; ++gi) {
                    const float* xg = x + (b * g.C + gi * g.Cg) * g.in_sp;
                    const float* dyg = dy + (b * g.O + gi * g.Og) * g.out_sp;
                    float* pw = parts + s * WK + gi * g.Og * K;
                    if constexpr (g.pointwise()) {
                        blas::detail::sgemm1(false, true, g.Og, K, g.out_sp, 1.f, dyg, g.out_sp, xg, g.out_sp,
                                             first ? 0.f : 1.f, pw, K);
                    } else {
                        // Column blocks of the forward's size (kept in L2 between im2col and GEMM).
                        for (std::int64_t q0 = 0; q0 < rows; q0 += R) {
                            const std::int64_t q1 = std::min(rows, q0 + R), n = (q1 - q0) * g.out[2];
                            detail::im2col_cf_rows<g>(xg, cs, 0, K, q0, q1);
                            blas::detail::sgemm1(false, true, g.Og, K, n, 1.f, dyg + q0 * g.out[2], g.out_sp,
                                                 cs, n, first && q0 == 0 ? 0.f : 1.f, pw, K);
                        }
                    }
                }
            });
            for (std::int64_t i = 0; i < WK; ++i) {
                float v = parts[i];
                for (std::int64_t s = 1; s < S; ++s) v += parts[s * WK + i];
                dw[i] = v;
            }
            return;
        }
        for (std::int64_t b = 0; b < g.B; ++b) {
            const float* xb = x + b * g.C * g.in_sp;
            const float* dyb = dy + b * g.O * g.out_sp;
            const float beta = b == 0 ? 0.f : 1.f;
            for (std::int64_t gi = 0; gi < g.G; ++gi) {
                if constexpr (!g.cl) {
                    detail::im2col_cf<g>(xb + gi * g.Cg * g.in_sp, col);
                    blas::sgemm(false, true, g.Og, K, g.out_sp, 1.f, dyb + gi * g.Og * g.out_sp, g.out_sp,
                                col, g.out_sp, beta, dw + gi * g.Og * K, K);
                } else {
                    detail::im2col_cl<g>(xb + gi * g.Cg, col);
                    blas::sgemm(true, false, g.Og, K, g.out_sp, 1.f, dyb + gi * g.Og, g.O, col, K, beta,
                                dw + gi * g.Og * K, K);
                }
            }
        }
    }
};

// ---- element-wise --------------------------------------------------------------------------------

namespace detail {
template <op_instance I, class F>
inline void binary_map(const kernel_io& io, F f) {
    const float* dy = io.input(0);
    const float* v = io.input(1);
    float* dx = io.output();
    // Large gradients split over kata's pool as the forward's element-wise maps (elementwise.hpp).
    flat_for<I.out.numel()>([&](i64 b, i64 e) {
        for (i64 i = b; i < e; ++i) dx[i] = f(dy[i], v[i]);
    });
}
}  // namespace detail

#define KATA_CPU_GRAD_MAP(KIND, EXPR)                                                                        \
    template <>                                                                                              \
    struct kernel<op_kind::KIND> {                                                                           \
        template <op_instance I>                                                                             \
        static constexpr std::size_t workspace_bytes() {                                                     \
            return 0;                                                                                        \
        }                                                                                                    \
        template <op_instance I>                                                                             \
        static void run(const kernel_io& io) {                                                               \
            [[maybe_unused]] constexpr float alpha = float(I.attr.alpha);                                    \
            detail::binary_map<I>(io, [](float d, float v) { return EXPR; });                                \
        }                                                                                                    \
    };
KATA_CPU_GRAD_MAP(relu_grad, v > 0.f ? d : 0.f)
KATA_CPU_GRAD_MAP(leaky_relu_grad, v > 0.f ? d : d * alpha)
KATA_CPU_GRAD_MAP(sigmoid_grad, d* v*(1.f - v))
KATA_CPU_GRAD_MAP(tanh_grad, d*(1.f - v * v))
KATA_CPU_GRAD_MAP(hard_swish_grad, v < -3.f ? 0.f : (v > 3.f ? d : d * (2.f * v + 3.f) / 6.f))
#undef KATA_CPU_GRAD_MAP

// Inputs (dy, x): nnabla's straight-through estimator with ste_fine_grained: dy where min <= x <= max (the
// forward's clipping bounds, computed as its kernel does), 0 outside.
template <>
struct kernel<op_kind::fixed_point_quantize_grad> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        constexpr int nb = I.attr.sign ? I.attr.n - 1 : I.attr.n;
        constexpr float vmax = float((double(std::int64_t(1) << nb) - 1.0) * double(float(I.attr.delta)));
        constexpr float vmin = I.attr.sign ? -vmax : 0.0f;
        detail::binary_map<I>(io, [](float d, float v) { return v > vmax || v < vmin ? 0.0f : d; });
    }
};

// ---- pooling -------------------------------------------------------------------------------------

namespace detail {

// dx (plan L: x = I.out, y = dy) from dy: Max routes each output's gradient to its window's first
// maximum of x; Average spreads it over the window with the forward's divisor.
enum class pool_grad { max, average, sum };

template <kata::cpu::detail::pool_plan L, pool_grad Mode, bool IncludingPad>
inline void pool_backward_planes(const float* dy, const float* x, float* dx, i64 n0, i64 n1) {
    using kata::cpu::detail::win;
    constexpr i64 C = L.inner;
    std::fill_n(dx + n0 * L.xsize, (n1 - n0) * L.xsize, 0.f);
    for (i64 n = n0; n < n1; ++n) {
        const float* xb = Mode == pool_grad::max ? x + n * L.xsize : nullptr;
        float* db = dx + n * L.xsize;
        const float* gb = dy + n * L.ysize;
        for (i64 o0 = 0; o0 < L.Y[0]; ++o0) {
            const win w0 = kata::cpu::detail::window<L, 0>(o0);
            for (i64 o1 = 0; o1 < L.Y[1]; ++o1) {
                const win w1 = kata::cpu::detail::window<L, 1>(o1);
                for (i64 o2 = 0; o2 < L.Y[2]; ++o2) {
                    const win w2 = kata::cpu::detail::window<L, 2>(o2);
                    const float* gp = gb + ((o0 * L.Y[1] + o1) * L.Y[2] + o2) * C;
                    for (i64 c = 0; c < C; ++c) {
                        if constexpr (Mode == pool_grad::max) {
                            float best = -std::numeric_limits<float>::infinity();
                            i64 at = -1;
                            for (i64 i0 = w0.s; i0 < w0.e; ++i0)
                                for (i64 i1 = w1.s; i1 < w1.e; ++i1)
                                    for (i64 i2 = w2.s; i2 < w2.e; ++i2) {
                                        const i64 off = ((i0 * L.X[1] + i1) * L.X[2] + i2) * C + c;
                                        if (at < 0 || xb[off] > best) {
                                            best = xb[off];
                                            at = off;
                                        }
                                    }
                            if (at >= 0) db[at] += gp[c];
                        } else {
                            const i64 cnt = Mode == pool_grad::sum ? 1
                                            : IncludingPad         ? w0.incl * w1.incl * w2.incl
                                                           : (w0.e - w0.s) * (w1.e - w1.s) * (w2.e - w2.s);
                            const float v = Mode == pool_grad::sum ? gp[c] : gp[c] / float(cnt);
                            for (i64 i0 = w0.s; i0 < w0.e; ++i0)
                                for (i64 i1 = w1.s; i1 < w1.e; ++i1)
                                    for (i64 i2 = w2.s; i2 < w2.e; ++i2)
                                        db[((i0 * L.X[1] + i1) * L.X[2] + i2) * C + c] += v;
                        }
                    }
                }
            }
        }
    }
}

// MaxPoolingGrad over non-overlapping windows (kernel == stride, no padding, every window inside x) of a
// channel-first map: every input lies in at most one window, so each dx value is written once. The
// window's first maximum (the generic walk's rule: the first element, then strictly greater ones) is
// found with selects, not branches (on real activations the comparisons are data-dependent): on the
// 64 x 32 x 28 x 28 gradient of examples/train_fashion_mnist.cpp 2.5 instead of 4.4 ms of CPU time.
template <kata::cpu::detail::pool_plan L>
inline constexpr bool tiled_max_grad =
    L.inner == 1 && L.X[0] == 1 && L.Y[0] == 1 && L.K[1] == L.S[1] && L.K[2] == L.S[2] && L.P[1] == 0 &&
    L.P[2] == 0 && L.Y[1] * L.K[1] <= L.X[1] && L.Y[2] * L.K[2] <= L.X[2];

template <kata::cpu::detail::pool_plan L>
inline void tiled_max_pool_backward(const float* dy, const float* x, float* dx, i64 n0, i64 n1) {
    constexpr i64 X1 = L.X[1], X2 = L.X[2], Y1 = L.Y[1], Y2 = L.Y[2], K1 = L.K[1], K2 = L.K[2];
    for (i64 n = n0; n < n1; ++n) {
        const float* xb = x + n * L.xsize;
        const float* gb = dy + n * L.ysize;
        float* db = dx + n * L.xsize;
        for (i64 o1 = 0; o1 < Y1; ++o1) {
            const float* xr = xb + o1 * K1 * X2;
            float* dr = db + o1 * K1 * X2;
            for (i64 o2 = 0; o2 < Y2; ++o2) {
                const float* xw = xr + o2 * K2;
                float best = xw[0];
                i64 at = 0;
                for (i64 r = 0; r < K1; ++r)
                    for (i64 q = 0; q < K2; ++q) {
                        const float v = xw[r * X2 + q];
                        const bool gt = v > best;
                        best = gt ? v : best;
                        at = gt ? r * X2 + q : at;
                    }
                const float g = gb[o1 * Y2 + o2];
                float* dw = dr + o2 * K2;
                for (i64 r = 0; r < K1; ++r)
                    for (i64 q = 0; q < K2; ++q) dw[r * X2 + q] = r * X2 + q == at ? g : 0.f;
            }
            if constexpr (Y2 * K2 < X2)  // columns no window covers
                for (i64 r = 0; r < K1; ++r) std::fill(dr + r * X2 + Y2 * K2, dr + (r + 1) * X2, 0.f);
        }
        if constexpr (Y1 * K1 < X1) std::fill(db + Y1 * K1 * X2, db + X1 * X2, 0.f);  // rows no window covers
    }
}

// dx, plane (outer index) by plane; planes are split over kata's pool when the gradient is large (each
// plane is computed as on one thread: the result does not depend on the split).
template <kata::cpu::detail::pool_plan L, pool_grad Mode, bool IncludingPad>
inline void pool_backward(const float* dy, const float* x, float* dx) {
    auto planes = [&](i64 n0, i64 n1) {
        if constexpr (Mode == pool_grad::max && tiled_max_grad<L>)
            tiled_max_pool_backward<L>(dy, x, dx, n0, n1);
        else
            pool_backward_planes<L, Mode, IncludingPad>(dy, x, dx, n0, n1);
    };
    if constexpr (L.outer > 1 && L.outer * L.xsize >= kata::cpu::detail::parallel_outputs)
        parallel_for(L.outer, planes, std::max<i64>(1, (i64(1) << 14) / L.xsize));
    else
        planes(0, L.outer);
}

}  // namespace detail

template <>
struct kernel<op_kind::max_pooling_grad> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        constexpr detail::pool_plan L = detail::make_plan(I.out, I.in[0], I.attr, false);
        detail::pool_backward<L, detail::pool_grad::max, false>(io.input(0), io.input(1), io.output());
    }
};

template <>
struct kernel<op_kind::average_pooling_grad> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        constexpr detail::pool_plan L = detail::make_plan(I.out, I.in[0], I.attr, false);
        detail::pool_backward<L, detail::pool_grad::average, I.attr.including_pad>(io.input(0), nullptr,
                                                                                   io.output());
    }
};

template <>
struct kernel<op_kind::sum_pooling_grad> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        constexpr detail::pool_plan L = detail::make_plan(I.out, I.in[0], I.attr, false);
        detail::pool_backward<L, detail::pool_grad::sum, false>(io.input(0), nullptr, io.output());
    }
};

// Inputs (idx int32, dy), output dW (N, D..): zero, then row idx[i] += dy[i].
template <>
struct kernel<op_kind::embed_filter_grad> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        constexpr std::int64_t rows = I.out.dims[0], D = I.out.numel() / I.out.dims[0], n = I.in[0].numel();
        const std::int32_t* idx = io.input<std::int32_t>(0);
        const float* dy = io.input(1);
        float* dw = io.output();
        std::fill_n(dw, rows * D, 0.f);
        for (std::int64_t i = 0; i < n; ++i) {
            float* row = dw + std::int64_t(idx[i]) * D;
            for (std::int64_t j = 0; j < D; ++j) row[j] += dy[i * D + j];
        }
    }
};

// Input dy, output the slice [offset, offset + len) of dy along `axis` (len: the output's size there).
template <>
struct kernel<op_kind::concatenate_grad> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        constexpr int ax = I.attr.axis;
        constexpr std::int64_t outer = I.out.prod(0, ax), inner = I.out.prod_from(ax + 1);
        constexpr std::int64_t len = I.out.dims[ax], ylen = I.in[0].dims[ax];
        const float* dy = io.input(0);
        float* dx = io.output();
        for (std::int64_t o = 0; o < outer; ++o)
            std::memcpy(dx + o * len * inner, dy + (o * ylen + I.attr.offset) * inner,
                        std::size_t(len * inner) * sizeof(float));
    }
};

template <>
struct kernel<op_kind::global_average_pooling_grad> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        constexpr std::int64_t nc = I.out.prod(0, 2), sp = I.out.prod_from(2);
        const float* dy = io.input(0);
        float* dx = io.output();
        for (std::int64_t q = 0; q < nc; ++q) std::fill_n(dx + q * sp, sp, dy[q] / float(sp));
    }
};

// ---- BatchNormalization --------------------------------------------------------------------------
// Per channel of the (outer, C, inner) view, over its `outer` runs of `inner` contiguous values (NCHW:
// the H x W maps). Channels are split over the pool. Within a run, eight float partials (which the
// compiler vectorises) are added into double at the end of the run, as the forward's blocked_sum does;
// the batch statistics take one pass over x, summing x - x0 and (x - x0)^2 with the channel's first
// value x0 as shift (no cancellation for large means; the forward's two-pass result to float rounding).

namespace detail {

// s1 += sum (x - shift), s2 += sum (x - shift)^2 over n values.
inline void shifted_sums(const float* xp, i64 n, float shift, double& s1, double& s2) {
    const i64 nb = n - n % 8;
    float a[8]{}, q[8]{};
    for (i64 j = 0; j < nb; j += 8)
        for (int k = 0; k < 8; ++k) {
            const float d = xp[j + k] - shift;
            a[k] += d;
            q[k] += d * d;
        }
    double t1 = 0, t2 = 0;
    for (int k = 0; k < 8; ++k) {
        t1 += a[k];
        t2 += q[k];
    }
    const float* tail = xp + nb;
    for (i64 r = 0; r < n % 8; ++r) {
        const double d = double(tail[r]) - double(shift);
        t1 += d;
        t2 += d * d;
    }
    s1 += t1;
    s2 += t2;
}

// sdy += sum dy, sdyx += sum dy (x - m) over n values.
inline void dy_sums(const float* dy, const float* xp, i64 n, float m, double& sdy, double& sdyx) {
    const i64 nb = n - n % 8;
    float a[8]{}, b[8]{};
    for (i64 j = 0; j < nb; j += 8)
        for (int k = 0; k < 8; ++k) {
            a[k] += dy[j + k];
            b[k] += dy[j + k] * (xp[j + k] - m);
        }
    double t1 = 0, t2 = 0;
    for (int k = 0; k < 8; ++k) {
        t1 += a[k];
        t2 += b[k];
    }
    for (i64 r = nb; r < nb + n % 8; ++r) {
        t1 += double(dy[r]);
        t2 += double(dy[r]) * (double(xp[r]) - double(m));
    }
    sdy += t1;
    sdyx += t2;
}

// s1 += sum (x - shift), s2 += sum (x - shift)^2, sdy += sum dy, sdyx += sum dy (x - shift) over n
// values: shifted_sums and dy_sums in one pass over x (the gradients of a training step's
// BatchNormalization read x and dy once for the batch statistics and the sums they need together).
// Eight float partials per sum (two 4-float vectors of the GNU vector extension: with four sums g++ 12
// vectorised the array form across iterations, with shuffles and spills, at 1.6x the CPU time measured
// on the 64 x 32 x 28 x 28 BN of examples/train_fashion_mnist.cpp), added into double per run.
#if defined(__GNUC__)
typedef float bn_v4f __attribute__((vector_size(16)));
#endif
#if KATA_CPU_X86
// The same eight float partials per sum as one 8-float vector each (lanes 0-3: the first 4-float vector's,
// 4-7: the second's, added into double in the same order), with AVX2 + FMA: half the instructions (the
// library's portable code is compiled for SSE2 only).
KATA_CPU_AVX2_TARGET inline void fused_sums_avx2(const float* dy, const float* xp, i64 nb, float shift,
                                                 double& t1, double& t2, double& t3, double& t4) {
    __m256 a = _mm256_setzero_ps(), q = a, b = a, e = a;
    const __m256 sh = _mm256_set1_ps(shift);
    for (i64 j = 0; j < nb; j += 8) {
        const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(xp + j), sh), g = _mm256_loadu_ps(dy + j);
        a = _mm256_add_ps(a, d);
        q = _mm256_fmadd_ps(d, d, q);
        b = _mm256_add_ps(b, g);
        e = _mm256_fmadd_ps(g, d, e);
    }
    alignas(32) float va[8], vq[8], vb[8], ve[8];
    _mm256_store_ps(va, a);
    _mm256_store_ps(vq, q);
    _mm256_store_ps(vb, b);
    _mm256_store_ps(ve, e);
    for (int k = 0; k < 4; ++k) {
        t1 += double(va[k]) + double(va[k + 4]);
        t2 += double(vq[k]) + double(vq[k + 4]);
        t3 += double(vb[k]) + double(vb[k + 4]);
        t4 += double(ve[k]) + double(ve[k + 4]);
    }
}

// dx[j] = float(k1 (dy[j] - a) - k2 (x[j] - mu)) in double, 4 values per vector (the portable loop runs
// 2 per SSE2 vector).
KATA_CPU_AVX2_TARGET inline void bn_dx_avx2(const float* dy, const float* x, float* dx, i64 n, double k1,
                                            double a, double k2, double mu) {
    const __m256d K1 = _mm256_set1_pd(k1), A = _mm256_set1_pd(a), K2 = _mm256_set1_pd(k2),
                  MU = _mm256_set1_pd(mu);
    i64 j = 0;
    for (; j + 4 <= n; j += 4) {
        const __m256d d = _mm256_cvtps_pd(_mm_loadu_ps(dy + j)), v = _mm256_cvtps_pd(_mm_loadu_ps(x + j));
        const __m256d r =
            _mm256_sub_pd(_mm256_mul_pd(K1, _mm256_sub_pd(d, A)), _mm256_mul_pd(K2, _mm256_sub_pd(v, MU)));
        _mm_storeu_ps(dx + j, _mm256_cvtpd_ps(r));
    }
    for (; j < n; ++j) dx[j] = float(k1 * (double(dy[j]) - a) - k2 * (double(x[j]) - mu));
}
#endif

inline void fused_sums(const float* dy, const float* xp, i64 n, float shift, double& s1, double& s2,
                       double& sdy, double& sdyx) {
    const i64 nb = n - n % 8;
    double t1 = 0, t2 = 0, t3 = 0, t4 = 0;
#if KATA_CPU_X86
    if (simd::use_avx2_fma()) {
        fused_sums_avx2(dy, xp, nb, shift, t1, t2, t3, t4);
    } else
#endif
#if defined(__GNUC__)
    {
        bn_v4f a0{}, a1{}, q0{}, q1{}, b0{}, b1{}, e0{}, e1{};
        const bn_v4f sh = {shift, shift, shift, shift};
        for (i64 j = 0; j < nb; j += 8) {
            bn_v4f x0, x1, g0, g1;
            std::memcpy(&x0, xp + j, sizeof x0);
            std::memcpy(&x1, xp + j + 4, sizeof x1);
            std::memcpy(&g0, dy + j, sizeof g0);
            std::memcpy(&g1, dy + j + 4, sizeof g1);
            const bn_v4f d0 = x0 - sh, d1 = x1 - sh;
            a0 += d0;
            a1 += d1;
            q0 += d0 * d0;
            q1 += d1 * d1;
            b0 += g0;
            b1 += g1;
            e0 += g0 * d0;
            e1 += g1 * d1;
        }
        for (int k = 0; k < 4; ++k) {
            t1 += double(a0[k]) + double(a1[k]);
            t2 += double(q0[k]) + double(q1[k]);
            t3 += double(b0[k]) + double(b1[k]);
            t4 += double(e0[k]) + double(e1[k]);
        }
#else
    {
        float a[8]{}, q[8]{}, b[8]{}, e[8]{};
        for (i64 j = 0; j < nb; j += 8)
            for (int k = 0; k < 8; ++k) {
                const float d = xp[j + k] - shift;
                a[k] += d;
                q[k] += d * d;
                b[k] += dy[j + k];
                e[k] += dy[j + k] * d;
            }
        for (int k = 0; k < 8; ++k) {
            t1 += a[k];
            t2 += q[k];
            t3 += b[k];
            t4 += e[k];
        }
#endif
    }
    for (i64 r = nb; r < n; ++r) {
        const double d = double(xp[r]) - double(shift);
        t1 += d;
        t2 += d * d;
        t3 += double(dy[r]);
        t4 += double(dy[r]) * d;
    }
    s1 += t1;
    s2 += t2;
    sdy += t3;
    sdyx += t4;
}

// Channel c's mean and 1/sqrt(var + eps) the forward normalised with: the batch mean and biased
// variance of x, or the running statistics.
template <op_instance I>
inline void bn_channel_stats(const float* x, const float* mean, const float* var, i64 c, double& mu,
                             double& inv) {
    constexpr axis_view V = make_axis_view(I.in[1], I.attr.axes[0]);
    constexpr double eps = I.attr.eps;
    if constexpr (I.attr.batch_stat) {
        constexpr double n = double(V.outer * V.inner);
        const float shift = x[c * V.inner];
        double s1 = 0, s2 = 0;
        for (i64 o = 0; o < V.outer; ++o) shifted_sums(x + (o * V.C + c) * V.inner, V.inner, shift, s1, s2);
        const double d = s1 / n;
        mu = double(shift) + d;
        inv = 1.0 / std::sqrt(std::max(s2 / n - d * d, 0.0) + eps);
    } else {
        mu = double(mean[c]);
        inv = 1.0 / std::sqrt(double(var[c]) + eps);
    }
}

// Channel c's sum dy and sum dy (x - mu).
template <axis_view V>
inline void bn_channel_dy_sums(const float* dy, const float* x, i64 c, float mu, double& sdy, double& sdyx) {
    for (i64 o = 0; o < V.outer; ++o) {
        const i64 at = (o * V.C + c) * V.inner;
        dy_sums(dy + at, x + at, V.inner, mu, sdy, sdyx);
    }
}

// Channel c's mu, inv (as bn_channel_stats), sum dy and sum dy (x - mu). With batch statistics one pass
// over x and dy (fused_sums around the channel's first value x0; sum dy (x - mu) = sum dy (x - x0) -
// sum dy (mu - x0)); with the running statistics one pass over dy and x around float(mu).
template <op_instance I>
inline void bn_channel_sums(const float* dy, const float* x, const float* mean, const float* var, i64 c,
                            double& mu, double& inv, double& sdy, double& sdyx) {
    constexpr axis_view V = make_axis_view(I.in[1], I.attr.axes[0]);
    constexpr double eps = I.attr.eps;
    sdy = sdyx = 0;
    if constexpr (I.attr.batch_stat) {
        constexpr double n = double(V.outer * V.inner);
        const float shift = x[c * V.inner];
        double s1 = 0, s2 = 0;
        for (i64 o = 0; o < V.outer; ++o) {
            const i64 at = (o * V.C + c) * V.inner;
            fused_sums(dy + at, x + at, V.inner, shift, s1, s2, sdy, sdyx);
        }
        const double d = s1 / n;
        mu = double(shift) + d;
        inv = 1.0 / std::sqrt(std::max(s2 / n - d * d, 0.0) + eps);
        sdyx -= sdy * d;
    } else {
        bn_channel_stats<I>(x, mean, var, c, mu, inv);
        const float m = float(mu);
        bn_channel_dy_sums<V>(dy, x, c, m, sdy, sdyx);
        sdyx -= sdy * (mu - double(m));  // taken around the float mean m: shift it to mu
    }
}

// Several normalised axes (nnabla's axes=[...] with more than one axis): the forward's walk
// (kernels/batch_normalization.hpp, bn_plan) visits every element with its parameter ("channel") index c;
// per-channel sums in double. Not parallel: several-axes BN is rare; one axis takes the paths above.

// Calls f(i, c) for every element i of x (shape P was made from), c its parameter index.
template <bn_plan P, class F>
inline void bn_for_each_element(F&& f) {
    for_each_run<P>([&](std::int64_t xo, std::int64_t po, std::int64_t n) {
        if constexpr (P.is_axis[P.ngroups - 1])
            for (std::int64_t j = 0; j < n; ++j) f(xo + j, po + j);
        else
            for (std::int64_t j = 0; j < n; ++j) f(xo + j, po);
    });
}

// Per channel: the mean and 1/sqrt(var + eps) the forward normalised with: batch statistics recomputed
// from x (biased variance, two passes), or the running ones.
template <op_instance I>
inline void bn_stats(const float* x, const float* mean, const float* var, double* mu, double* inv) {
    constexpr bn_plan P = make_plan(I.in[1], I.attr);
    constexpr i64 C = P.channels;
    constexpr double eps = I.attr.eps;
    if constexpr (I.attr.batch_stat) {
        constexpr double n = double(P.reduce);
        std::fill_n(mu, C, 0.0);
        std::fill_n(inv, C, 0.0);
        bn_for_each_element<P>([&](i64 i, i64 c) { mu[c] += double(x[i]); });
        for (i64 c = 0; c < C; ++c) mu[c] /= n;
        bn_for_each_element<P>([&](i64 i, i64 c) {
            const double d = double(x[i]) - mu[c];
            inv[c] += d * d;
        });
        for (i64 c = 0; c < C; ++c) inv[c] = 1.0 / std::sqrt(inv[c] / n + eps);
    } else {
        for (i64 c = 0; c < C; ++c) {
            mu[c] = double(mean[c]);
            inv[c] = 1.0 / std::sqrt(double(var[c]) + eps);
        }
    }
}

template <op_instance I>
inline constexpr std::int64_t bn_channels = make_plan(I.in[1], I.attr).channels;

}  // namespace detail

// Inputs (dy, x, mean, var[, gamma]).
template <>
struct kernel<op_kind::batch_normalization_grad> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        if constexpr (I.attr.naxes > 1)
            return 4 * std::size_t(detail::bn_channels<I>) * sizeof(double);
        else
            return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        if constexpr (I.attr.naxes > 1)
            run_several_axes<I>(io);
        else
            run_one_axis<I>(io);
    }
    template <op_instance I>
    static void run_several_axes(const kernel_io& io) {
        constexpr detail::bn_plan P = detail::make_plan(I.in[1], I.attr);
        constexpr std::int64_t C = P.channels;
        const float* dy = io.input(0);
        const float* x = io.input(1);
        const float* gamma = I.attr.no_scale ? nullptr : io.input(4);
        double* mu = reinterpret_cast<double*>(io.workspace);
        double* inv = mu + C;
        double* sdy = inv + C;   // batch_stat: mean(dy); test mode: gamma / sqrt(var + eps)
        double* sdyx = sdy + C;  // batch_stat: mean(dy xhat)
        detail::bn_stats<I>(x, io.input(2), io.input(3), mu, inv);
        float* dx = io.output();
        auto gm = [&](std::int64_t c) { return gamma ? double(gamma[c]) : 1.0; };
        if constexpr (I.attr.batch_stat) {
            std::fill_n(sdy, C, 0.0);
            std::fill_n(sdyx, C, 0.0);
            detail::bn_for_each_element<P>([&](std::int64_t i, std::int64_t c) {
                sdy[c] += double(dy[i]);
                sdyx[c] += double(dy[i]) * (double(x[i]) - mu[c]) * inv[c];
            });
            constexpr double n = double(P.reduce);
            for (std::int64_t c = 0; c < C; ++c) {
                sdy[c] /= n;
                sdyx[c] /= n;
            }
            detail::bn_for_each_element<P>([&](std::int64_t i, std::int64_t c) {
                const double xh = (double(x[i]) - mu[c]) * inv[c];
                dx[i] = float(gm(c) * inv[c] * (double(dy[i]) - sdy[c] - xh * sdyx[c]));
            });
        } else {
            for (std::int64_t c = 0; c < C; ++c) sdy[c] = double(float(gm(c) * inv[c]));
            detail::bn_for_each_element<P>(
                [&](std::int64_t i, std::int64_t c) { dx[i] = dy[i] * float(sdy[c]); });
        }
    }
    template <op_instance I>
    static void run_one_axis(const kernel_io& io) {
        constexpr detail::axis_view V = detail::make_axis_view(I.in[1], I.attr.axes[0]);
        const float* dy = io.input(0);
        const float* x = io.input(1);
        const float* mean = io.input(2);
        const float* var = io.input(3);
        const float* gamma = I.attr.no_scale ? nullptr : io.input(4);
        float* dx = io.output();
        parallel_for(
            V.C,
            [&](std::int64_t c0, std::int64_t c1) {
                for (std::int64_t c = c0; c < c1; ++c) {
                    double mu = 0, inv = 0;
                    const double gm = gamma ? double(gamma[c]) : 1.0;
                    if constexpr (I.attr.batch_stat) {
                        // dx = gamma inv (dy - mean(dy) - xhat mean(dy xhat)), xhat = (x - mu) inv
                        double sdy = 0, sdyx = 0;
                        detail::bn_channel_sums<I>(dy, x, mean, var, c, mu, inv, sdy, sdyx);
                        constexpr double n = double(V.outer * V.inner);
                        // In double per element (as the sums): dx of a channel must add up to ~0 (its
                        // mean is subtracted), which a float mean(dy) or mean would break by n ulps.
                        const double k1 = gm * inv, a = sdy / n;
                        const double k2 = gm * inv * inv * inv * sdyx / n;
                        for (std::int64_t o = 0; o < V.outer; ++o) {
                            const std::int64_t at = (o * V.C + c) * V.inner;
                            const float* dyp = dy + at;
                            const float* xp = x + at;
                            float* dxp = dx + at;
#if KATA_CPU_X86
                            if (simd::use_avx2_fma()) {
                                detail::bn_dx_avx2(dyp, xp, dxp, V.inner, k1, a, k2, mu);
                                continue;
                            }
#endif
                            for (std::int64_t j = 0; j < V.inner; ++j)
                                dxp[j] = float(k1 * (double(dyp[j]) - a) - k2 * (double(xp[j]) - mu));
                        }
                    } else {
                        detail::bn_channel_stats<I>(x, mean, var, c, mu, inv);
                        const float k = float(gm * inv);
                        for (std::int64_t o = 0; o < V.outer; ++o) {
                            const std::int64_t at = (o * V.C + c) * V.inner;
                            for (std::int64_t j = 0; j < V.inner; ++j) dx[at + j] = dy[at + j] * k;
                        }
                    }
                }
            },
            1);
    }
};

// Inputs (dy, x, mean, var), output dgamma (gamma's shape: C values) = sum of dy xhat per channel.
template <>
struct kernel<op_kind::batch_normalization_gamma_grad> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        if constexpr (I.attr.naxes > 1)
            return 3 * std::size_t(detail::bn_channels<I>) * sizeof(double);
        else
            return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        if constexpr (I.attr.naxes > 1)
            run_several_axes<I>(io);
        else
            run_one_axis<I>(io);
    }
    template <op_instance I>
    static void run_several_axes(const kernel_io& io) {
        constexpr detail::bn_plan P = detail::make_plan(I.in[1], I.attr);
        constexpr std::int64_t C = P.channels;
        const float* dy = io.input(0);
        const float* x = io.input(1);
        double* mu = reinterpret_cast<double*>(io.workspace);
        double* inv = mu + C;
        double* acc = inv + C;
        detail::bn_stats<I>(x, io.input(2), io.input(3), mu, inv);
        std::fill_n(acc, C, 0.0);
        detail::bn_for_each_element<P>([&](std::int64_t i, std::int64_t c) {
            acc[c] += double(dy[i]) * (double(x[i]) - mu[c]) * inv[c];
        });
        float* dg = io.output();
        for (std::int64_t c = 0; c < C; ++c) dg[c] = float(acc[c]);
    }
    template <op_instance I>
    static void run_one_axis(const kernel_io& io) {
        constexpr detail::axis_view V = detail::make_axis_view(I.in[1], I.attr.axes[0]);
        const float* dy = io.input(0);
        const float* x = io.input(1);
        const float* mean = io.input(2);
        const float* var = io.input(3);
        float* dg = io.output();
        parallel_for(
            V.C,
            [&](std::int64_t c0, std::int64_t c1) {
                for (std::int64_t c = c0; c < c1; ++c) {
                    double mu = 0, inv = 0, sdy = 0, sdyx = 0;
                    detail::bn_channel_sums<I>(dy, x, mean, var, c, mu, inv, sdy, sdyx);
                    dg[c] = float(sdyx * inv);
                }
            },
            1);
    }
};

}  // namespace kata::cpu
