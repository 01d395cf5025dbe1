// kata/embedded/kernels/pooling.hpp
//
// Embedded kernels for MaxPooling, AveragePooling, SumPooling, Unpooling and GlobalAveragePooling,
// with the window rules of nnabla's CPU kernels as kata's CPU kernels implement them
// (kata/cpu/kernels/pooling.hpp has the details): the pooled axes are
// [base_axis, base_axis + spatial_dims), channel-last puts the channel axis after them; per pooled
// axis and output index o
//     start = o*stride - pad;  end = min(start + kernel, X + pad);  size_incl = end - start;
//     start = max(start, 0);   end = min(end, X);
// MaxPooling: max over the valid inputs (-inf for an empty window); AveragePooling: sum / size_incl
// (including_pad) or / number of valid inputs; SumPooling: sum. int8 (quantized networks): MaxPooling on
// the codes, AveragePooling as an int32 sum divided with rounding half away from zero. Output sizes come from the
// op_instance, so ignore_border = false just yields the extra, clipped windows.
// Unpooling: out[.., i*k + r, ..] = in[.., i, ..]. GlobalAveragePooling: (N, C, ...) -> (N, C, 1, 1).
//
// The input is viewed as (outer, X0, X1, X2, inner): missing pooled axes become leading unit axes,
// inner = C for channel-last and 1 otherwise. One generic loop, all sizes compile-time constants, no
// workspace.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "../kernel.hpp"

