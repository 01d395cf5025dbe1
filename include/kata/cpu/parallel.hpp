// kata/cpu/parallel.hpp
//
// kata::cpu::parallel_for(n, f): runs f(begin, end) over a partition of [0, n) on a small persistent
// thread pool (the calling thread plus hardware_concurrency()-1 workers, capped at 8; KATA_NUM_THREADS
// overrides). Every multi-threaded loop of the CPU kernels goes through it: the memory-bound loops
// (im2col, col2im, depthwise convolutions, pooling), the direct NHWC convolution, and the GEMMs
// (kata/cpu/gemm.hpp splits each large GEMM into blocks, each one single-threaded OpenBLAS call).
//
// Design (the target machine has 2 cores):
//   * no OpenMP (not linked by the project), no allocation per call: the job is a function pointer plus
//     a context pointer to the caller's lambda, published through atomics;
//   * chunks are claimed dynamically (atomic counter), so a core busy with other work does not stall
//     the loop; chunk c of a job always covers the same range (n * c / chunks ...), whichever thread
//     claims it, so results do not depend on the scheduling;
//   * idle workers spin briefly (a parallel_for usually follows another one within microseconds),
//     then sleep on a futex (std::atomic::wait), so they do not steal cycles from other processes;
//   * a nested call, or a call while another thread owns the pool, runs serially (correct, never
//     deadlocks).
// The pool threads start on first use (one-time allocation) and are joined at exit.
//
// Diagnostics: chunks_run_by(i) counts the chunks thread slot i has run (slot 0: whichever thread
// published the job, slots 1..num_threads()-1: the workers), one relaxed increment per chunk; the tests
// use it to check that work reaches more than one thread.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define KATA_CPU_RELAX() _mm_pause()
#else
#define KATA_CPU_RELAX() ((void)0)
#endif

namespace kata::cpu {

namespace detail {

class thread_pool {
public:
    using task_fn = void (*)(void* ctx, std::int64_t begin, std::int64_t end);

    static thread_pool& instance() {
        static thread_pool p;
        return p;
    }

    int num_threads() const { return int(workers_.size()) + 1; }

    static constexpr int max_threads = 8;
    std::uint64_t chunks_run_by(int slot) const {
        return slot >= 0 && slot < max_threads ? stats_[slot].chunks.load(std::memory_order_relaxed) : 0;
    }

    // Runs fn over [0, n) in `chunks` (<= 4096) pieces. Returns false (nothing run) if the pool is busy.
    bool try_run(task_fn fn, void* ctx, std::int64_t n, std::int64_t chunks) {
        if (in_worker() || !owner_.try_lock()) return false;
        fn_ = fn;
        ctx_ = ctx;
        n_ = n;
        chunks_ = chunks;
        done_.store(0, std::memory_order_relaxed);
        const std::uint64_t gen = ++gen_counter_;
        // The ticket carries (generation, chunk count, next chunk): a claim is a CAS on it, so a worker
        // that wakes late can never take a chunk of a newer job with an older job's bounds.
        ticket_.store((gen << 32) | (std::uint64_t(chunks) << 16), std::memory_order_release);
        generation_.fetch_add(1, std::memory_order_release);
        generation_.notify_all();
        work(0);
        while (done_.load(std::memory_order_acquire) != chunks) KATA_CPU_RELAX();
        owner_.unlock();
        return true;
    }

    ~thread_pool() {
        stop_.store(true, std::memory_order_relaxed);
        generation_.fetch_add(1, std::memory_order_release);
        generation_.notify_all();
        for (auto& t : workers_) t.join();
    }

    static bool& in_worker() {
        static thread_local bool flag = false;
        return flag;
    }

private:
    thread_pool() {
        int n = int(std::thread::hardware_concurrency());
        if (const char* e = std::getenv("KATA_NUM_THREADS")) n = std::atoi(e);
        n = std::clamp(n, 1, max_threads);
        workers_.reserve(std::size_t(n - 1));
        for (int i = 1; i < n; ++i) workers_.emplace_back([this, i] { loop(i); });
    }

