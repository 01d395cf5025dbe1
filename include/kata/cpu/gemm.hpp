// kata/cpu/gemm.hpp
//
// The BLAS entry point of the CPU kernels: a row-major single-precision GEMM,
//     C(M,N) = alpha * op(A)(M,K) * op(B)(K,N) + beta * C,
// computed by OpenBLAS's `cblas_sgemm` (Convolution, Deconvolution and Affine all reduce to it).
//
// Threads: OpenBLAS runs single-threaded and kata splits each large GEMM over its own pool
// (kata/cpu/parallel.hpp) into blocks of rows of C (A's rows) or of columns of C (B's columns), each
// block one single-threaded cblas_sgemm on sub-matrices. Why not OpenBLAS's own threads: its threaded
// driver (0.3.21 pthreads, level3_thread.c) mallocs its job table on every call, so the executor
// would allocate at every forward pass (53 times per ResNet-50 forward); its single-threaded path
// takes its packing buffers from a table that is filled once per concurrently active thread (mmap)
// and reused, so after warm-up it allocates nothing, from any thread (checked with an allocation
// interposer, tests/ops/executor_allocations.cpp). One exception, outside kata's control: on AVX-512
// CPUs OpenBLAS 0.3.21 runs its SkylakeX/Cooperlake "small matrix" kernels for M*N*K <= 1e6, and the
// no-transpose one mallocs a packing buffer per call when the column-major M leaves 1-8 rows after its
// 16-row blocks and K >= 32 (measured: 33 calls of 12,800 B per LeNet training step on a Zen 4).
// Starting the process with OPENBLAS_CORETYPE=Haswell avoids those kernels
// (tests/train/training_step_allocations.cpp does). Splitting ourselves
// also lets a busy core's blocks be claimed by the other one (the pool claims blocks dynamically),
// where OpenBLAS's static partition waits for the slowest thread.
//
// OpenBLAS's thread count is process-wide: every call of blas::sgemm sets it to 1 if it is not
// (one cheap query per GEMM; the first call changes it, once). Code outside kata that wants
// OpenBLAS's threads for its own BLAS calls can call set_blas_threads(n) again; kata's next GEMM takes
// it back to 1.
//
// How a GEMM is split (M x N x K multiply-adds; small ones run on the calling thread as one call):
// the larger of M and N is cut, so that the operand every block has to re-pack (the whole of B for
// row blocks, of A for column blocks) is the smaller one. Column cuts are multiples of 16 floats (one
// 64-byte line, OpenBLAS's sgemm register tile along N), row cuts multiples of 8. There are 2 blocks
// per pool thread when each still has >= 8M multiply-adds and >= 256 rows or columns (so that another
// process on one core delays only a quarter of the GEMM: the idle thread claims the blocks left),
// 1 per thread otherwise (every extra block re-packs the other operand once more).
//
// Why the symbol is declared here and not through <cblas.h>: xtensor-blas (xflens/cxxblas) declares
// its own global `enum CBLAS_ORDER` / `cblas_sgemm`, so a translation unit that includes both
// <cblas.h> and xtensor-blas fails to compile. We declare the C symbol under a private C++ name
// (GCC/Clang asm label), with `int` for the enums and `blasint` (LP64 OpenBLAS: 32-bit int), which
// is the same ABI and collides with neither header.
//
// Speed note (docs/toolchain.md): OpenBLAS 0.3.21 mistakes Zen 5 for an AVX2 core and runs sgemm at half
// speed unless the process starts with OPENBLAS_CORETYPE=SkylakeX in its environment (it is read
// when the library loads, so setting it from inside `main` is too late).
#pragma once

#include <algorithm>
#include <cstdint>

#include "parallel.hpp"