namespace kata::embedded {

namespace detail {

struct pool_plan {
    index outer = 1, inner = 1;
    index X[3]{1, 1, 1}, Y[3]{1, 1, 1}, K[3]{1, 1, 1}, S[3]{1, 1, 1}, P[3]{0, 0, 0};
    index xsize = 1, ysize = 1;  // elements per outer index
};

constexpr pool_plan make_plan(const shape_t& in, const shape_t& out, const attributes& a, bool unpool) {
    pool_plan p;
    const int nk = a.spatial_dims;
    const int first = a.base_axis;
    p.outer = index(in.prod(0, first));
    p.inner = index(in.prod_from(first + nk));
    const int off = 3 - nk;
    for (int i = 0; i < nk; ++i) {
        p.X[off + i] = index(in.dims[first + i]);
        p.Y[off + i] = index(out.dims[first + i]);
        p.K[off + i] = index(a.kernel[i]);
        p.S[off + i] = unpool ? 1 : index(a.stride[i]);
        p.P[off + i] = unpool ? 0 : index(a.pad[i]);
    }
    p.xsize = p.X[0] * p.X[1] * p.X[2] * p.inner;
    p.ysize = p.Y[0] * p.Y[1] * p.Y[2] * p.inner;
    return p;
}

enum class mode { max, avg, sum };

// The start value of a max: -inf for float, the smallest code for int8 (a quantized network).
template <class T>
constexpr T lowest() {
    if constexpr (std::numeric_limits<T>::has_infinity)
        return -std::numeric_limits<T>::infinity();
    else
        return std::numeric_limits<T>::lowest();
}

struct window {
    index s, e, incl;
};

constexpr window window_of(index o, index X, index K, index S, index P) {
    const index s = o * S - P;
    const index e = s + K < X + P ? s + K : X + P;
    return {s < 0 ? 0 : s, e < X ? e : X, e - s};
}

// int8 average: round half away from zero of sum / count, in integers (kata/ops/quantized.hpp: the
// average of codes of one scale is a code of that scale; the numpy reference rounds the same way).
constexpr std::int32_t divide_round_half_away(std::int32_t sum, index count) {
    const std::int32_t c = std::int32_t(count);
    if (c <= 0) return 0;  // an empty window (pad >= kernel): no codes to average
    const std::int32_t q = (2 * (sum < 0 ? -sum : sum) + c) / (2 * c);
    return sum < 0 ? -q : q;
}

template <pool_plan L, mode M, bool IncludingPad, class T>
inline void pool(const T* x, T* y) {
    // float: accumulate in T; int8: max of codes, or an int32 sum for the average.
    using Acc = std::conditional_t<std::is_floating_point_v<T> || M == mode::max, T, std::int32_t>;
    constexpr index C = L.inner;
    for (index n = 0; n < L.outer; ++n) {
        const T* xb = x + n * L.xsize;
        T* yb = y + n * L.ysize;
        for (index o0 = 0; o0 < L.Y[0]; ++o0) {
            const window w0 = window_of(o0, L.X[0], L.K[0], L.S[0], L.P[0]);
            for (index o1 = 0; o1 < L.Y[1]; ++o1) {
                const window w1 = window_of(o1, L.X[1], L.K[1], L.S[1], L.P[1]);
                for (index o2 = 0; o2 < L.Y[2]; ++o2) {
                    const window w2 = window_of(o2, L.X[2], L.K[2], L.S[2], L.P[2]);
                    const index count = IncludingPad ? w0.incl * w1.incl * w2.incl
                                                     : (w0.e - w0.s) * (w1.e - w1.s) * (w2.e - w2.s);
                    T* yp = yb + ((o0 * L.Y[1] + o1) * L.Y[2] + o2) * C;
                    for (index c = 0; c < C; ++c) {
                        Acc acc = M == mode::max ? Acc(lowest<T>()) : Acc(0);
                        for (index i0 = w0.s; i0 < w0.e; ++i0)
                            for (index i1 = w1.s; i1 < w1.e; ++i1) {
                                const T* xr = xb + (i0 * L.X[1] + i1) * L.X[2] * C + c;
                                for (index i2 = w2.s; i2 < w2.e; ++i2) {
                                    const T v = xr[i2 * C];
                                    if constexpr (M == mode::max)
                                        acc = v > acc ? v : acc;
                                    else
                                        acc += v;
                                }
                            }
                        if constexpr (M == mode::avg) {
                            if constexpr (std::is_floating_point_v<T>)
                                acc = acc / float(count);
                            else
                                acc = divide_round_half_away(acc, count);
                        }
                        yp[c] = T(acc);
                    }
                }
            }
        }
    }
}

template <op_instance I, mode M, bool IncludingPad>
inline void run_pool(const kernel_io& io) {
    static_assert(detail::all_float(I) || (M != mode::sum && detail::all_int8(I)),
                  "kata::embedded: pooling runs float32 tensors (and Max/AveragePooling int8 tensors) only");
    static_assert(detail::fits_index(I), "kata::embedded: pooling tensor too large for the target's index");
    constexpr pool_plan L = make_plan(I.in[0], I.out, I.attr, false);
    if constexpr (detail::all_int8(I))  // max / rounded average of int8 codes: same scale, zero point 0
        pool<L, M, IncludingPad>(io.input<std::int8_t>(0), io.output<std::int8_t>());
    else
        pool<L, M, IncludingPad>(io.input(0), io.output());
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
        detail::run_pool<I, detail::mode::max, false>(io);
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
        detail::run_pool<I, detail::mode::avg, I.attr.including_pad>(io);
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
        detail::run_pool<I, detail::mode::sum, false>(io);
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
        static_assert(detail::all_float(I), "kata::embedded: Unpooling runs float32 tensors only");
        static_assert(detail::fits_index(I),
                      "kata::embedded: Unpooling tensor too large for the target's index");
        constexpr detail::pool_plan L = detail::make_plan(I.in[0], I.out, I.attr, true);
        constexpr index C = L.inner;
        const float* x = io.input(0);
        float* y = io.output();
        for (index n = 0; n < L.outer; ++n) {
            const float* xb = x + n * L.xsize;
            float* yp = y + n * L.ysize;
            for (index o0 = 0; o0 < L.Y[0]; ++o0)
                for (index o1 = 0; o1 < L.Y[1]; ++o1) {
                    const float* xr = xb + ((o0 / L.K[0]) * L.X[1] + o1 / L.K[1]) * L.X[2] * C;
                    for (index o2 = 0; o2 < L.Y[2]; ++o2)
                        for (index c = 0; c < C; ++c) *yp++ = xr[(o2 / L.K[2]) * C + c];
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
        static_assert(detail::all_float(I), "kata::embedded: GlobalAveragePooling runs float32 tensors only");
        static_assert(detail::fits_index(I),
                      "kata::embedded: GlobalAveragePooling tensor too large for the target's index");
        constexpr index NC = index(I.in[0].prod(0, 2));
        constexpr index HW = index(I.in[0].prod_from(2));
        const float* x = io.input(0);
        float* y = io.output();
        for (index i = 0; i < NC; ++i) {
            float acc = 0.0f;
            for (index j = 0; j < HW; ++j) acc += x[i * HW + j];
            y[i] = acc / float(HW);
        }
    }
};

}  // namespace kata::embedded
