// kata/cpu/kernels/pooling.hpp
//
// CPU kernels for MaxPooling, AveragePooling, SumPooling, Unpooling and GlobalAveragePooling.
//
// Layout (kata/ops/pooling.hpp): the pooled axes are [attr.base_axis, attr.base_axis + spatial_dims);
// channel-first puts nothing after them, channel-last puts the channel axis after them. The input is
// viewed as (outer, X0, X1, X2, inner) with missing spatial axes padded in front as size 1 (kernel 1,
// stride 1, pad 0), outer = product of the leading axes, inner = C for channel-last and 1 otherwise.
// Channel-last therefore vectorises over C; channel-first runs a scalar window loop per output.
//
// Windows follow nnabla's CPU kernels (src/nbla/function/generic/{max,average,sum}_pooling.cpp), per
// pooled axis and output index o:
//     start = o*stride - pad;  end = min(start + kernel, X + pad);      // window in padded coordinates
//     size_incl = end - start;                                           // AveragePooling including_pad
//     start = max(start, 0);   end = min(end, X);                        // valid inputs only
// The output sizes come from I.out (kata's shape inference = nnabla's get_pooling_output_shape), so
// ignore_border=false simply yields more output positions whose windows are clipped at X + pad.
//   MaxPooling:     max over the valid inputs (padding never wins). An empty window (only possible with
//                   pad >= kernel) gives -inf; nnabla's old CPU kernel read an arbitrary element there.
//   AveragePooling: sum of valid inputs / size_incl (including_pad=true) or / number of valid inputs
//                   (including_pad=false; an empty window gives 0/0 = NaN, as in nnabla). Summation
//                   order and the final division match nnabla, so results are bit-identical for
//                   channel-first. PyTorch's avg_pool with count_include_pad=True uses the same divisor
//                   (window clipped to the padded bounds); ceil_mode=True matches ignore_border=false
//                   wherever the two frameworks produce the same number of outputs (nnabla's
//                   ignore_border=false size is (X + pad - 1)/stride + 1, torch's ceil formula differs
//                   and drops windows starting in the right padding).
//   SumPooling:     sum of the valid inputs.
// nnabla's CPU kernels reject channel_last=true; kata supports it (same arithmetic, other layout).
//
// Unpooling (nnabla F.unpooling): out[.., i*k + r, ..] = in[.., i, ..] on each pooled axis.
// GlobalAveragePooling: (N, C, ...) -> (N, C, 1, 1), mean over all axes after the channel.
// All kernels are allocation-free; Max/Average/SumPooling with >= 64K outputs split their output rows
// over kata's pool (each output is computed exactly as on one thread), the rest run on the calling
// thread (memory-bound, small).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

#include "../kernel.hpp"
#include "../parallel.hpp"