namespace kata::cpu::blas::detail {
extern "C" {
void kata_cblas_sgemm_(int order, int transa, int transb, int m, int n, int k, float alpha, const float* a,
                       int lda, const float* b, int ldb, float beta, float* c,
                       int ldc) __asm__("cblas_sgemm");
// Weak: present with OpenBLAS, null with another BLAS (then thread control is a no-op).
void kata_openblas_set_num_threads_(int n) __asm__("openblas_set_num_threads") __attribute__((weak));
int kata_openblas_get_num_threads_(void) __asm__("openblas_get_num_threads") __attribute__((weak));
}
inline constexpr int row_major = 101;  // CblasRowMajor
inline constexpr int no_trans = 111;   // CblasNoTrans
inline constexpr int trans = 112;      // CblasTrans

// Below this many multiply-adds a GEMM runs as one call on the calling thread (a few microseconds:
// the pool's hand-off would cost a noticeable fraction). OpenBLAS's own threshold is 4 * 65536.
inline constexpr double split_min_madds = double(1 << 19);
// Blocks of at least this many multiply-adds are worth cutting in two per thread.
inline constexpr double two_blocks_min_madds = double(1 << 23);
inline constexpr std::int64_t two_blocks_min_len = 256;
inline constexpr std::int64_t col_unit = 16, row_unit = 8;

inline void sgemm1(bool ta, bool tb, std::int64_t M, std::int64_t N, std::int64_t K, float alpha,
                   const float* A, std::int64_t lda, const float* B, std::int64_t ldb, float beta, float* C,
                   std::int64_t ldc) {
    kata_cblas_sgemm_(row_major, ta ? trans : no_trans, tb ? trans : no_trans, int(M), int(N), int(K), alpha,
                      A, int(lda), B, int(ldb), beta, C, int(ldc));
}
}  // namespace kata::cpu::blas::detail

namespace kata::cpu::blas {

// OpenBLAS's thread count (process-wide). No-ops / 1 when the BLAS is not OpenBLAS.
inline void set_blas_threads(int n) {
    if (detail::kata_openblas_set_num_threads_) detail::kata_openblas_set_num_threads_(n);
}
inline int blas_threads() {
    return detail::kata_openblas_get_num_threads_ ? detail::kata_openblas_get_num_threads_() : 1;
}

// Makes OpenBLAS single-threaded if it is not (see the header comment). Called by sgemm; the
// executors also call it at construction, so that the change happens before the first forward pass.
inline void use_single_threaded_blas() {
    if (blas_threads() != 1) set_blas_threads(1);
}

// Row-major C(M,N) = alpha * op(A) * op(B) + beta * C. op(A) is (M,K): A is stored (M,K) with leading
// dimension lda, or (K,M) when ta. op(B) is (K,N): B stored (K,N), or (N,K) when tb. Large GEMMs are
// split over kata's pool (header comment); every element of C is computed by exactly one
// single-threaded OpenBLAS call, on block boundaries that depend only on the sizes and the pool's
// thread count, so results are the same from call to call.
inline void sgemm(bool ta, bool tb, std::int64_t M, std::int64_t N, std::int64_t K, float alpha,
                  const float* A, std::int64_t lda, const float* B, std::int64_t ldb, float beta, float* C,
                  std::int64_t ldc) {
    if (M <= 0 || N <= 0) return;
    use_single_threaded_blas();
    const std::int64_t nt = num_threads();
    const double madds = double(M) * double(N) * double(std::max<std::int64_t>(K, 1));
    const bool by_cols = N >= M;
    const std::int64_t unit = by_cols ? detail::col_unit : detail::row_unit;
    const std::int64_t units = ((by_cols ? N : M) + unit - 1) / unit;
    if (nt <= 1 || madds < detail::split_min_madds || units < 2) {
        detail::sgemm1(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    const std::int64_t len = by_cols ? N : M;
    const bool two = madds / double(2 * nt) >= detail::two_blocks_min_madds &&
                     len / (2 * nt) >= detail::two_blocks_min_len;
    const std::int64_t blocks = std::min(units, (two ? 2 : 1) * nt);
    // Blocks [b0, b1) of the pool's chunk are one contiguous range of rows or columns: one call.
    parallel_for(
        blocks,
        [&](std::int64_t b0, std::int64_t b1) {
            const std::int64_t i0 = std::min(len, units * b0 / blocks * unit);
            const std::int64_t i1 = std::min(len, units * b1 / blocks * unit);
            if (i1 <= i0) return;
            if (by_cols)
                detail::sgemm1(ta, tb, M, i1 - i0, K, alpha, A, lda, tb ? B + i0 * ldb : B + i0, ldb, beta,
                               C + i0, ldc);
            else
                detail::sgemm1(ta, tb, i1 - i0, N, K, alpha, ta ? A + i0 : A + i0 * lda, lda, B, ldb, beta,
                               C + i0 * ldc, ldc);
        },
        1);
}

}  // namespace kata::cpu::blas
