// kata/embedded/kernels/convolution.hpp
//
// Embedded kernels for the convolution family: Convolution, DepthwiseConvolution, Deconvolution and
// DepthwiseDeconvolution (1-D/2-D/3-D, pad/stride/dilation, groups, output_padding, channel-first and
// channel-last, base_axis >= 1: every axis before base_axis is a batch axis). Semantics as the CPU
// kernels (kata/cpu/kernels/convolution.hpp, deconvolution.hpp, depthwise.hpp; nnabla layouts):
//   Convolution      x (B, C, S..)|(B, S.., C), W (O, C/g, k..)|(O, k.., C/g), y (B, O, S'..)|(B, S'.., O)
//   Deconvolution    x as above, W (C, O/g, k..)|(C, k.., O/g); y[o, i*s - p + t*d] += x[c, i] W[c, o, t]
//   DepthwiseConvolution(multiplier m)    = Convolution with group C, W (C*m, k..)
//   DepthwiseDeconvolution(divisor d)     = Deconvolution with group C/d, W (C, k..), y has C/d channels
//
// Design: one direct loop for all four ops and both layouts, written against element strides that are
// compile-time constants (a `geometry`, computed from the op_instance), so the compiler specialises
// each layer: no im2col buffer (no workspace: RAM is the scarce resource on a microcontroller), one
// float accumulator per output element, written once. Spatial ranks 1 and 2 are run as 3-D with
// leading unit axes (kernel 1, pad 0, stride 1). For each output position the range of kernel taps
// that land inside the input is computed once per axis, so the innermost loops have no bounds tests.
// Deconvolution gathers instead of scattering (for each output element, the taps with
// (o + p - t*d) divisible by s), so it too writes every output once and needs no workspace.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../kernel.hpp"