    // Claims and runs chunks of the currently published job until none is left.
    void work(int slot) {
        std::uint64_t t = ticket_.load(std::memory_order_acquire);
        for (;;) {
            const std::uint64_t chunks = (t >> 16) & 0xffff, idx = t & 0xffff;
            if (idx >= chunks) return;
            if (!ticket_.compare_exchange_weak(t, t + 1, std::memory_order_acq_rel,
                                               std::memory_order_acquire))
                continue;
            // The claimed job cannot finish (hence cannot be replaced) before this chunk is done.
            const std::int64_t c = std::int64_t(idx), nc = std::int64_t(chunks);
            const std::int64_t b = n_ * c / nc, e = n_ * (c + 1) / nc;
            if (b < e) fn_(ctx_, b, e);
            stats_[slot].chunks.fetch_add(1, std::memory_order_relaxed);
            done_.fetch_add(1, std::memory_order_release);
            t = ticket_.load(std::memory_order_acquire);
        }
    }

    void loop(int slot) {
        in_worker() = true;
        // The generation at construction (0), not a fresh load: a worker that is first scheduled after
        // jobs ran, or after the destructor's stop bump, must still see those bumps (a fresh load
        // would make it wait for a generation that never comes: a hang at exit).
        std::uint32_t seen = 0;
        for (;;) {
            std::uint32_t g = seen;
            for (int spin = 0; spin < 4000 && (g = generation_.load(std::memory_order_acquire)) == seen;
                 ++spin)
                KATA_CPU_RELAX();
            if (g == seen) {
                generation_.wait(seen, std::memory_order_acquire);
                g = generation_.load(std::memory_order_acquire);
                if (g == seen) continue;
            }
            seen = g;
            if (stop_.load(std::memory_order_relaxed)) return;
            work(slot);
        }
    }

    std::vector<std::thread> workers_;
    std::mutex owner_;
    std::atomic<std::uint32_t> generation_{0};
    std::atomic<bool> stop_{false};
    std::uint64_t gen_counter_ = 0;
    alignas(64) std::atomic<std::uint64_t> ticket_{0};
    alignas(64) std::atomic<std::int64_t> done_{0};
    task_fn fn_ = nullptr;
    void* ctx_ = nullptr;
    std::int64_t n_ = 0, chunks_ = 0;
    struct alignas(64) slot_stats {
        std::atomic<std::uint64_t> chunks{0};
    };
    slot_stats stats_[max_threads];
};

}  // namespace detail

inline int num_threads() { return detail::thread_pool::instance().num_threads(); }

// Chunks of parallel_for jobs run so far by pool thread slot i (see the header comment).
inline std::uint64_t chunks_run_by(int slot) { return detail::thread_pool::instance().chunks_run_by(slot); }

// f(begin, end) over a partition of [0, n). `grain`: the smallest worthwhile range; loops with
// n <= grain run inline on the calling thread.
template <class F>
void parallel_for(std::int64_t n, F&& f, std::int64_t grain = 1) {
    if (n <= 0) return;
    auto& pool = detail::thread_pool::instance();
    const int nt = pool.num_threads();
    if (nt <= 1 || n <= std::max<std::int64_t>(grain, 1)) {
        f(std::int64_t(0), n);
        return;
    }
    std::int64_t chunks = std::min<std::int64_t>(n / std::max<std::int64_t>(grain, 1), 4 * nt);  // <= 32
    chunks = std::max<std::int64_t>(chunks, 1);
    using Fn = std::remove_reference_t<F>;
    auto tramp = [](void* ctx, std::int64_t b, std::int64_t e) { (*static_cast<Fn*>(ctx))(b, e); };
    if (!pool.try_run(tramp, const_cast<void*>(static_cast<const void*>(&f)), n, chunks))
        f(std::int64_t(0), n);
}

}  // namespace kata::cpu
