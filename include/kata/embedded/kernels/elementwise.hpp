// kata/embedded/kernels/elementwise.hpp
//
// Embedded kernels for the element-wise ops. Same arithmetic as the CPU kernels
// (kata/cpu/kernels/elementwise.hpp, nnabla semantics):
//   ReLU y = x > 0 ? x : 0; LeakyReLU y = x > 0 ? x : alpha x; Sigmoid 1 / (1 + exp(-x)); Tanh;
//   Identity (a copy, nothing when in place); AddScalar x + val; MulScalar x * val;
//   FixedPointQuantize: sign ? n-1 : n bits, max = (2^bits - 1) delta, min = sign ? -max : 0,
//     clip, else sgn(x) trunc(|x|/delta + 0.5) delta (|x|/delta in float, + 0.5 in double, as nnabla);
//   Add2 / Sub2 / Mul2 / Div2 with numpy broadcasting (ranks aligned on the right).
// Unary kernels work in place (out == in 0). Binary kernels also do when the output aliases an input
// of the output's shape (each element is read before it is written at the same index).
//
// Broadcasting: each input gets element strides aligned to the output (0 on broadcast axes); size-1
// output axes are dropped and adjacent axes merged while both inputs stay contiguous across them,
// all at compile time. The innermost merged axis is a loop with constant strides (0 or 1 for each
// input), the outer ones an odometer. No workspace, no allocation.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../kernel.hpp"

namespace kata::embedded {

namespace detail {

template <op_instance I, class F>
inline void map(const kernel_io& io, F f) {
    static_assert(detail::all_float(I), "kata::embedded: element-wise ops run float32 tensors only");
    static_assert(detail::fits_index(I),
                  "kata::embedded: element-wise tensor too large for the target's index");
    constexpr index n = index(I.out.numel());
    const float* x = io.input(0);
    float* y = io.output();
    for (index i = 0; i < n; ++i) y[i] = f(x[i]);
}

struct bc_plan {
    int rank = 0;  // merged rank (>= 1)
    index len[max_rank]{};
    index sa[max_rank]{};  // element strides of a and b per merged axis (0: broadcast)
    index sb[max_rank]{};
    index numel = 1;
};

constexpr bc_plan make_bc_plan(const shape_t& out, const shape_t& a, const shape_t& b) {
    bc_plan p;
    p.numel = index(out.numel());
    const int r = out.rank;
    index sa[max_rank]{}, sb[max_rank]{};
    index acc_a = 1, acc_b = 1;
    for (int i = r - 1; i >= 0; --i) {
        const int ia = i - (r - a.rank), ib = i - (r - b.rank);
        const index da = ia >= 0 ? index(a.dims[ia]) : 1, db = ib >= 0 ? index(b.dims[ib]) : 1;
        sa[i] = da == 1 ? 0 : acc_a;
        sb[i] = db == 1 ? 0 : acc_b;
        acc_a *= da;
        acc_b *= db;
    }
    for (int i = 0; i < r; ++i) {
        const index n = index(out.dims[i]);
        if (n == 1) continue;
        if (p.rank > 0) {
            const int k = p.rank - 1;
            // Merge axis i into the previous one when both inputs keep one stride across them.
            const bool ok_a = (p.sa[k] == 0 && sa[i] == 0) || (sa[i] != 0 && p.sa[k] == sa[i] * n);
            const bool ok_b = (p.sb[k] == 0 && sb[i] == 0) || (sb[i] != 0 && p.sb[k] == sb[i] * n);
            if (ok_a && ok_b) {
                p.len[k] *= n;
                p.sa[k] = sa[i];
                p.sb[k] = sb[i];
                continue;
            }
        }
        p.len[p.rank] = n;
        p.sa[p.rank] = sa[i];
        p.sb[p.rank] = sb[i];
        ++p.rank;
    }
    if (p.rank == 0) {
        p.rank = 1;
        p.len[0] = 1;
    }
    return p;
}

template <op_kind K>
inline float bin(float a, float b) {
    if constexpr (K == op_kind::add2)
        return a + b;
    else if constexpr (K == op_kind::sub2)
        return a - b;
    else if constexpr (K == op_kind::mul2)
        return a * b;
    else
        return a / b;
}

template <op_kind K, op_instance I>
inline void binary(const kernel_io& io) {
    static_assert(detail::all_float(I), "kata::embedded: Add2/Sub2/Mul2/Div2 run float32 tensors only");
    static_assert(detail::fits_index(I), "kata::embedded: binary op tensor too large for the target's index");
    constexpr bc_plan P = make_bc_plan(I.out, I.in[0], I.in[1]);
    constexpr int last = P.rank - 1;
    constexpr index n = P.len[last], sa = P.sa[last], sb = P.sb[last];
    constexpr index nruns = P.numel / n;
    const float* a = io.input(0);
    const float* b = io.input(1);
    float* y = io.output();
    index idx[max_rank]{};
    index oa = 0, ob = 0;
    for (index r = 0; r < nruns; ++r) {
        float* yp = y + r * n;
        const float* ap = a + oa;
        const float* bp = b + ob;
        for (index j = 0; j < n; ++j) yp[j] = bin<K>(ap[j * sa], bp[j * sb]);
        for (int g = last - 1; g >= 0; --g) {  // odometer over the outer merged axes
            if (++idx[g] < P.len[g]) {
                oa += P.sa[g];
                ob += P.sb[g];
                break;
            }
            oa -= P.sa[g] * (P.len[g] - 1);
            ob -= P.sb[g] * (P.len[g] - 1);
            idx[g] = 0;
        }
    }
}

}  // namespace detail

// Unary ops: workspace 0, run = map of one scalar function.
template <>
struct kernel<op_kind::relu> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        detail::map<I>(io, [](float v) { return v > 0.0f ? v : 0.0f; });
    }
};

