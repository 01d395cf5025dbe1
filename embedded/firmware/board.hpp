// embedded/firmware/board.hpp
//
// What a firmware needs from the board it runs on, and nothing more, so that the same firmware source
// builds for a Cortex-M board under QEMU (embedded/boards/mps2-an386: semihosting) and for the host
// (embedded/boards/host: stdout, a heap-allocation counter), both with -fno-exceptions -fno-rtti.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kata_board {

// The board's name, for the firmware's report.
const char* name();

// Writes a NUL-terminated string to the board's console (the host's stdout in both boards).
void write(const char* text);

// Bytes of stack used so far (high-water mark of the stack region), or -1 where the board does not
// measure it.
long stack_used();

// Bytes of stack the board reserves (the linker script's stack region), or -1 where unknown.
long stack_reserved();

// Heap allocations since start-up, or -1 where the board does not count them (the Cortex-M board links
// no allocator at all: its ctest checks the ELF's symbols instead).
long heap_allocations();

}  // namespace kata_board