namespace kata::embedded {

namespace detail {

// Strides and sizes of one convolution-like layer, normalised to 3 spatial axes.
struct geometry {
    bool transposed = false;      // deconvolution (gather over the taps that reach each output)
    index B = 1;                  // product of the batch axes
    index G = 1, Cg = 1, Og = 1;  // groups, input / output channels per group
    index in[3]{1, 1, 1}, out[3]{1, 1, 1}, k[3]{1, 1, 1}, pad[3]{}, stride[3]{1, 1, 1}, dil[3]{1, 1, 1};
    // Element strides. x: per batch item, per input channel, per spatial axis; y likewise.
    index xb = 0, xc = 0, xs[3]{}, yb = 0, yc = 0, ys[3]{};
    // W: per group, per output channel within the group, per input channel within the group, per tap axis.
    index wg = 0, wo = 0, wc = 0, wk[3]{};
};

// `C`/`O`: channels of x and y; `G`: groups; `transposed`: Deconvolution (W's first axis is the input
// channel) rather than Convolution (W's first axis is the output channel). The depthwise ops are the
// grouped cases with one input (DepthwiseConvolution) or one output (DepthwiseDeconvolution) channel
// per group, whose W simply lacks that unit axis: the strides come out the same.
constexpr geometry make_geometry(const op_instance& I, std::int64_t C, std::int64_t O, std::int64_t G,
                                 bool transposed) {
    geometry g;
    const bool cl = I.attr.channel_last;
    const shape_t& xs = I.in[0];
    const shape_t& ys = I.out;
    const int ba = I.attr.base_axis;
    const int nsp = I.attr.spatial_dims;
    g.transposed = transposed;
    g.B = index(xs.prod(0, ba));
    g.G = index(G);
    g.Cg = index(C / G);
    g.Og = index(O / G);
    const int fs = cl ? ba : ba + 1;  // first spatial axis of x and y
    for (int i = 0; i < nsp; ++i) {
        const int j = 3 - nsp + i;
        g.in[j] = index(xs.dims[fs + i]);
        g.out[j] = index(ys.dims[fs + i]);
        g.k[j] = index(I.attr.kernel[i]);
        g.pad[j] = index(I.attr.pad[i]);
        g.stride[j] = index(I.attr.stride[i]);
        g.dil[j] = index(I.attr.dilation[i]);
    }
    const index in_sp = g.in[0] * g.in[1] * g.in[2], out_sp = g.out[0] * g.out[1] * g.out[2];
    const index taps = g.k[0] * g.k[1] * g.k[2];
    // Activations: channel-first (B, C, S..) or channel-last (B, S.., C).
    const index cx = cl ? index(C) : 1, cy = cl ? index(O) : 1;
    g.xb = index(C) * in_sp;
    g.yb = index(O) * out_sp;
    g.xc = cl ? 1 : in_sp;
    g.yc = cl ? 1 : out_sp;
    g.xs[2] = cx;
    g.xs[1] = g.in[2] * cx;
    g.xs[0] = g.in[1] * g.in[2] * cx;
    g.ys[2] = cy;
    g.ys[1] = g.out[2] * cy;
    g.ys[0] = g.out[1] * g.out[2] * cy;
    // Weights. Per group, W holds (Og, Cg, taps) for Convolution and (Cg, Og, taps) for Deconvolution;
    // channel-first puts the taps last, channel-last puts the inner channel axis last.
    const index inner = transposed ? g.Og : g.Cg;  // W's second (per-group) channel axis
    const index tap_stride = cl ? inner : 1;
    const index inner_stride = cl ? 1 : taps;
    const index outer_stride = inner * taps;  // W's first axis
    g.wk[2] = tap_stride;
    g.wk[1] = g.k[2] * tap_stride;
    g.wk[0] = g.k[1] * g.k[2] * tap_stride;
    if (transposed) {
        g.wc = outer_stride;
        g.wo = inner_stride;
    } else {
        g.wo = outer_stride;
        g.wc = inner_stride;
    }
    g.wg = g.Cg * g.Og * taps;
    return g;
}

// Taps [lo, hi) of one axis for which the input index i0 + t*d lies in [0, X) (convolution).
struct tap_range {
    index lo, hi;
};
constexpr tap_range taps_inside(index i0, index K, index d, index X) {
    index lo = 0, hi = K;
    if (i0 < 0) lo = (-i0 + d - 1) / d;
    if (i0 + (K - 1) * d >= X) hi = X - 1 - i0 < 0 ? 0 : (X - 1 - i0) / d + 1;
    if (hi < lo) hi = lo;
    return {lo, hi};
}

// Convolution: y[b, o, s'] = bias[o] + sum_{c in group, taps} x[b, c, s'*stride - pad + t*dil] W[o, c, t].
// The float kernels store the accumulator as it is.
struct store_accumulator {
    constexpr float operator()(index, float acc) const { return acc; }
};

// T: the element type of x and W, Acc: the accumulator (float, or int32 for int8), `finish(o, acc)`: the
// stored value of output channel o (the accumulator itself, or its int8 requantization: QConvolution,
// kernels/quantized.hpp).
template <geometry g, class T, class Acc, class Y, class Finish>
inline void convolve(const T* x, const T* w, const Acc* bias, Y* y, Finish finish) {
    for (index b = 0; b < g.B; ++b)
        for (index gi = 0; gi < g.G; ++gi)
            for (index oj = 0; oj < g.Og; ++oj) {
                const index o = gi * g.Og + oj;
                const T* wo = w + gi * g.wg + oj * g.wo;
                const T* xg = x + b * g.xb + gi * g.Cg * g.xc;
                Y* yo = y + b * g.yb + o * g.yc;
                const Acc bv = bias ? bias[o] : Acc(0);
                for (index o0 = 0; o0 < g.out[0]; ++o0) {
                    const index i0 = o0 * g.stride[0] - g.pad[0];
                    const tap_range r0 = taps_inside(i0, g.k[0], g.dil[0], g.in[0]);
                    for (index o1 = 0; o1 < g.out[1]; ++o1) {
                        const index i1 = o1 * g.stride[1] - g.pad[1];
                        const tap_range r1 = taps_inside(i1, g.k[1], g.dil[1], g.in[1]);
                        for (index o2 = 0; o2 < g.out[2]; ++o2) {
                            const index i2 = o2 * g.stride[2] - g.pad[2];
                            const tap_range r2 = taps_inside(i2, g.k[2], g.dil[2], g.in[2]);
                            Acc acc = bv;
                            for (index c = 0; c < g.Cg; ++c) {
                                const T* xc = xg + c * g.xc;
                                const T* wc = wo + c * g.wc;
                                for (index t0 = r0.lo; t0 < r0.hi; ++t0) {
                                    const T* x0 = xc + (i0 + t0 * g.dil[0]) * g.xs[0];
                                    const T* w0 = wc + t0 * g.wk[0];
                                    for (index t1 = r1.lo; t1 < r1.hi; ++t1) {
                                        const T* x1 = x0 + (i1 + t1 * g.dil[1]) * g.xs[1];
                                        const T* w1 = w0 + t1 * g.wk[1];
                                        for (index t2 = r2.lo; t2 < r2.hi; ++t2)
                                            acc += Acc(x1[(i2 + t2 * g.dil[2]) * g.xs[2]]) *
                                                   Acc(w1[t2 * g.wk[2]]);
                                    }
                                }
                            }
                            yo[o0 * g.ys[0] + o1 * g.ys[1] + o2 * g.ys[2]] = finish(o, acc);
                        }
                    }
                }
            }
}

// Input index of output position `o` through tap `t` of a transposed convolution, or -1 when no input
// element reaches it: o = i*stride - pad + t*dil  <=>  i = (o + pad - t*dil) / stride, exactly.
constexpr index source_index(index o, index t, index stride, index pad, index dil, index X) {
    const index n = o + pad - t * dil;
    if (n < 0 || n % stride != 0) return -1;
    const index i = n / stride;
    return i < X ? i : -1;
}

// Deconvolution: y[b, o, s'] = bias[o] + sum over (c in group, taps t, inputs i with
// i*stride - pad + t*dil = s') of x[b, c, i] W[c, o, t].
template <geometry g>
inline void deconvolve(const float* x, const float* w, const float* bias, float* y) {
    for (index b = 0; b < g.B; ++b)
        for (index gi = 0; gi < g.G; ++gi)
            for (index oj = 0; oj < g.Og; ++oj) {
                const index o = gi * g.Og + oj;
                const float* wo = w + gi * g.wg + oj * g.wo;
                const float* xg = x + b * g.xb + gi * g.Cg * g.xc;
                float* yo = y + b * g.yb + o * g.yc;
                const float bv = bias ? bias[o] : 0.0f;
                for (index o0 = 0; o0 < g.out[0]; ++o0)
                    for (index o1 = 0; o1 < g.out[1]; ++o1)
                        for (index o2 = 0; o2 < g.out[2]; ++o2) {
                            float acc = bv;
                            for (index t0 = 0; t0 < g.k[0]; ++t0) {
                                const index i0 =
                                    source_index(o0, t0, g.stride[0], g.pad[0], g.dil[0], g.in[0]);
                                if (i0 < 0) continue;
                                for (index t1 = 0; t1 < g.k[1]; ++t1) {
                                    const index i1 =
                                        source_index(o1, t1, g.stride[1], g.pad[1], g.dil[1], g.in[1]);
                                    if (i1 < 0) continue;
                                    for (index t2 = 0; t2 < g.k[2]; ++t2) {
                                        const index i2 =
                                            source_index(o2, t2, g.stride[2], g.pad[2], g.dil[2], g.in[2]);
                                        if (i2 < 0) continue;
                                        const float* xp = xg + i0 * g.xs[0] + i1 * g.xs[1] + i2 * g.xs[2];
                                        const float* wp = wo + t0 * g.wk[0] + t1 * g.wk[1] + t2 * g.wk[2];
                                        for (index c = 0; c < g.Cg; ++c) acc += xp[c * g.xc] * wp[c * g.wc];
                                    }
                                }
                            }
                            yo[o0 * g.ys[0] + o1 * g.ys[1] + o2 * g.ys[2]] = acc;
                        }
            }
}

template <op_instance I>
constexpr index channel_axis() {
    return I.attr.channel_last ? I.in[0].rank - 1 : I.attr.base_axis;
}

}  // namespace detail

template <>
struct kernel<op_kind::convolution> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        static_assert(detail::all_float(I),
                      "kata::embedded: Convolution runs float32 tensors only (int8: QConvolution, "
                      "kata/ops/quantized.hpp)");
        static_assert(detail::fits_index(I),
                      "kata::embedded: Convolution tensor too large for the target's index");
        constexpr std::int64_t C = I.in[0].dims[detail::channel_axis<I>()];
        constexpr detail::geometry g = detail::make_geometry(I, C, I.in[1].dims[0], I.attr.group, false);
        detail::convolve<g>(io.input(0), io.input(1), I.attr.has_bias ? io.input(2) : nullptr, io.output(),
                            detail::store_accumulator{});
    }
};

