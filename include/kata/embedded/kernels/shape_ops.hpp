// kata/embedded/kernels/shape_ops.hpp
//
// Embedded kernels for Concatenate, Reshape, Transpose, Softmax and Sink (nnabla semantics, as the
// CPU kernels in kata/cpu/kernels/shape_ops.hpp):
//   Concatenate (any axis): the output viewed as (outer, sum of the inputs' rows); one memcpy per input
//     per outer index.
//   Reshape: row-major order is unchanged: a copy, nothing when out aliases in (the memory plan
//     normally aliases the buffers, so the kernel is not even called).
//   Transpose (any permutation): an odometer over the output with each output axis' input stride,
//     computed at compile time.
//   Softmax (any axis): numerically stable, m = max over the axis, e = exp(x - m), y = e / sum(e);
//     for a non-last axis each inner lane is walked with its stride, so no workspace. Works in place.
//   Sink: nothing to compute.
// Reshape, Transpose and Concatenate move elements of any dtype (their size comes from the op_instance).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../kernel.hpp"

namespace kata::embedded {

template <>
struct kernel<op_kind::concatenate> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        static_assert(detail::fits_index(I),
                      "kata::embedded: Concatenate tensor too large for the target's index");
        constexpr std::size_t esize = std::size_t(dtype_size(I.type));
        constexpr auto plan = [] {
            struct concat_plan {
                index outer = 1;
                std::size_t chunk[exec::max_kernel_inputs]{};  // bytes of input k per outer index
            } p;
            p.outer = index(I.out.prod(0, I.attr.axis));
            for (int k = 0; k < I.nin; ++k) p.chunk[k] = std::size_t(I.in[k].prod_from(I.attr.axis)) * esize;
            return p;
        }();
        auto* y = static_cast<unsigned char*>(io.out);
        for (index o = 0; o < plan.outer; ++o)
            for (int k = 0; k < I.nin; ++k) {
                if (plan.chunk[k] == 0) continue;
                std::memcpy(y, io.input<const unsigned char>(k) + std::size_t(o) * plan.chunk[k],
                            plan.chunk[k]);
                y += plan.chunk[k];
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
        constexpr std::size_t bytes = std::size_t(I.out.numel()) * std::size_t(dtype_size(I.type));
        if (io.out != io.in[0]) std::memcpy(io.out, io.in[0], bytes);
    }
};

namespace detail {

struct transpose_plan {
    int rank = 0;
    index len[max_rank]{};     // output dims
    index stride[max_rank]{};  // input element stride of each output axis
    index numel = 1;
};

constexpr transpose_plan make_transpose(const shape_t& in, const attributes& a) {
    index is[max_rank]{};
    index acc = 1;
    for (int i = in.rank - 1; i >= 0; --i) {
        is[i] = acc;
        acc *= index(in.dims[i]);
    }
    transpose_plan p;
    p.rank = in.rank;
    for (int i = 0; i < in.rank; ++i) {
        p.len[i] = index(in.dims[a.axes[i]]);
        p.stride[i] = is[a.axes[i]];
        p.numel *= p.len[i];
    }
    if (p.rank == 0) {
        p.rank = 1;
        p.len[0] = 1;
        p.stride[0] = 1;
    }
    return p;
}

template <class T, transpose_plan P>
inline void transpose(const T* x, T* y) {
    constexpr int last = P.rank - 1;
    constexpr index n = P.len[last], s = P.stride[last];
    index idx[max_rank]{};
    index base = 0;
    for (index r = 0; r < P.numel / n; ++r) {
        T* yp = y + r * n;
        const T* xp = x + base;
        for (index j = 0; j < n; ++j) yp[j] = xp[j * s];
        for (int g = last - 1; g >= 0; --g) {
            if (++idx[g] < P.len[g]) {
                base += P.stride[g];
                break;
            }
            base -= P.stride[g] * (P.len[g] - 1);
            idx[g] = 0;
        }
    }
}

}  // namespace detail

template <>
struct kernel<op_kind::transpose> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        static_assert(detail::fits_index(I),
                      "kata::embedded: Transpose tensor too large for the target's index");
        constexpr detail::transpose_plan P = detail::make_transpose(I.in[0], I.attr);
        if constexpr (dtype_size(I.type) == 4)
            detail::transpose<std::uint32_t, P>(io.input<const std::uint32_t>(0), io.output<std::uint32_t>());
        else if constexpr (dtype_size(I.type) == 2)
            detail::transpose<std::uint16_t, P>(io.input<const std::uint16_t>(0), io.output<std::uint16_t>());
        else
            detail::transpose<std::uint8_t, P>(io.input<const std::uint8_t>(0), io.output<std::uint8_t>());
    }
};

template <>
struct kernel<op_kind::softmax> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        static_assert(detail::all_float(I), "kata::embedded: Softmax runs float32 tensors only");
        static_assert(detail::fits_index(I),
                      "kata::embedded: Softmax tensor too large for the target's index");
        constexpr index outer = index(I.in[0].prod(0, I.attr.axis));
        constexpr index A = index(I.in[0].dims[I.attr.axis]);
        constexpr index IN = index(I.in[0].prod_from(I.attr.axis + 1));
        const float* x = io.input(0);
        float* y = io.output();
        for (index o = 0; o < outer; ++o)
            for (index i = 0; i < IN; ++i) {
                const float* xl = x + o * A * IN + i;
                float* yl = y + o * A * IN + i;
                float m = xl[0];
                for (index a = 1; a < A; ++a) m = xl[a * IN] > m ? xl[a * IN] : m;
                float s = 0.0f;
                for (index a = 0; a < A; ++a) {
                    const float e = std::exp(xl[a * IN] - m);
                    yl[a * IN] = e;
                    s += e;
                }
                for (index a = 0; a < A; ++a) yl[a * IN] = yl[a * IN] / s;
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

}  // namespace kata::embedded
