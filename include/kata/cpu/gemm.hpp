// kata/cpu/gemm.hpp
//
// The BLAS entry point of the CPU kernels: a row-major single-precision GEMM,
//     C(M,N) = alpha * op(A)(M,K) * op(B)(K,N) + beta * C,
// forwarded to OpenBLAS's `cblas_sgemm` (Convolution, Deconvolution and Affine all reduce to it).
//
// Why the symbol is declared here and not through <cblas.h>: xtensor-blas (xflens/cxxblas) declares
// its own global `enum CBLAS_ORDER` / `cblas_sgemm`, so a translation unit that includes both
// <cblas.h> and xtensor-blas fails to compile. We declare the C symbol under a private C++ name
// (GCC/Clang asm label), with `int` for the enums and `blasint` (LP64 OpenBLAS: 32-bit int), which
// is the same ABI and collides with neither header.
//
// Speed note (TOOLCHAIN.md): OpenBLAS 0.3.21 mistakes Zen 5 for an AVX2 core and runs sgemm at half
// speed unless the process starts with OPENBLAS_CORETYPE=SkylakeX in its environment (it is read
// when the library loads, so setting it from inside `main` is too late). OpenBLAS's pthread build
// uses every core for one GEMM by default; `set_blas_threads` exposes openblas_set_num_threads.
#pragma once

#include <cstdint>

namespace kata::cpu::blas::detail {
extern "C" {
void kata_cblas_sgemm_(int order, int transa, int transb, int m, int n, int k, float alpha, const float* a,
                       int lda, const float* b, int ldb, float beta, float* c, int ldc) __asm__("cblas_sgemm");
// Weak: present with OpenBLAS, null with another BLAS (then thread control is a no-op).
void kata_openblas_set_num_threads_(int n) __asm__("openblas_set_num_threads") __attribute__((weak));
int kata_openblas_get_num_threads_(void) __asm__("openblas_get_num_threads") __attribute__((weak));
}
inline constexpr int row_major = 101;  // CblasRowMajor
inline constexpr int no_trans = 111;   // CblasNoTrans
inline constexpr int trans = 112;      // CblasTrans
}  // namespace kata::cpu::blas::detail

namespace kata::cpu::blas {

// Row-major C(M,N) = alpha * op(A) * op(B) + beta * C. op(A) is (M,K): A is stored (M,K) with leading
// dimension lda, or (K,M) when ta. op(B) is (K,N): B stored (K,N), or (N,K) when tb.
inline void sgemm(bool ta, bool tb, std::int64_t M, std::int64_t N, std::int64_t K, float alpha, const float* A,
                  std::int64_t lda, const float* B, std::int64_t ldb, float beta, float* C, std::int64_t ldc) {
    if (M <= 0 || N <= 0) return;
    detail::kata_cblas_sgemm_(detail::row_major, ta ? detail::trans : detail::no_trans,
                              tb ? detail::trans : detail::no_trans, int(M), int(N), int(K), alpha, A, int(lda), B,
                              int(ldb), beta, C, int(ldc));
}

// OpenBLAS's thread count (process-wide). No-ops / 1 when the BLAS is not OpenBLAS.
inline void set_blas_threads(int n) {
    if (detail::kata_openblas_set_num_threads_) detail::kata_openblas_set_num_threads_(n);
}
inline int blas_threads() {
    return detail::kata_openblas_get_num_threads_ ? detail::kata_openblas_get_num_threads_() : 1;
}

}  // namespace kata::cpu::blas