// FusedConvolution (kata/ops/fused_convolution.hpp): the convolution, then its epilogue in place,
// y = nonlinearity(y + z). Inputs x, W[, b][, z].
template <>
struct kernel<op_kind::fused_convolution> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        static_assert(detail::all_float(I), "kata::embedded: FusedConvolution runs float32 tensors only");
        static_assert(detail::fits_index(I),
                      "kata::embedded: FusedConvolution tensor too large for the target's index");
        constexpr std::int64_t C = I.in[0].dims[detail::channel_axis<I>()];
        constexpr detail::geometry g = detail::make_geometry(I, C, I.in[1].dims[0], I.attr.group, false);
        float* y = io.output();
        detail::convolve<g>(io.input(0), io.input(1), I.attr.has_bias ? io.input(2) : nullptr, y,
                            detail::store_accumulator{});
        constexpr index n = index(I.out.numel());
        if constexpr (I.attr.has_residual) {
            const float* z = io.input(I.attr.has_bias ? 3 : 2);
            for (index i = 0; i < n; ++i) y[i] += z[i];
        }
        if constexpr (I.attr.nonlinearity == nonlinearity_kind::relu)
            for (index i = 0; i < n; ++i) y[i] = y[i] > 0.0f ? y[i] : 0.0f;
    }
};

