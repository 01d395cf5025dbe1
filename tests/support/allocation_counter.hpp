// Counts every heap allocation of the process, for the tests that check an executor allocates nothing
// (tests/ops/executor_allocations.cpp, tests/exec/lenet_constant_static.cpp). Include it in exactly one
// translation unit of a test executable (each test is one TU): it DEFINES the allocation functions.
//
// It replaces every allocation entry point of the C and C++ runtimes (glibc interposition: the
// definitions here win over libc's for the whole process, OpenBLAS and the pool threads included):
// malloc, calloc, realloc, reallocarray, aligned_alloc, posix_memalign, memalign, valloc, pvalloc, and
// every replaceable operator new / new[] (plain, nothrow, aligned, aligned nothrow). Each is counted by
// kind; counts::now() reads the counters and describe() names what changed.
#pragma once

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <new>
#include <string>

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

// "malloc: 3 (last 4096 B), ..." for the kinds that changed between a and b.
std::string describe(const counts& a, const counts& b) {
    std::string s;
    for (int k = 0; k < num_kinds; ++k)
        if (b.c[k] != a.c[k])
            s += std::string(kind_name[k]) + ": " + std::to_string(b.c[k] - a.c[k]) + " (last " +
                 std::to_string(g_last_size[k].load()) + " B)  ";
    return s.empty() ? "none" : s;
}

}  // namespace
