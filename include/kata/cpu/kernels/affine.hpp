// kata/cpu/kernels/affine.hpp
//
// CPU kernel for nnabla's Affine: x is viewed as (B, K) with B = prod(x.shape[:base_axis]) and
// K = prod(x.shape[base_axis:]) (row-major flattening, so the layout of a 4-D input is whatever its
// producer wrote), W (K, O...) is (K, O) with O = prod(W.shape[1:]), y (B, O) = x . W (+ b).
//
// Design: exactly one row-major sgemm (no transposes: nnabla's (in, out) weight layout is already the
// GEMM's B operand). With a bias, y is first filled with b row by row and the sgemm runs with beta = 1.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../gemm.hpp"
#include "../kernel.hpp"

namespace kata::cpu {

template <>
struct kernel<op_kind::affine> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        constexpr std::int64_t B = I.in[0].prod(0, I.attr.base_axis);
        constexpr std::int64_t K = I.in[0].prod_from(I.attr.base_axis);
        constexpr std::int64_t O = I.in[1].prod_from(1);
        static_assert(I.in[1].dims[0] == K, "Affine: W.shape[0] must equal prod(x.shape[base_axis:])");
        float* y = io.out;
        float beta = 0.f;
        if constexpr (I.attr.has_bias) {
            const float* b = io.in[2];
            for (std::int64_t r = 0; r < B; ++r) std::memcpy(y + r * O, b, sizeof(float) * std::size_t(O));
            beta = 1.f;
        }
        blas::sgemm(false, false, B, O, K, 1.f, io.in[0], K, io.in[1], O, beta, y, O);
    }
};

}  // namespace kata::cpu
