// embedded/boards/cortex-m/board.cpp: the board interface (firmware/board.hpp) for the Cortex-M boards
// under QEMU (KATA_BOARD_NAME names the board; CMake defines it): console over semihosting; stack use
// measured by painting the stack region at reset and finding, later, the lowest word that no longer holds the
// paint (a high-water mark: the deepest the stack ever went).
#include <cstdint>

#include "../../firmware/board.hpp"
#include "semihosting.hpp"

extern "C" std::uint32_t __stack_limit, __stack_top;

namespace kata_board {

namespace {
constexpr std::uint32_t paint = 0xA5A5A5A5u;
}

// Called by Reset_Handler before anything else uses the stack deeply: paints from the stack's limit up
// to 64 bytes below the current stack pointer (the reset handler's own frame).
void paint_stack() {
    std::uint32_t* sp;
    asm volatile("mov %0, sp" : "=r"(sp));
    for (std::uint32_t* p = &__stack_limit; p < sp - 16; ++p) *p = paint;
}

#ifndef KATA_BOARD_NAME
#define KATA_BOARD_NAME "Cortex-M (QEMU)"
#endif
const char* name() { return KATA_BOARD_NAME; }

void write(const char* text) { semihosting::write(text); }

long stack_used() {
    const std::uint32_t* p = &__stack_limit;
    while (p < &__stack_top && *p == paint) ++p;
    return long(reinterpret_cast<std::uintptr_t>(&__stack_top) - reinterpret_cast<std::uintptr_t>(p));
}

long stack_reserved() {
    return long(reinterpret_cast<std::uintptr_t>(&__stack_top) -
                reinterpret_cast<std::uintptr_t>(&__stack_limit));
}

long heap_allocations() { return -1; }

}  // namespace kata_board
