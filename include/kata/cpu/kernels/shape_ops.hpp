// kata/cpu/kernels/shape_ops.hpp
//
// CPU kernels for Concatenate, Reshape, Transpose, Softmax and Sink (nnabla semantics).
//
//   Concatenate (any axis): the output is viewed as (outer, sum_k in[k].shape[axis] * inner); every
//     outer row is the inputs' rows one after another (one memcpy per input per outer index).
//   Reshape: row-major order is unchanged, so it is a plain copy (nothing when out aliases in; the
//     executor normally aliases the buffers and never calls it).
//   Transpose (any permutation): size-1 axes are dropped and output axes that stay adjacent in the
//     input are merged at compile time, e.g. NCHW -> NHWC (0,2,3,1) becomes (N, C, HW) -> (N, HW, C),
//     a batch of 2-D transposes. The last two merged output axes are walked in 32x32 tiles (or copied
//     row by row when the innermost axis stays contiguous); the others by an odometer.
//   Softmax (any axis): numerically stable, like nnabla's softmax.cpp: m = max over the axis,
//     e = exp(x - m), y = e / sum(e). For a non-last axis the running max/sum of the `inner` lanes live in
//     the workspace, so the inner loops stay contiguous. Works in place.
//   Sink: no output data; nothing to do.
// All kernels are single-threaded and allocation-free.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../kernel.hpp"

namespace kata::cpu {

namespace detail {

inline void copy(const float* x, float* y, std::int64_t n) {
    if (x != y && n > 0) std::memcpy(y, x, std::size_t(n) * sizeof(float));
}

struct concat_plan {
    std::int64_t outer = 1;
    std::int64_t chunk[max_kernel_inputs]{};  // elements of input k per outer index
    std::int64_t row = 0;                     // output elements per outer index
};

constexpr concat_plan make_concat(const op_instance& I) {
    concat_plan p;
    p.outer = I.out.prod(0, I.attr.axis);
    for (int k = 0; k < I.nin; ++k) {
        p.chunk[k] = I.in[k].prod_from(I.attr.axis);
        p.row += p.chunk[k];
    }
    return p;
}

struct transpose_plan {
    int rank = 0;                     // merged rank
    std::int64_t len[max_rank]{};     // merged output dims
    std::int64_t stride[max_rank]{};  // input element stride of each merged output axis
    std::int64_t numel = 1;
};

constexpr transpose_plan make_transpose(const shape_t& in, const attributes& a) {
    const int r = in.rank;
    // Drop size-1 input axes: keep[i] = new index of input axis i (or -1).
    int newidx[max_rank]{};
    int nr = 0;
    std::int64_t d[max_rank]{};
    for (int i = 0; i < r; ++i) {
        if (in.dims[i] == 1)
            newidx[i] = -1;
        else {
            newidx[i] = nr;
            d[nr++] = in.dims[i];
        }
    }
    int perm[max_rank]{};
    int np = 0;
    for (int i = 0; i < r; ++i)
        if (newidx[a.axes[i]] >= 0) perm[np++] = newidx[a.axes[i]];
    // Merge runs of output axes that are consecutive input axes. group_of_in[j]: merged group.
    int start[max_rank]{}, cnt[max_rank]{};  // per merged output axis: first input axis, count
    int ng = 0;
    for (int i = 0; i < np; ++i) {
        if (ng > 0 && perm[i] == start[ng - 1] + cnt[ng - 1])
            ++cnt[ng - 1];
        else {
            start[ng] = perm[i];
            cnt[ng] = 1;
            ++ng;
        }
    }
    // Input strides of the reduced input.
    std::int64_t is[max_rank]{};
    std::int64_t acc = 1;
    for (int i = nr - 1; i >= 0; --i) {
        is[i] = acc;
        acc *= d[i];
    }
    transpose_plan p;
    p.rank = ng;
    for (int g = 0; g < ng; ++g) {
        std::int64_t l = 1;
        for (int k = 0; k < cnt[g]; ++k) l *= d[start[g] + k];
        p.len[g] = l;
        p.stride[g] = is[start[g] + cnt[g] - 1];
        p.numel *= l;
    }
    if (p.rank == 0) {
        p.rank = 1;
        p.len[0] = 1;
        p.stride[0] = 1;
    }
    return p;
}

}  // namespace detail

template <>
struct kernel<op_kind::concatenate> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        constexpr detail::concat_plan P = detail::make_concat(I);
        constexpr int nin = I.nin;
        float* y = io.output();
        for (std::int64_t o = 0; o < P.outer; ++o) {
            for (int k = 0; k < nin; ++k) {
                if (P.chunk[k] == 0) continue;
                std::memcpy(y, io.input(k) + o * P.chunk[k], std::size_t(P.chunk[k]) * sizeof(float));
                y += P.chunk[k];
            }
        }
    }
};

