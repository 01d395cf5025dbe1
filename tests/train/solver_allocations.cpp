// The solvers allocate nothing per step in steady state: after set_parameters and one warm-up call,
// update(), zero_grad(), weight_decay(), clip_grad_by_norm(), scale_grad(), check_inf_or_nan_grad(),
// check_inf_grad(), check_nan_grad(), set_learning_rate() and learning_rate() make no allocation, for
// each of the ten solvers, on parameters of a few elements (the scalar tail only) and of many SIMD batches
// plus a tail.
//
// This executable replaces every allocation entry point of the C and C++ runtimes (glibc interposition,
// as tests/ops/executor_allocations.cpp does): malloc, calloc, realloc, reallocarray, aligned_alloc,
// posix_memalign, memalign, valloc, pvalloc and every replaceable operator new / new[]. Each is counted.
#include <doctest/doctest.h>

#include <kata/train/solvers.hpp>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void* __libc_valloc(std::size_t);
void* __libc_pvalloc(std::size_t);
}

namespace {

enum kind : int {
    k_malloc,
    k_calloc,
    k_realloc,
    k_reallocarray,
    k_aligned_alloc,
    k_posix_memalign,
    k_memalign,
    k_valloc,
    k_pvalloc,
    k_new,
    k_new_array,
    k_new_nothrow,
    k_new_array_nothrow,
    k_new_aligned,
    k_new_array_aligned,
    k_new_aligned_nothrow,
    k_new_array_aligned_nothrow,
    num_kinds
};
constexpr const char* kind_name[num_kinds] = {"malloc",
                                              "calloc",
                                              "realloc",
                                              "reallocarray",
                                              "aligned_alloc",
                                              "posix_memalign",
                                              "memalign",
                                              "valloc",
                                              "pvalloc",
                                              "operator new",
                                              "operator new[]",
                                              "operator new(nothrow)",
                                              "operator new[](nothrow)",
                                              "operator new(align)",
                                              "operator new[](align)",
                                              "operator new(align, nothrow)",
                                              "operator new[](align, nothrow)"};

std::atomic<long> g_count[num_kinds];
// The size of the most recent allocation of each kind (diagnostics only).
std::atomic<std::size_t> g_last_size[num_kinds];

inline void note(kind k, std::size_t n) {
    g_count[k].fetch_add(1, std::memory_order_relaxed);
    g_last_size[k].store(n, std::memory_order_relaxed);
}

void* aligned(std::size_t a, std::size_t n) {
    return __libc_memalign(a < sizeof(void*) ? sizeof(void*) : a, n ? n : 1);
}

}  // namespace

extern "C" {
void* malloc(std::size_t n) {
    note(k_malloc, n);
    return __libc_malloc(n);
}
void* calloc(std::size_t a, std::size_t b) {
    note(k_calloc, a * b);
    return __libc_calloc(a, b);
}
void* realloc(void* p, std::size_t n) {
    note(k_realloc, n);
    return __libc_realloc(p, n);
}
void* reallocarray(void* p, std::size_t a, std::size_t b) {
    note(k_reallocarray, a * b);
    std::size_t n;
    if (__builtin_mul_overflow(a, b, &n)) return nullptr;
    return __libc_realloc(p, n);
}
void* aligned_alloc(std::size_t a, std::size_t n) {
    note(k_aligned_alloc, n);
    return __libc_memalign(a, n);
}
int posix_memalign(void** r, std::size_t a, std::size_t n) {
    note(k_posix_memalign, n);
    void* p = __libc_memalign(a, n);
    if (!p) return ENOMEM;
    *r = p;
    return 0;
}
void* memalign(std::size_t a, std::size_t n) {
    note(k_memalign, n);
    return __libc_memalign(a, n);
}
void* valloc(std::size_t n) {
    note(k_valloc, n);
    return __libc_valloc(n);
}
void* pvalloc(std::size_t n) {
    note(k_pvalloc, n);
    return __libc_pvalloc(n);
}
}

