// Both cores are used: kata's pool (kata/cpu/parallel.hpp) runs work on more than one thread, GEMMs are
// split over it as single-threaded OpenBLAS calls (kata/cpu/gemm.hpp), and a forward pass of a big
// layer executes on at least two distinct threads, in the live executor (GEMM blocks) and in the frozen
// one (direct NHWC convolution).
//
// This executable interposes cblas_sgemm (its definition wins over OpenBLAS's for the calls kata
// makes) to record, for every OpenBLAS call, the calling thread and OpenBLAS's thread count at that
// moment, then forwards to OpenBLAS's. The thread checks skip (with a message) on a machine or a
// KATA_NUM_THREADS setting with a single thread.
//
// References: the split GEMM is checked against the exact integer product (entries in [-4, 4], so
// every partial sum is an integer below 2^24 and float arithmetic is exact in any summation order;
// alpha and beta are powers of two or -1), compared for equality.
#include <doctest/doctest.h>

#include <kata/cpu.hpp>

#include <dlfcn.h>
#include <pthread.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

// A strong reference to OpenBLAS: with the interposer below, kata's own references to OpenBLAS are
// resolved here or weak, and the linker (--as-needed) would drop the library, leaving dlsym nothing.
extern "C" char* kata_test_openblas_corename_(void) __asm__("openblas_get_corename");

namespace {

using sgemm_fn = void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int, float,
                          float*, int);
const sgemm_fn real_sgemm = reinterpret_cast<sgemm_fn>(dlsym(RTLD_NEXT, "cblas_sgemm"));

struct call_log {
    std::mutex m;
    std::vector<pthread_t> threads;
    std::vector<int> blas_threads;
    void clear() {
        std::lock_guard<std::mutex> l(m);
        threads.clear();
        blas_threads.clear();
    }
    std::size_t distinct_threads() {
        std::lock_guard<std::mutex> l(m);
        std::set<pthread_t> s(threads.begin(), threads.end());
        return s.size();
    }
    int max_blas_threads() {
        std::lock_guard<std::mutex> l(m);
        int r = 0;
        for (int t : blas_threads) r = std::max(r, t);
        return r;
    }
    std::size_t calls() {
        std::lock_guard<std::mutex> l(m);
        return threads.size();
    }
};
call_log g_log;

bool multi_threaded() {
    if (std::thread::hardware_concurrency() < 2 || kata::cpu::num_threads() < 2) {
        MESSAGE("single-threaded machine or KATA_NUM_THREADS=1 (hardware_concurrency "
                << std::thread::hardware_concurrency() << ", kata threads " << kata::cpu::num_threads()
                << "): thread checks skipped");
        return false;
    }
    return true;
}

}  // namespace

extern "C" void kata_test_sgemm_hook_(int order, int ta, int tb, int m, int n, int k, float alpha,
                                      const float* a, int lda, const float* b, int ldb, float beta, float* c,
                                      int ldc) __asm__("cblas_sgemm");