template <>
struct kernel<op_kind::depthwise_convolution> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        static_assert(detail::all_float(I), "kata::embedded: DepthwiseConvolution runs float32 tensors only");
        static_assert(detail::fits_index(I),
                      "kata::embedded: DepthwiseConvolution tensor too large for the target's index");
        constexpr std::int64_t C = I.in[0].dims[detail::channel_axis<I>()];
        // attr.group holds the multiplier: group C, C*multiplier outputs, one input channel per group.
        constexpr detail::geometry g = detail::make_geometry(I, C, C * I.attr.group, C, false);
        detail::convolve<g>(io.input(0), io.input(1), I.attr.has_bias ? io.input(2) : nullptr, io.output(),
                            detail::store_accumulator{});
    }
};

template <>
struct kernel<op_kind::deconvolution> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        static_assert(detail::all_float(I), "kata::embedded: Deconvolution runs float32 tensors only");
        static_assert(detail::fits_index(I),
                      "kata::embedded: Deconvolution tensor too large for the target's index");
        constexpr std::int64_t C = I.in[0].dims[detail::channel_axis<I>()];
        constexpr std::int64_t Og = I.attr.channel_last ? I.in[1].dims[I.in[1].rank - 1] : I.in[1].dims[1];
        constexpr detail::geometry g = detail::make_geometry(I, C, Og * I.attr.group, I.attr.group, true);
        detail::deconvolve<g>(io.input(0), io.input(1), I.attr.has_bias ? io.input(2) : nullptr, io.output());
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
        static_assert(detail::all_float(I),
                      "kata::embedded: DepthwiseDeconvolution runs float32 tensors only");
        static_assert(detail::fits_index(I),
                      "kata::embedded: DepthwiseDeconvolution tensor too large for the target's index");
        constexpr std::int64_t C = I.in[0].dims[detail::channel_axis<I>()];
        // attr.group holds the divisor d: C/d groups of d input channels, one output channel each.
        constexpr detail::geometry g = detail::make_geometry(I, C, C / I.attr.group, C / I.attr.group, true);
        detail::deconvolve<g>(io.input(0), io.input(1), I.attr.has_bias ? io.input(2) : nullptr, io.output());
    }
};

}  // namespace kata::embedded