namespace kata::cpu {

namespace detail {

struct pool_plan {
    std::int64_t outer = 1, inner = 1;
    std::int64_t X[3]{1, 1, 1}, Y[3]{1, 1, 1}, K[3]{1, 1, 1}, S[3]{1, 1, 1}, P[3]{0, 0, 0};
    std::int64_t xsize = 1, ysize = 1;  // elements per outer index (spatial * inner)
};

constexpr pool_plan make_plan(const shape_t& in, const shape_t& out, const attributes& a, bool unpool) {
    pool_plan p;
    const int nk = a.spatial_dims;
    const int first = a.base_axis;
    p.outer = in.prod(0, first);
    p.inner = in.prod_from(first + nk);
    const int off = 3 - nk;
    for (int i = 0; i < nk; ++i) {
        p.X[off + i] = in.dims[first + i];
        p.Y[off + i] = out.dims[first + i];
        p.K[off + i] = a.kernel[i];
        p.S[off + i] = unpool ? 1 : a.stride[i];
        p.P[off + i] = unpool ? 0 : a.pad[i];
    }
    p.xsize = p.X[0] * p.X[1] * p.X[2] * p.inner;
    p.ysize = p.Y[0] * p.Y[1] * p.Y[2] * p.inner;
    return p;
}

enum class mode { max, avg, sum };

struct win {
    std::int64_t s, e, incl;
};

template <pool_plan L, int d>
inline win window(std::int64_t o) {
    std::int64_t s = o * L.S[d] - L.P[d];
    std::int64_t e = s + L.K[d] < L.X[d] + L.P[d] ? s + L.K[d] : L.X[d] + L.P[d];
    win w;
    w.incl = e - s;
    w.s = s < 0 ? 0 : s;
    w.e = e < L.X[d] ? e : L.X[d];
    return w;
}

// Output rows (n, o0, o1) of at least this many outputs in total are split over kata's pool (channel-last
// layers, vectorised over C, and channel-first ones of a training batch: 64 x 32 maps of 14 x 14 outputs
// per MaxPooling in examples/train_fashion_mnist.cpp, where the second core otherwise waits).
inline constexpr std::int64_t parallel_outputs = std::int64_t(1) << 16;

template <pool_plan L, mode M, bool IncludingPad>
inline void pool(const float* x, float* y) {
    constexpr std::int64_t C = L.inner;
    constexpr float lowest = -std::numeric_limits<float>::infinity();
    // Output range of the last pooled axis whose windows need no clipping: start >= 0, start+K <= X.
    constexpr std::int64_t lo2 = (L.P[2] + L.S[2] - 1) / L.S[2];
    constexpr std::int64_t hi2 = L.X[2] - L.K[2] + L.P[2] >= 0 ? (L.X[2] - L.K[2] + L.P[2]) / L.S[2] + 1 : 0;
    constexpr std::int64_t rows = L.outer * L.Y[0] * L.Y[1];
    auto body = [&](std::int64_t r0, std::int64_t r1) {
        for (std::int64_t row = r0; row < r1; ++row) {
            const std::int64_t n = row / (L.Y[0] * L.Y[1]);
            const std::int64_t o0 = (row / L.Y[1]) % L.Y[0];
            const std::int64_t o1 = row % L.Y[1];
            const float* xb = x + n * L.xsize;
            float* yb = y + n * L.ysize;
            const win w0 = window<L, 0>(o0);
            {
                const win w1 = window<L, 1>(o1);
                for (std::int64_t o2 = 0; o2 < L.Y[2]; ++o2) {
                    const win w2 = window<L, 2>(o2);
                    float* yp = yb + ((o0 * L.Y[1] + o1) * L.Y[2] + o2) * C;
                    const std::int64_t cnt = IncludingPad ? w0.incl * w1.incl * w2.incl
                                                          : (w0.e - w0.s) * (w1.e - w1.s) * (w2.e - w2.s);
                    if constexpr (C == 1) {
                        // Interior of the last axis: the window lies inside the input, so the inner
                        // loop has the compile-time trip count K[2] (unrolled).
                        if (o2 >= lo2 && o2 < hi2) {
                            const std::int64_t cnt_in = IncludingPad ? w0.incl * w1.incl * L.K[2]
                                                                     : (w0.e - w0.s) * (w1.e - w1.s) * L.K[2];
                            float acc = M == mode::max ? lowest : 0.0f;
                            for (std::int64_t i0 = w0.s; i0 < w0.e; ++i0)
                                for (std::int64_t i1 = w1.s; i1 < w1.e; ++i1) {
                                    const float* xr =
                                        xb + (i0 * L.X[1] + i1) * L.X[2] + (o2 * L.S[2] - L.P[2]);
                                    for (std::int64_t r = 0; r < L.K[2]; ++r) {
                                        if constexpr (M == mode::max)
                                            acc = xr[r] > acc ? xr[r] : acc;
                                        else
                                            acc += xr[r];
                                    }
                                }
                            if constexpr (M == mode::avg) acc = acc / float(cnt_in);
                            *yp = acc;
                            continue;
                        }
                        float acc = M == mode::max ? lowest : 0.0f;
                        for (std::int64_t i0 = w0.s; i0 < w0.e; ++i0)
                            for (std::int64_t i1 = w1.s; i1 < w1.e; ++i1) {
                                const float* xr = xb + (i0 * L.X[1] + i1) * L.X[2];
                                for (std::int64_t i2 = w2.s; i2 < w2.e; ++i2) {
                                    if constexpr (M == mode::max)
                                        acc = xr[i2] > acc ? xr[i2] : acc;
                                    else
                                        acc += xr[i2];
                                }
                            }
                        if constexpr (M == mode::avg) acc = acc / float(cnt);
                        *yp = acc;
                    } else {
                        for (std::int64_t c = 0; c < C; ++c) yp[c] = M == mode::max ? lowest : 0.0f;
                        for (std::int64_t i0 = w0.s; i0 < w0.e; ++i0)
                            for (std::int64_t i1 = w1.s; i1 < w1.e; ++i1)
                                for (std::int64_t i2 = w2.s; i2 < w2.e; ++i2) {
                                    const float* xp = xb + ((i0 * L.X[1] + i1) * L.X[2] + i2) * C;
                                    for (std::int64_t c = 0; c < C; ++c) {
                                        if constexpr (M == mode::max)
                                            yp[c] = xp[c] > yp[c] ? xp[c] : yp[c];
                                        else
                                            yp[c] += xp[c];
                                    }
                                }
                        if constexpr (M == mode::avg) {
                            const float fc = float(cnt);
                            for (std::int64_t c = 0; c < C; ++c) yp[c] = yp[c] / fc;
                        }
                    }
                }
            }
        }
    };
    if constexpr (L.outer * L.ysize >= parallel_outputs)
        parallel_for(rows, body, C > 1 ? 1 : 64);
    else
        body(0, rows);
}

}  // namespace detail

template <>
struct kernel<op_kind::max_pooling> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        constexpr detail::pool_plan L = detail::make_plan(I.in[0], I.out, I.attr, false);
        detail::pool<L, detail::mode::max, false>(io.input(0), io.output());
    }
};

