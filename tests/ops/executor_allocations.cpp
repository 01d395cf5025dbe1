// Issue 2, point 4: the CPU executor allocates nothing per call in steady state.
//
// This executable replaces malloc/calloc/realloc (glibc interposition: the definitions here win over
// libc's for the whole process, OpenBLAS included) and the global operator new, and counts calls.
// After construction and one warm-up call, further calls must not allocate at all.
#include <doctest/doctest.h>

#include <kata/cpu.hpp>

#include <atomic>
#include <cstdlib>
#include <new>

extern "C" void* __libc_malloc(std::size_t);
extern "C" void* __libc_calloc(std::size_t, std::size_t);
extern "C" void* __libc_realloc(void*, std::size_t);

namespace {
std::atomic<long> g_allocs{0};
}

extern "C" void* malloc(std::size_t n) {
    g_allocs.fetch_add(1, std::memory_order_relaxed);
    return __libc_malloc(n);
}
extern "C" void* calloc(std::size_t a, std::size_t b) {
    g_allocs.fetch_add(1, std::memory_order_relaxed);
    return __libc_calloc(a, b);
}
extern "C" void* realloc(void* p, std::size_t n) {
    g_allocs.fetch_add(1, std::memory_order_relaxed);
    return __libc_realloc(p, n);
}
void* operator new(std::size_t n) {
    g_allocs.fetch_add(1, std::memory_order_relaxed);
    if (void* p = __libc_malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

using namespace kata;

// Every kernel family: 3x3 and 1x1 convolutions (im2col + GEMM and direct GEMM), BN, pooling,
// residual Add2, concat, reshape alias, affine, softmax.
constexpr var net(builder& g) {
    auto x = g.input("x", {2, 3, 33, 31});
    auto h = F::relu(PF::batch_normalization(PF::convolution(x, 16, {3, 3}, {.pad = {1, 1}, .name = "c1"}),
                                             {.batch_stat = false, .name = "bn1"}));
    h = F::max_pooling(h, {2, 2});
    auto r = PF::convolution(h, 16, {1, 1}, {.name = "c2"});
    h = F::relu(h + r);
    h = F::concatenate({h, r}, 1);
    h = F::average_pooling(h, {2, 2}, {.ignore_border = false});
    h = F::reshape(h, {2, -1});
    return F::softmax(PF::affine(h, 10, {.name = "fc"}));
}
using Net = network<net>;

TEST_CASE("executor: no heap allocation per call in steady state") {
    parameter_store store(7);
    create_parameters<Net>(store);
    xt::xarray<float> x = xt::ones<float>({2, 3, 33, 31});
    cpu::executor<Net> run(store);
    auto y0 = run(x);  // warm-up: BLAS and the thread pool may set themselves up once
    xt::xarray<float> first = y0;
    const long before = g_allocs.load();
    double checksum = 0;
    for (int i = 0; i < 20; ++i) {
        auto y = run(x);
        checksum += double(y(0, 0));
    }
    const long after = g_allocs.load();
    CHECK(after - before == 0);
    CHECK(checksum == doctest::Approx(20.0 * double(first(0, 0))));
    // The counter works: an allocation is seen.
    const long c0 = g_allocs.load();
    std::vector<float> v(100);
    CHECK(g_allocs.load() > c0);
}
