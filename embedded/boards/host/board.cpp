// embedded/boards/host/board.cpp: the board interface (firmware/board.hpp) on the build machine, so
// that the firmware's own source also builds and runs as a host program (-fno-exceptions -fno-rtti,
// kata's include directory only: no xtensor, BLAS or threads) and its ctest can run without the Arm
// toolchain. The console is stdout. Every heap entry point is counted: glibc lets a program replace
// malloc & co. (the definitions here win over libc's for the whole process), and the replaceable
// operator new/delete forms forward to them; the firmware prints the count, which must stay 0.
#include <atomic>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <new>

#include "../../firmware/board.hpp"

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);
}

namespace {
std::atomic<long> allocations{0};
bool counting = false;  // from the first board call on (the C runtime may allocate before main)
void* counted(void* p) {
    if (counting) allocations.fetch_add(1, std::memory_order_relaxed);
    return p;
}
}  // namespace

extern "C" {
void* malloc(std::size_t n) { return counted(__libc_malloc(n)); }
void* calloc(std::size_t n, std::size_t s) { return counted(__libc_calloc(n, s)); }
void* realloc(void* p, std::size_t n) { return counted(__libc_realloc(p, n)); }
void* aligned_alloc(std::size_t a, std::size_t n) { return counted(__libc_memalign(a, n)); }
void* memalign(std::size_t a, std::size_t n) { return counted(__libc_memalign(a, n)); }
int posix_memalign(void** out, std::size_t a, std::size_t n) {
    *out = counted(__libc_memalign(a, n));
    return *out ? 0 : 12;  // ENOMEM
}
void free(void* p) { __libc_free(p); }
}

void* operator new(std::size_t n) { return std::malloc(n ? n : 1); }
void* operator new[](std::size_t n) { return std::malloc(n ? n : 1); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return std::malloc(n ? n : 1); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return std::malloc(n ? n : 1); }
void* operator new(std::size_t n, std::align_val_t a) { return aligned_alloc(std::size_t(a), n ? n : 1); }
void* operator new[](std::size_t n, std::align_val_t a) { return aligned_alloc(std::size_t(a), n ? n : 1); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace kata_board {

const char* name() {
    counting = true;
    return "host (stdout, heap allocations counted)";
}

void write(const char* text) {
    counting = true;
    // stdout's buffer is allocated by the first write (outside the firmware's own code): unbuffered
    // output needs none.
    static const bool unbuffered = std::setvbuf(stdout, nullptr, _IONBF, 0) == 0;
    (void)unbuffered;
    std::fputs(text, stdout);
}

long stack_used() { return -1; }
long stack_reserved() { return -1; }
long heap_allocations() { return allocations.load(); }

}  // namespace kata_board
