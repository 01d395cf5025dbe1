// bench/gemm_threads.cpp -- kata's GEMM split (kata::cpu::blas::sgemm: blocks over kata's pool, each a
// single-threaded OpenBLAS call) against OpenBLAS's own threads and against one thread, on the GEMMs
// of ResNet-50 at batch 1 as the live executor runs them:
//   CL (channel-last, im2col / 1x1): C(pixels, O) = X(pixels, K) . W(O, K)^T
//   CF (channel-first):              C(O, pixels) = W(O, K) . X(K, pixels)
// plus the batch-16 classifier (16 x 1000 x 2048). Prints GFLOP/s per shape, the best of `reps`
// interleaved repetitions (openblas-threaded, kata split, single thread, ...), and the sum of the
// best times per variant.
//
//     OPENBLAS_CORETYPE=SkylakeX build/bench/gemm_threads [reps]
#include <kata/cpu/gemm.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

using i64 = std::int64_t;
namespace blas = kata::cpu::blas;

namespace {
struct shape {
    const char* name;
    i64 pix, O, K;
};
}  // namespace

int main(int argc, char** argv) {
    const std::vector<shape> shapes = {
        {"stem 7x7/2", 12544, 64, 147},      {"s1 1x1 64-64", 3136, 64, 64},
        {"s1 3x3 64", 3136, 64, 576},        {"s1 1x1 64-256", 3136, 256, 64},
        {"s1 1x1 256-64", 3136, 64, 256},    {"s2 1x1 256-128", 3136, 128, 256},
        {"s2 3x3/2 128", 784, 128, 1152},    {"s2 1x1 128-512", 784, 512, 128},
        {"s2 1x1 512-128", 784, 128, 512},   {"s3 3x3 256", 196, 256, 2304},
        {"s3 1x1 256-1024", 196, 1024, 256}, {"s3 1x1 1024-256", 196, 256, 1024},
        {"s4 3x3 512", 49, 512, 4608},       {"s4 1x1 512-2048", 49, 2048, 512},
        {"s4 1x1 2048-512", 49, 512, 2048},  {"fc batch 16", 16, 1000, 2048}};
    const int reps = argc > 1 ? std::max(1, std::atoi(argv[1])) : 15;
    const int nt = kata::cpu::num_threads();
    std::vector<float> A(12544 * 4608), B(2048 * 4608), C(12544 * 2048);
    for (std::size_t i = 0; i < A.size(); ++i) A[i] = float(i % 7) * 0.1f;
    for (std::size_t i = 0; i < B.size(); ++i) B[i] = float(i % 5) * 0.1f;
    std::printf("kata threads %d; GFLOP/s, best of %d: OpenBLAS %d threads | kata split | 1 thread\n", nt,
                reps, nt);
    for (int cf = 0; cf < 2; ++cf) {
        double total[3] = {};
        for (const shape& s : shapes) {
            const i64 M = cf ? s.O : s.pix, N = cf ? s.pix : s.O, K = s.K;
            const bool tb = !cf;
            const i64 lda = K, ldb = tb ? K : N;
            double best[3] = {1e30, 1e30, 1e30};
            for (int r = 0; r < reps; ++r)
                for (int v = 0; v < 3; ++v) {
                    const auto t0 = std::chrono::steady_clock::now();
                    if (v == 1) {
                        blas::sgemm(false, tb, M, N, K, 1.f, A.data(), lda, B.data(), ldb, 0.f, C.data(), N);
                    } else {
                        blas::set_blas_threads(v == 0 ? nt : 1);
                        blas::detail::sgemm1(false, tb, M, N, K, 1.f, A.data(), lda, B.data(), ldb, 0.f,
                                             C.data(), N);
                    }
                    const double ms =
                        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                            .count();
                    best[v] = std::min(best[v], ms);
                }
            const double gflop = 2.0 * double(M) * double(N) * double(K) / 1e6;
            std::printf("%s %-17s M %5lld N %5lld K %4lld  %6.1f | %6.1f | %6.1f\n", cf ? "CF" : "CL", s.name,
                        (long long)M, (long long)N, (long long)K, gflop / best[0], gflop / best[1],
                        gflop / best[2]);
            for (int v = 0; v < 3; ++v) total[v] += best[v];
        }
        std::printf(
            "%s sum of best times: OpenBLAS threads %.2f ms | kata split %.2f ms | 1 thread %.2f ms\n",
            cf ? "CF" : "CL", total[0], total[1], total[2]);
    }
}
