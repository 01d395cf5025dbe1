// kata/cpu/kernels/loss.hpp
//
// CPU kernels of SigmoidCrossEntropy, LogSoftmax (+ its gradient) and TopNError (kata/ops/loss.hpp),
// allocation-free like every kernel.
//
//   SigmoidCrossEntropy  max(x, 0) - x t + log1p(exp(-|x|)): the stable form of
//                        -(t log s(x) + (1 - t) log(1 - s(x))) (no exp of a large positive number); t is
//                        read as an integer like nnabla's label type (float targets truncated toward 0)
//   SigmoidCrossEntropyGrad  dy (1 / (1 + exp(-x)) - t), t read the same way
//   LogSoftmax           per (outer, inner) position: x - max - log(sum(exp(x - max))), the sum in double
//   LogSoftmaxGrad       dx = dy - exp(y) sum(dy) along the axis (inputs dy, y)
//   TopNError            nnabla 1.39's count: the scores >= the target's score (the target included);
//                        error when that count exceeds n (a tie at the n-th place is an error)
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "../kernel.hpp"

namespace kata::cpu {

namespace detail {
// Target k of input `in` as nnabla reads it: an integer label (a float32 target is truncated toward zero).
template <op_instance I, int In>
inline float integer_target(const kernel_io& io, std::int64_t i) {
    if constexpr (I.in_type[In] == dtype::i32)
        return float(io.input<std::int32_t>(In)[i]);
    else
        return float(std::int32_t(io.input(In)[i]));
}
}  // namespace detail

template <>
struct kernel<op_kind::sigmoid_cross_entropy> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        constexpr std::int64_t n = I.out.numel();
        const float* x = io.input(0);
        float* y = io.output();
        for (std::int64_t i = 0; i < n; ++i) {
            const float v = x[i];
            y[i] = std::max(v, 0.0f) - v * detail::integer_target<I, 1>(io, i) +
                   std::log1p(std::exp(-std::fabs(v)));
        }
    }
};

// Inputs (dy, x, t).
template <>
struct kernel<op_kind::sigmoid_cross_entropy_grad> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        constexpr std::int64_t n = I.out.numel();
        const float* dy = io.input(0);
        const float* x = io.input(1);
        float* dx = io.output();
        for (std::int64_t i = 0; i < n; ++i)
            dx[i] = dy[i] * (1.0f / (1.0f + std::exp(-x[i])) - detail::integer_target<I, 2>(io, i));
    }
};

template <>
struct kernel<op_kind::log_softmax> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        constexpr detail::axis_view V = detail::make_axis_view(I.out, I.attr.axis);
        const float* x = io.input(0);
        float* y = io.output();
        for (std::int64_t o = 0; o < V.outer; ++o)
            for (std::int64_t j = 0; j < V.inner; ++j) {
                const std::int64_t base = o * V.C * V.inner + j;
                float mx = -std::numeric_limits<float>::infinity();
                for (std::int64_t c = 0; c < V.C; ++c) mx = std::max(mx, x[base + c * V.inner]);
                double s = 0.0;
                for (std::int64_t c = 0; c < V.C; ++c) s += std::exp(double(x[base + c * V.inner] - mx));
                const double ls = std::log(s);
                for (std::int64_t c = 0; c < V.C; ++c)
                    y[base + c * V.inner] = float(double(x[base + c * V.inner] - mx) - ls);
            }
    }
};

// Inputs (dy, y).
template <>
struct kernel<op_kind::log_softmax_grad> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        constexpr detail::axis_view V = detail::make_axis_view(I.out, I.attr.axis);
        const float* dy = io.input(0);
        const float* y = io.input(1);
        float* dx = io.output();
        for (std::int64_t o = 0; o < V.outer; ++o)
            for (std::int64_t j = 0; j < V.inner; ++j) {
                const std::int64_t base = o * V.C * V.inner + j;
                double s = 0.0;
                for (std::int64_t c = 0; c < V.C; ++c) s += double(dy[base + c * V.inner]);
                for (std::int64_t c = 0; c < V.C; ++c) {
                    const std::int64_t i = base + c * V.inner;
                    dx[i] = float(double(dy[i]) - std::exp(double(y[i])) * s);
                }
            }
    }
};

// Inputs (x, t int32); output float 0/1 of t's shape.
template <>
struct kernel<op_kind::top_n_error> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        constexpr detail::axis_view V = detail::make_axis_view(I.in[0], I.attr.axis);
        constexpr std::int64_t n = I.attr.n;
        const float* x = io.input(0);
        const std::int32_t* t = io.input<std::int32_t>(1);
        float* y = io.output();
        for (std::int64_t o = 0; o < V.outer; ++o)
            for (std::int64_t j = 0; j < V.inner; ++j) {
                const std::int64_t base = o * V.C * V.inner + j;
                const float threshold = x[base + std::int64_t(t[o * V.inner + j]) * V.inner];
                std::int64_t count = 0;
                for (std::int64_t c = 0; c < V.C; ++c) count += x[base + c * V.inner] >= threshold ? 1 : 0;
                y[o * V.inner + j] = count > n ? 1.0f : 0.0f;
            }
    }
};

}  // namespace kata::cpu
