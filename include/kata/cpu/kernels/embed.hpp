// kata/cpu/kernels/embed.hpp
//
// CPU kernel for Embed (nnabla F.embed(x0, w)): x0 holds integer indices of any shape, w is
// (n_inputs, f1, f2, ...); y = x0.shape + w.shape[1:], y[i, ...] = w[x0[i], ...].
//
// The index input is int32 (kata::dtype::i32): the kernel reads it as io.input<std::int32_t>(0).
//
// Deviation from nnabla: nnabla's generic CPU kernel (src/nbla/function/generic/embed.cpp) memcpy's
// w + x[i]*stride without any range check, so an out-of-range index reads out of bounds (undefined
// behaviour). kata writes a row of zeros for an index outside [0, n_inputs) instead: defined, and
// it neither clamps to a real row (which would silently alias another token) nor crashes.
// Single-threaded, allocation-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../kernel.hpp"

namespace kata::cpu {

template <>
struct kernel<op_kind::embed> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        constexpr std::int64_t n_idx = I.in[0].numel();
        constexpr std::int64_t n_rows = I.in[1].dims[0];
        constexpr std::int64_t row = I.in[1].prod_from(1);
        const std::int32_t* idx = io.input<std::int32_t>(0);
        const float* w = io.input(1);
        float* y = io.output();
        for (std::int64_t i = 0; i < n_idx; ++i) {
            const std::int64_t k = idx[i];
            float* yp = y + i * row;
            if (k >= 0 && k < n_rows) {
                std::memcpy(yp, w + k * row, std::size_t(row) * sizeof(float));
            } else {
                for (std::int64_t j = 0; j < row; ++j) yp[j] = 0.0f;
            }
        }
    }
};

}  // namespace kata::cpu