void* operator new(std::size_t n) {
    note(k_new, n);
    if (void* p = __libc_malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
    note(k_new_array, n);
    if (void* p = __libc_malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    note(k_new_nothrow, n);
    return __libc_malloc(n ? n : 1);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
    note(k_new_array_nothrow, n);
    return __libc_malloc(n ? n : 1);
}
void* operator new(std::size_t n, std::align_val_t a) {
    note(k_new_aligned, n);
    if (void* p = aligned(std::size_t(a), n)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) {
    note(k_new_array_aligned, n);
    if (void* p = aligned(std::size_t(a), n)) return p;
    throw std::bad_alloc();
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    note(k_new_aligned_nothrow, n);
    return aligned(std::size_t(a), n);
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    note(k_new_array_aligned_nothrow, n);
    return aligned(std::size_t(a), n);
}
// Every block above comes from glibc's allocator: free() releases all of them.
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }

namespace {

struct counts {
    long c[num_kinds]{};
    static counts now() {
        counts r;
        for (int k = 0; k < num_kinds; ++k) r.c[k] = g_count[k].load();
        return r;
    }
    long total() const {
        long t = 0;
        for (long v : c) t += v;
        return t;
    }
};

std::string describe(const counts& a, const counts& b) {
    std::string s;
    for (int k = 0; k < num_kinds; ++k)
        if (b.c[k] != a.c[k])
            s += std::string(kind_name[k]) + ": " + std::to_string(b.c[k] - a.c[k]) + " (last " +
                 std::to_string(g_last_size[k].load()) + " B)  ";
    return s.empty() ? "none" : s;
}

/// One training step's solver calls, as DynamicLossScalingUpdater and the trainers make them.
bool step(kata::train::solver& s, std::vector<kata::parameter*>& params, int k) {
    s.zero_grad();
    for (kata::parameter* p : params)
        for (std::size_t i = 0; i < p->grad().size(); ++i)
            p->grad().data()[i] = 0.01f * float((i + k) % 17) - 0.05f;
    bool bad = s.check_inf_or_nan_grad();
    bad |= s.check_inf_grad();
    bad |= s.check_nan_grad();
    s.scale_grad(0.5f);
    s.weight_decay(1e-4f);
    s.clip_grad_by_norm(1.0f);
    s.set_learning_rate(s.learning_rate() * 0.99f);
    s.update();
    return bad;
}

TEST_CASE("solver steps allocate nothing after set_parameters and one warm-up step") {
    std::vector<std::unique_ptr<kata::train::solver>> solvers;
    solvers.push_back(std::make_unique<kata::S::Sgd>());
    solvers.push_back(std::make_unique<kata::S::Momentum>());
    solvers.push_back(std::make_unique<kata::S::Nesterov>());
    solvers.push_back(std::make_unique<kata::S::Adagrad>());
    solvers.push_back(std::make_unique<kata::S::Adadelta>());
    solvers.push_back(std::make_unique<kata::S::RMSprop>());
    solvers.push_back(std::make_unique<kata::S::Adam>());
    solvers.push_back(std::make_unique<kata::S::AdamW>());
    solvers.push_back(std::make_unique<kata::S::AMSGRAD>(kata::S::AMSGRAD::args{.bias_correction = true}));
    solvers.push_back(std::make_unique<kata::S::SgdW>());
    for (auto& s : solvers) {
        INFO("solver " << std::string(s->name()));
        kata::parameter_store store;
        store.get_or_create("conv/W", {16, 3, 3, 3}, kata::initializer::normal(0, 0.1));
        store.get_or_create("conv/b", {7}, kata::initializer::constant(0.5f));
        store.get_or_create("fc/W", {10007}, kata::initializer::uniform());
        store.get_or_create("frozen", {5}, kata::initializer::constant(1), /*need_grad=*/false);
        s->set_parameters(store);
        std::vector<kata::parameter*> params;
        for (auto& [name, p] : s->get_parameters()) params.push_back(p);
        step(*s, params, 0);  // warm-up (nothing should be needed, but the first call may set things up)

        const counts before = counts::now();
        bool bad = false;
        for (int k = 1; k <= 5; ++k) bad |= step(*s, params, k);
        const float lr = s->learning_rate();
        const counts after = counts::now();
        INFO("allocations during 5 steady-state steps: " << describe(before, after));
        CHECK(after.total() - before.total() == 0);
        CHECK_FALSE(bad);
        CHECK(lr > 0);
        CHECK(std::isfinite(params[0]->data.data()[0]));
    }
    // The counters work: allocations are seen.
    const counts c0 = counts::now();
    static void* volatile sink;
    sink = ::operator new(64);
    ::operator delete(sink);
    sink = std::malloc(32);
    std::free(sink);
    const counts c1 = counts::now();
    CHECK(c1.c[k_new] > c0.c[k_new]);
    CHECK(c1.c[k_malloc] > c0.c[k_malloc]);
    // ... and set_parameters, which allocates the states, is seen allocating.
    kata::parameter p;
    p.data = xt::zeros<float>({4});
    p.grad() = xt::zeros<float>({4});
    kata::S::Adam adam;
    const counts c2 = counts::now();
    adam.set_parameters({{"p", &p}});
    CHECK(counts::now().total() > c2.total());
}

}  // namespace
