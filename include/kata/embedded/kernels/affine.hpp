// kata/embedded/kernels/affine.hpp
//
// Embedded kernels for Affine and Embed.
//
// Affine (nnabla): x viewed as (B, K), B = prod(x.shape[:base_axis]), K = prod(x.shape[base_axis:]);
// W (K, O...) viewed as (K, O); y (B, O) = x . W (+ b). Loop order: for each row of x, y's row starts
// as the bias and every x[k] adds the k-th row of W, so W (usually the largest tensor of a small
// network, in flash) is streamed once per batch row in storage order; each y element is the k-ordered
// float sum of a plain dot product.
//
// Embed (nnabla F.embed): x0 holds int32 indices of any shape, W (n, f...), y = x0.shape + W.shape[1:],
// y[i, ...] = W[x0[i], ...]. The indices come through the typed kernel_io (input<std::int32_t>(0)).
// An index outside [0, n) gives a row of zeros (as the CPU kernel, kata/cpu/kernels/embed.hpp: nnabla
// reads out of bounds there).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../kernel.hpp"

namespace kata::embedded {

template <>
struct kernel<op_kind::affine> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        static_assert(
            detail::all_float(I),
            "kata::embedded: Affine runs float32 tensors only (int8: QAffine, kata/ops/quantized.hpp)");
        static_assert(detail::fits_index(I),
                      "kata::embedded: Affine tensor too large for the target's index");
        constexpr index B = index(I.in[0].prod(0, I.attr.base_axis));
        constexpr index K = index(I.in[0].prod_from(I.attr.base_axis));
        constexpr index O = index(I.in[1].prod_from(1));
        static_assert(I.in[1].dims[0] == K,
                      "kata::embedded: Affine: W.shape[0] must equal prod(x.shape[base_axis:])");
        const float* x = io.input(0);
        const float* W = io.input(1);
        const float* bias = I.attr.has_bias ? io.input(2) : nullptr;
        float* y = io.output();
        for (index r = 0; r < B; ++r) {
            float* yr = y + r * O;
            const float* xr = x + r * K;
            for (index o = 0; o < O; ++o) yr[o] = bias ? bias[o] : 0.0f;
            for (index k = 0; k < K; ++k) {
                const float xv = xr[k];
                const float* wk = W + k * O;
                for (index o = 0; o < O; ++o) yr[o] += xv * wk[o];
            }
        }
    }
};

template <>
struct kernel<op_kind::embed> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        static_assert(I.in_type[0] == dtype::i32, "kata::embedded: Embed takes int32 indices");
        static_assert(detail::all_float(I, 1), "kata::embedded: Embed runs float32 weights only");
        static_assert(detail::fits_index(I), "kata::embedded: Embed tensor too large for the target's index");
        constexpr index n_idx = index(I.in[0].numel());
        constexpr index n_rows = index(I.in[1].dims[0]);
        constexpr index row = index(I.in[1].prod_from(1));
        const std::int32_t* idx = io.input<std::int32_t>(0);
        const float* W = io.input(1);
        float* y = io.output();
        for (index i = 0; i < n_idx; ++i) {
            const index k = idx[i];
            float* yp = y + i * row;
            if (k >= 0 && k < n_rows) {
                std::memcpy(yp, W + k * row, std::size_t(row) * sizeof(float));
            } else {
                for (index j = 0; j < row; ++j) yp[j] = 0.0f;
            }
        }
    }
};

}  // namespace kata::embedded
