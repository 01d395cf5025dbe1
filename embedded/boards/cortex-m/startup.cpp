// embedded/boards/cortex-m/startup.cpp
//
// Start-up code shared by the Cortex-M boards under QEMU (mps2-an386: Cortex-M4F, mps3-an547: Cortex-M55;
// each board directory only adds its linker script). Debian's gcc-arm-none-eabi ships no board support
// package, so these few pieces are ours:
//   * the vector table at address 0 (section .isr_vector, first in flash): initial stack pointer (top
//     of the linker script's stack region) and the reset handler; every fault handler reports the fault
//     over semihosting and ends QEMU with status 70, so a crash fails its ctest at once instead of
//     hanging until the time-out;
//   * Reset_Handler: copies .data's image from flash to RAM, zeroes .bss, enables the FPU (CPACR bits
//     20-23: full access to CP10/CP11, which also covers the M55's MVE; the firmware is built with
//     -mfloat-abi=hard, so the first float instruction would fault otherwise), paints the stack for the
//     high-water measurement (board.cpp), runs the static constructors (newlib's __libc_init_array), calls
//     main and passes its status to the host (semihosting SYS_EXIT_EXTENDED).
//   * Why not newlib's _start (rdimon-crt0): it asks the debugger for heap and stack bounds
//     (SYS_HEAPINFO) and moves the stack pointer there -- under QEMU to 0x21ffffec, outside this linker
//     script's RAM -- so the reserved stack and its measurement would be fiction; it also sets up
//     newlib's stdio and heap, which this firmware must not use. The firmware links with -nostartfiles
//     and supplies the two empty hooks __libc_init_array expects (_init, _fini).
//   * getentropy: libstdc++'s random_device references it (pulled in by <random> users); there is no
//     entropy source here, so it fails (-1; errno is left alone: setting it would link newlib's 1 KB
//     reentrancy struct into .data).
#include <cstddef>
#include <cstdint>

#include "../../firmware/board.hpp"
#include "semihosting.hpp"

extern "C" {
extern std::uint32_t __data_start__, __data_end__, __data_load__, __bss_start__, __bss_end__;
extern std::uint32_t __stack_limit, __stack_top;
void __libc_init_array();
int main();

void _init() {}
void _fini() {}

int getentropy(void*, std::size_t) { return -1; }

[[noreturn]] void Reset_Handler();
[[noreturn]] void Fault_Handler();
}

namespace kata_board {
void paint_stack();  // board.cpp
}

// The core exceptions of ARMv7-M / ARMv8-M. No peripheral interrupts are enabled.
using handler = void (*)();
__attribute__((section(".isr_vector"), used))
const handler vector_table[16] = {reinterpret_cast<handler>(&__stack_top),  // initial stack pointer
                                  Reset_Handler,
                                  Fault_Handler,  // NMI
                                  Fault_Handler,  // HardFault
                                  Fault_Handler,  // MemManage
                                  Fault_Handler,  // BusFault
                                  Fault_Handler,  // UsageFault
                                  Fault_Handler,  // SecureFault (ARMv8-M), reserved on ARMv7-M
                                  nullptr,
                                  nullptr,
                                  nullptr,
                                  Fault_Handler,  // SVCall
                                  Fault_Handler,  // DebugMonitor
                                  nullptr,
                                  Fault_Handler,   // PendSV
                                  Fault_Handler};  // SysTick

void Fault_Handler() {
    kata_board::write(
        "kata firmware: fault (HardFault/MemManage/BusFault/UsageFault/SecureFault or unexpected "
        "exception)\n");
    kata_board::semihosting::exit(70);
}

void Reset_Handler() {
    const std::uint32_t* src = &__data_load__;
    for (std::uint32_t* dst = &__data_start__; dst < &__data_end__;) *dst++ = *src++;
    for (std::uint32_t* dst = &__bss_start__; dst < &__bss_end__;) *dst++ = 0;
    *reinterpret_cast<volatile std::uint32_t*>(0xE000ED88) |= 0xFu << 20;  // CPACR: CP10, CP11 full access
    asm volatile("dsb\n\tisb" ::: "memory");
    kata_board::paint_stack();
    __libc_init_array();
    kata_board::semihosting::exit(main());
}
