// kata/cpu/kernels/elementwise.hpp
//
// CPU kernels for the element-wise ops: ReLU, LeakyReLU, Sigmoid, Tanh, HardSwish, Identity, AddScalar,
// MulScalar, FixedPointQuantize (unary) and the numpy-broadcasting Add2, Sub2, Mul2, Div2.
//
// nnabla mapping (src/nbla/function/generic/*.cpp, float32):
//   ReLU       y = max(0, x)                      (NaN -> 0, like std::max(T(0), x))
//   LeakyReLU  y = x > 0 ? x : alpha x
//   Sigmoid    y = 1 / (1 + exp(-x))
//   Tanh       y = tanh(x)
//   HardSwish  y = x * min(max(x + 3, 0), 6) / 6      (float32, as torch.nn.functional.hardswish)
//   Identity   y = x
//   AddScalar  y = x + float(val);  MulScalar  y = x * float(val)
//   FixedPointQuantize (docs/nnabla-semantics.md §3.5): n' = sign ? n-1 : n, max = (2^n' - 1) delta, min =
// sign ? -max : 0;
//     x > max -> max; x < min -> min; else sgn(x) * trunc(|x|/delta + 0.5) * delta, with the same
//     float/double mix as nnabla (|x|/delta in float, + 0.5 in double, truncation, * delta in float).
//     nnabla truncates through `int`; kata uses int64 (identical wherever nnabla does not overflow).
//   Add2/Sub2/Mul2/Div2: numpy broadcasting (ranks aligned on the right; out shape = I.out).
//
// Unary kernels work in place (io.output() may equal io.input(0)). Binary kernels also work when io.output()
// aliases an input whose shape equals the output shape (every element is read before it is written
// at the same index).
//
// Broadcasting plan (computed at compile time): both inputs get strides aligned to the output (0 on
// broadcast axes), size-1 output axes are dropped and adjacent axes are merged whenever both inputs
// stay contiguous across them. The innermost merged axis is then one of four tight loops: both
// contiguous, a is a scalar, b is a scalar (e.g. (N,C,H,W) op (1,C,1,1) merges to (N,C,HW) with b
// scalar per inner run), or both scalars. Equal shapes are one flat loop.
//
// Threading: the flat loops (unary ops, equal-shape binary ops) of tensors with more than
// `parallel_threshold` (1M) elements are split over kata::cpu::parallel_for (chunks of >= 256K
// elements); smaller ones, and the broadcasting walk, stay on the calling thread (memory-bound: a
// second thread only pays off on big tensors). The threshold is a compile-time decision per shape.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../kernel.hpp"
#include "../parallel.hpp"