extern "C" void kata_test_sgemm_hook_(int order, int ta, int tb, int m, int n, int k, float alpha,
                                      const float* a, int lda, const float* b, int ldb, float beta, float* c,
                                      int ldc) {
    {
        std::lock_guard<std::mutex> l(g_log.m);
        g_log.threads.push_back(pthread_self());
        g_log.blas_threads.push_back(kata::cpu::blas::blas_threads());
    }
    real_sgemm(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

using namespace kata;
using i64 = std::int64_t;

TEST_CASE("cpu threads: parallel_for covers every index once and reaches more than one thread") {
    REQUIRE(bool(real_sgemm));
    MESSAGE("OpenBLAS core " << std::string(kata_test_openblas_corename_()) << ", kata threads "
                             << cpu::num_threads());
    constexpr i64 n = 64;
    std::vector<int> hits(n);
    std::set<std::thread::id> seen;
    std::mutex m;
    bool both_slots = false;
    // A worker descheduled by another process may miss a short job: try a few times.
    for (int attempt = 0; attempt < 50 && (seen.size() < 2 || !both_slots); ++attempt) {
        std::fill(hits.begin(), hits.end(), 0);
        const std::uint64_t s0 = cpu::chunks_run_by(0), s1 = cpu::chunks_run_by(1);
        cpu::parallel_for(
            n,
            [&](i64 b, i64 e) {
                {
                    std::lock_guard<std::mutex> l(m);
                    seen.insert(std::this_thread::get_id());
                }
                for (i64 i = b; i < e; ++i) ++hits[std::size_t(i)];
                // ~0.2 ms of work per chunk: long enough for a sleeping worker to wake and claim some.
                const auto t0 = std::chrono::steady_clock::now();
                while (std::chrono::steady_clock::now() - t0 < std::chrono::microseconds(200)) {
                }
            },
            1);
        for (i64 i = 0; i < n; ++i) REQUIRE(hits[std::size_t(i)] == 1);
        both_slots = cpu::chunks_run_by(0) > s0 && cpu::chunks_run_by(1) > s1;
    }
    if (!multi_threaded()) return;
    CHECK(seen.size() >= 2);
    CHECK(both_slots);
}

namespace {
// C = alpha op(A) op(B) + beta C on integers, row-major, with leading dimensions larger than the
// matrices (sub-matrix views), against the exact int64 result.
void check_sgemm(bool ta, bool tb, i64 M, i64 N, i64 K, float alpha, float beta, bool expect_split) {
    std::mt19937 rng(unsigned(M * 131 + N * 7 + K + ta * 2 + tb));
    std::uniform_int_distribution<int> d(-4, 4);
    const i64 ar = ta ? K : M, ac = ta ? M : K, br = tb ? N : K, bc = tb ? K : N;
    const i64 lda = ac + 3, ldb = bc + 5, ldc = N + 7;
    std::vector<float> A(std::size_t(ar * lda)), B(std::size_t(br * ldb)), C(std::size_t(M * ldc));
    for (auto& v : A) v = float(d(rng));
    for (auto& v : B) v = float(d(rng));
    for (auto& v : C) v = float(d(rng));
    const std::vector<float> C0 = C;
    g_log.clear();
    cpu::blas::sgemm(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
    INFO("ta " << ta << " tb " << tb << " M " << M << " N " << N << " K " << K);
    if (expect_split && cpu::num_threads() > 1) CHECK(g_log.calls() > 1);
    if (!expect_split) CHECK(g_log.calls() == 1);
    CHECK(g_log.max_blas_threads() == 1);
    i64 bad = 0;
    for (i64 i = 0; i < M; ++i)
        for (i64 j = 0; j < ldc; ++j) {
            const float got = C[std::size_t(i * ldc + j)];
            if (j >= N) {  // outside the matrix: untouched
                bad += got != C0[std::size_t(i * ldc + j)];
                continue;
            }
            i64 s = 0;
            for (i64 k = 0; k < K; ++k) {
                const i64 a = i64(ta ? A[std::size_t(k * lda + i)] : A[std::size_t(i * lda + k)]);
                const i64 b = i64(tb ? B[std::size_t(j * ldb + k)] : B[std::size_t(k * ldb + j)]);
                s += a * b;
            }
            const double want =
                double(alpha) * double(s) + double(beta) * double(C0[std::size_t(i * ldc + j)]);
            bad += double(got) != want;
        }
    CHECK(bad == 0);
}
}  // namespace

TEST_CASE("cpu threads: GEMM split into blocks over the pool equals the exact integer product") {
    for (int t = 0; t < 4; ++t) {
        const bool ta = t & 1, tb = t & 2;
        check_sgemm(ta, tb, 37, 1001, 301, 1.f, 0.f, true);    // column blocks, ragged last block
        check_sgemm(ta, tb, 1003, 45, 257, 2.f, 1.f, true);    // row blocks
        check_sgemm(ta, tb, 640, 1200, 60, 0.5f, -1.f, true);  // 2 blocks per thread (>= 8M madds each)
        check_sgemm(ta, tb, 5, 7, 9, 1.f, 1.f, false);         // small: one call on the calling thread
    }
}

namespace {
// A 1x1 convolution is one GEMM (64 x 3136 x 256, no im2col), an Affine at batch 16 another
// (16 x 1000 x 2048).
constexpr void gemm_layers(builder& g) {
    g.output(PF::convolution(g.input("x", {1, 256, 56, 56}), 64, {1, 1}, {.name = "c"}));
    g.output(PF::affine(g.input("z", {16, 2048}), 1000, {.name = "fc"}));
}
// The frozen executor's direct NHWC kernel: 3x3 64->64 at 56x56 with bias and ReLU.
constexpr var nhwc_layer(builder& g) {
    auto x = g.input("x", {1, 56, 56, 64}, layout::channel_last);
    return F::relu(PF::convolution(x, 64, {3, 3}, {.pad = {1, 1}, .channel_last = true, .name = "c"}));
}
xt::xarray<float> ramp(std::vector<std::size_t> shape) {
    xt::xarray<float> x = xt::zeros<float>(shape);
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = float(int(i % 17) - 8) / 8.f;
    return x;
}
}  // namespace

TEST_CASE(
    "cpu threads: live executor, a big layer's GEMM blocks run on >= 2 threads with OpenBLAS at 1 thread") {
    using Net = network<gemm_layers>;
    parameter_store store(3);
    create_parameters<Net>(store);
    const xt::xarray<float> x = ramp({1, 256, 56, 56}), z = ramp({16, 2048});
    // The executor takes OpenBLAS to one thread at construction, and its GEMMs keep it there.
    cpu::blas::set_blas_threads(2);
    const bool blas_had_two = cpu::blas::blas_threads() == 2;  // OpenBLAS may cap at the core count
    cpu::executor<Net> run(store);
    CHECK(cpu::blas::blas_threads() == 1);
    run(x, z);
    if (blas_had_two) cpu::blas::set_blas_threads(2);
    std::size_t distinct = 0;
    for (int attempt = 0; attempt < 50 && distinct < 2; ++attempt) {
        g_log.clear();
        run(x, z);
        CHECK(g_log.max_blas_threads() == 1);
        if (cpu::num_threads() > 1) CHECK(g_log.calls() >= 4);  // both GEMMs split into >= 2 blocks
        distinct = g_log.distinct_threads();
    }
    if (!multi_threaded()) return;
    CHECK(distinct >= 2);
}

TEST_CASE("cpu threads: frozen executor, a big NHWC convolution runs on >= 2 threads") {
    using Net = network<nhwc_layer>;
    parameter_store store(5);
    create_parameters<Net>(store);
    const xt::xarray<float> x = ramp({1, 56, 56, 64});
    cpu::frozen_executor<Net> run(store);
    static_assert(decltype(run)::num_prepared == 1);  // the convolution runs on packed weights
    run(x);
    bool caller = false, worker = false;
    for (int attempt = 0; attempt < 50 && !(caller && worker); ++attempt) {
        g_log.clear();
        std::vector<std::uint64_t> before(std::size_t(cpu::num_threads()));
        for (int s = 0; s < cpu::num_threads(); ++s) before[std::size_t(s)] = cpu::chunks_run_by(s);
        run(x);
        CHECK(g_log.calls() == 0);  // the direct kernel: no OpenBLAS
        caller = cpu::chunks_run_by(0) > before[0];
        worker = false;
        for (int s = 1; s < cpu::num_threads(); ++s)
            worker = worker || cpu::chunks_run_by(s) > before[std::size_t(s)];
    }
    if (!multi_threaded()) return;
    CHECK(caller);
    CHECK(worker);
}