template <>
struct kernel<op_kind::leaky_relu> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        constexpr float alpha = float(I.attr.alpha);
        detail::map<I>(io, [](float v) { return v > 0.0f ? v : alpha * v; });
    }
};

template <>
struct kernel<op_kind::sigmoid> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        detail::map<I>(io, [](float v) { return 1.0f / (1.0f + std::exp(-v)); });
    }
};

template <>
struct kernel<op_kind::tanh> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        detail::map<I>(io, [](float v) { return std::tanh(v); });
    }
};

// HardSwish (nnabla F.hard_swish): y = x * relu6(x + 3) / 6.
template <>
struct kernel<op_kind::hard_swish> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        detail::map<I>(io, [](float v) {
            const float r = v + 3.0f < 0.0f ? 0.0f : (v + 3.0f > 6.0f ? 6.0f : v + 3.0f);
            return v * r / 6.0f;
        });
    }
};

template <>
struct kernel<op_kind::identity> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        static_assert(detail::fits_index(I),
                      "kata::embedded: Identity tensor too large for the target's index");
        constexpr std::size_t bytes = std::size_t(I.out.numel()) * std::size_t(dtype_size(I.type));
        if (io.out != io.in[0]) std::memcpy(io.out, io.in[0], bytes);
    }
};

template <>
struct kernel<op_kind::add_scalar> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        constexpr float s = float(I.attr.val);
        detail::map<I>(io, [](float v) { return v + s; });
    }
};

template <>
struct kernel<op_kind::mul_scalar> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        constexpr float s = float(I.attr.val);
        detail::map<I>(io, [](float v) { return v * s; });
    }
};

template <>
struct kernel<op_kind::fixed_point_quantize> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        constexpr int nb = I.attr.sign ? I.attr.n - 1 : I.attr.n;
        constexpr float delta = float(I.attr.delta);
        constexpr float vmax = float((double(std::int64_t(1) << nb) - 1.0) * double(delta));
        constexpr float vmin = I.attr.sign ? -vmax : 0.0f;
        detail::map<I>(io, [](float v) {
            if (v > vmax) return vmax;
            if (v < vmin) return vmin;
            const float q = float(std::int64_t(double(std::fabs(v) / delta) + 0.5)) * delta;
            return v < 0.0f ? -q : q;
        });
    }
};

template <>
struct kernel<op_kind::add2> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        detail::binary<op_kind::add2, I>(io);
    }
};

template <>
struct kernel<op_kind::sub2> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        detail::binary<op_kind::sub2, I>(io);
    }
};

template <>
struct kernel<op_kind::mul2> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        detail::binary<op_kind::mul2, I>(io);
    }
};

template <>
struct kernel<op_kind::div2> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        detail::binary<op_kind::div2, I>(io);
    }
};

}  // namespace kata::embedded