namespace kata::cpu {

namespace detail {

inline void copy_if_distinct(const float* x, float* y, std::int64_t n) {
    if (x != y) std::memcpy(y, x, std::size_t(n) * sizeof(float));
}

inline constexpr std::int64_t parallel_threshold = std::int64_t(1) << 20;
inline constexpr std::int64_t parallel_grain = std::int64_t(1) << 18;

// Runs body(begin, end) over [0, N): inline below the threshold, else on the thread pool.
template <std::int64_t N, class B>
inline void flat_for(B&& body) {
    if constexpr (N > parallel_threshold)
        parallel_for(N, body, parallel_grain);
    else
        body(std::int64_t(0), N);
}

template <op_instance I, class F>
inline void map(const kernel_io& io, F f) {
    constexpr std::int64_t n = I.out.numel();
    const float* x = io.input(0);
    float* y = io.output();
    flat_for<n>([&](std::int64_t b, std::int64_t e) {
        for (std::int64_t i = b; i < e; ++i) y[i] = f(x[i]);
    });
}

// ---- broadcasting ------------------------------------------------------------------------------
struct bc_plan {
    int rank = 0;  // merged rank (>= 1)
    std::int64_t len[max_rank]{};
    std::int64_t sa[max_rank]{};  // element strides of a / b for each merged axis (0 = broadcast)
    std::int64_t sb[max_rank]{};
    bool same = false;  // a and b both have the output's shape
    std::int64_t numel = 1;
};

constexpr bc_plan make_bc_plan(const shape_t& out, const shape_t& a, const shape_t& b) {
    bc_plan p;
    p.same = a == out && b == out;
    p.numel = out.numel();
    const int r = out.rank;
    // Aligned dims and contiguous strides of a, b.
    std::int64_t da[max_rank]{}, db[max_rank]{}, sa[max_rank]{}, sb[max_rank]{};
    for (int i = 0; i < r; ++i) {
        int ia = i - (r - a.rank), ib = i - (r - b.rank);
        da[i] = ia >= 0 ? a.dims[ia] : 1;
        db[i] = ib >= 0 ? b.dims[ib] : 1;
    }
    std::int64_t acc_a = 1, acc_b = 1;
    for (int i = r - 1; i >= 0; --i) {
        sa[i] = da[i] == 1 ? 0 : acc_a;
        sb[i] = db[i] == 1 ? 0 : acc_b;
        acc_a *= da[i];
        acc_b *= db[i];
    }
    for (int i = 0; i < r; ++i) {
        if (out.dims[i] == 1) continue;
        if (p.rank > 0) {
            const int k = p.rank - 1;
            // Merge axis i into the previous merged axis when both strides stay consistent.
            bool ok_a = (p.sa[k] == 0 && sa[i] == 0) ||
                        (p.sa[k] != 0 && sa[i] != 0 && p.sa[k] == sa[i] * out.dims[i]);
            bool ok_b = (p.sb[k] == 0 && sb[i] == 0) ||
                        (p.sb[k] != 0 && sb[i] != 0 && p.sb[k] == sb[i] * out.dims[i]);
            if (ok_a && ok_b) {
                p.len[k] *= out.dims[i];
                p.sa[k] = sa[i];
                p.sb[k] = sb[i];
                continue;
            }
        }
        p.len[p.rank] = out.dims[i];
        p.sa[p.rank] = sa[i];
        p.sb[p.rank] = sb[i];
        ++p.rank;
    }
    if (p.rank == 0) {
        p.rank = 1;
        p.len[0] = 1;
        p.sa[0] = 0;
        p.sb[0] = 0;
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
inline void binary_run(const kernel_io& io) {
    constexpr bc_plan P = make_bc_plan(I.out, I.in[0], I.in[1]);
    const float* a = io.input(0);
    const float* b = io.input(1);
    float* y = io.output();
    if constexpr (P.same) {
        flat_for<P.numel>([&](std::int64_t lo, std::int64_t hi) {
            for (std::int64_t i = lo; i < hi; ++i) y[i] = bin<K>(a[i], b[i]);
        });
    } else {
        constexpr int last = P.rank - 1;
        constexpr std::int64_t n = P.len[last];
        constexpr std::int64_t nruns = P.numel / n;
        constexpr bool ca = P.sa[last] != 0, cb = P.sb[last] != 0;  // contiguous (stride 1) or scalar
        std::int64_t idx[max_rank]{};
        std::int64_t oa = 0, ob = 0;
        for (std::int64_t r = 0; r < nruns; ++r) {
            float* yp = y + r * n;
            const float* ap = a + oa;
            const float* bp = b + ob;
            if constexpr (ca && cb) {
                for (std::int64_t j = 0; j < n; ++j) yp[j] = bin<K>(ap[j], bp[j]);
            } else if constexpr (ca) {
                const float bv = *bp;
                for (std::int64_t j = 0; j < n; ++j) yp[j] = bin<K>(ap[j], bv);
            } else if constexpr (cb) {
                const float av = *ap;
                for (std::int64_t j = 0; j < n; ++j) yp[j] = bin<K>(av, bp[j]);
            } else {
                const float v = bin<K>(*ap, *bp);
                for (std::int64_t j = 0; j < n; ++j) yp[j] = v;
            }
            for (int g = last - 1; g >= 0; --g) {
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
}

}  // namespace detail

// ---- unary -------------------------------------------------------------------------------------

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

template <>
struct kernel<op_kind::hard_swish> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        detail::map<I>(io, [](float v) {
            const float r6 = v + 3.0f < 0.0f ? 0.0f : (v + 3.0f > 6.0f ? 6.0f : v + 3.0f);
            return v * r6 / 6.0f;
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
        constexpr std::int64_t n = I.out.numel();  // bound to a constant: clang 14 misreads I at run time
        detail::copy_if_distinct(io.input(0), io.output(), n);
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
        // nnabla: max_ = (pow(2, n) - 1) * delta_ in double, stored as T.
        constexpr float vmax = float((double(std::int64_t(1) << nb) - 1.0) * double(delta));
        constexpr float vmin = I.attr.sign ? -vmax : 0.0f;
        detail::map<I>(io, [](float v) {
            if (v > vmax) return vmax;
            if (v < vmin) return vmin;
            const float ax = std::fabs(v);
            float q = float(std::int64_t(double(ax / delta) + 0.5)) * delta;
            return v < 0.0f ? -q : q;
        });
    }
};

// ---- binary ------------------------------------------------------------------------------------

template <>
struct kernel<op_kind::add2> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        detail::binary_run<op_kind::add2, I>(io);
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
        detail::binary_run<op_kind::sub2, I>(io);
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
        detail::binary_run<op_kind::mul2, I>(io);
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
        detail::binary_run<op_kind::div2, I>(io);
    }
};

}  // namespace kata::cpu