template <>
struct kernel<op_kind::reshape> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        constexpr std::int64_t n = I.out.numel();  // bound to a constant: clang 14 misreads I at run time
        detail::copy(io.input(0), io.output(), n);
    }
};

template <>
struct kernel<op_kind::transpose> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        constexpr detail::transpose_plan P = detail::make_transpose(I.in[0], I.attr);
        const float* x = io.input(0);
        float* y = io.output();
        if constexpr (P.rank == 1) {
            detail::copy(x, y, P.numel);  // identity permutation (after dropping size-1 axes)
        } else {
            constexpr int r = P.rank;
            constexpr std::int64_t R = P.len[r - 2], Cn = P.len[r - 1];
            constexpr std::int64_t sr = P.stride[r - 2], sc = P.stride[r - 1];
            constexpr std::int64_t nblocks = P.numel / (R * Cn);
            constexpr std::int64_t T = 32;
            std::int64_t idx[max_rank]{};
            std::int64_t base = 0;
            for (std::int64_t b = 0; b < nblocks; ++b) {
                const float* xb = x + base;
                float* yb = y + b * R * Cn;
                if constexpr (sc == 1) {
                    for (std::int64_t i = 0; i < R; ++i)
                        std::memcpy(yb + i * Cn, xb + i * sr, std::size_t(Cn) * sizeof(float));
                } else {
                    for (std::int64_t i0 = 0; i0 < R; i0 += T) {
                        const std::int64_t i1 = i0 + T < R ? i0 + T : R;
                        for (std::int64_t j0 = 0; j0 < Cn; j0 += T) {
                            const std::int64_t j1 = j0 + T < Cn ? j0 + T : Cn;
                            for (std::int64_t i = i0; i < i1; ++i)
                                for (std::int64_t j = j0; j < j1; ++j) yb[i * Cn + j] = xb[i * sr + j * sc];
                        }
                    }
                }
                for (int g = r - 3; g >= 0; --g) {
                    if (++idx[g] < P.len[g]) {
                        base += P.stride[g];
                        break;
                    }
                    base -= P.stride[g] * (P.len[g] - 1);
                    idx[g] = 0;
                }
            }
        }
    }
};

template <>
struct kernel<op_kind::softmax> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        constexpr auto P = detail::make_axis_view(I.in[0], I.attr.axis);
        return P.inner > 1 ? 2 * std::size_t(P.inner) * sizeof(float) : 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        constexpr auto P = detail::make_axis_view(I.in[0], I.attr.axis);
        constexpr std::int64_t A = P.C, IN = P.inner;
        const float* x = io.input(0);
        float* y = io.output();
        for (std::int64_t o = 0; o < P.outer; ++o) {
            const float* xo = x + o * A * IN;
            float* yo = y + o * A * IN;
            if constexpr (IN == 1) {
                float m = xo[0];
                for (std::int64_t a = 1; a < A; ++a) m = xo[a] > m ? xo[a] : m;
                float s = 0.0f;
                for (std::int64_t a = 0; a < A; ++a) {
                    const float e = std::exp(xo[a] - m);
                    yo[a] = e;
                    s += e;
                }
                for (std::int64_t a = 0; a < A; ++a) yo[a] = yo[a] / s;
            } else {
                float* mx = reinterpret_cast<float*>(io.workspace);
                float* sm = mx + IN;
                for (std::int64_t i = 0; i < IN; ++i) {
                    mx[i] = xo[i];
                    sm[i] = 0.0f;
                }
                for (std::int64_t a = 1; a < A; ++a) {
                    const float* xr = xo + a * IN;
                    for (std::int64_t i = 0; i < IN; ++i) mx[i] = xr[i] > mx[i] ? xr[i] : mx[i];
                }
                for (std::int64_t a = 0; a < A; ++a) {
                    const float* xr = xo + a * IN;
                    float* yr = yo + a * IN;
                    for (std::int64_t i = 0; i < IN; ++i) {
                        const float e = std::exp(xr[i] - mx[i]);
                        yr[i] = e;
                        sm[i] += e;
                    }
                }
                for (std::int64_t a = 0; a < A; ++a) {
                    float* yr = yo + a * IN;
                    for (std::int64_t i = 0; i < IN; ++i) yr[i] = yr[i] / sm[i];
                }
            }
        }
    }
};

template <>
struct kernel<op_kind::sink> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io&) {}
};

}  // namespace kata::cpu