template <>
struct kernel<op_kind::average_pooling> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        constexpr detail::pool_plan L = detail::make_plan(I.in[0], I.out, I.attr, false);
        detail::pool<L, detail::mode::avg, I.attr.including_pad>(io.input(0), io.output());
    }
};

template <>
struct kernel<op_kind::sum_pooling> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        constexpr detail::pool_plan L = detail::make_plan(I.in[0], I.out, I.attr, false);
        detail::pool<L, detail::mode::sum, false>(io.input(0), io.output());
    }
};

template <>
struct kernel<op_kind::unpooling> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        constexpr detail::pool_plan L = detail::make_plan(I.in[0], I.out, I.attr, true);
        constexpr std::int64_t C = L.inner;
        const float* x = io.input(0);
        float* y = io.output();
        for (std::int64_t n = 0; n < L.outer; ++n) {
            const float* xb = x + n * L.xsize;
            float* yp = y + n * L.ysize;
            for (std::int64_t o0 = 0; o0 < L.Y[0]; ++o0) {
                const std::int64_t i0 = o0 / L.K[0];
                for (std::int64_t o1 = 0; o1 < L.Y[1]; ++o1) {
                    const float* xr = xb + (i0 * L.X[1] + o1 / L.K[1]) * L.X[2] * C;
                    if constexpr (C == 1) {
                        for (std::int64_t i2 = 0; i2 < L.X[2]; ++i2)
                            for (std::int64_t r = 0; r < L.K[2]; ++r) *yp++ = xr[i2];
                    } else {
                        for (std::int64_t o2 = 0; o2 < L.Y[2]; ++o2) {
                            std::memcpy(yp, xr + (o2 / L.K[2]) * C, std::size_t(C) * sizeof(float));
                            yp += C;
                        }
                    }
                }
            }
        }
    }
};

template <>
struct kernel<op_kind::global_average_pooling> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        constexpr std::int64_t NC = I.in[0].prod(0, 2);
        constexpr std::int64_t HW = I.in[0].prod_from(2);
        const float* x = io.input(0);
        float* y = io.output();
        for (std::int64_t i = 0; i < NC; ++i) {
            const float* xp = x + i * HW;
            float acc[8]{};
            std::int64_t j = 0;
            for (; j + 8 <= HW; j += 8)
                for (int k = 0; k < 8; ++k) acc[k] += xp[j + k];
            float t = 0.0f;
            for (int k = 0; k < 8; ++k) t += acc[k];
            for (; j < HW; ++j) t += xp[j];
            y[i] = t / float(HW);
        }
    }
};

}  // namespace kata::cpu
