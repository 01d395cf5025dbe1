// embedded/boards/cortex-m/semihosting.hpp
//
// Arm semihosting for the QEMU boards: the firmware's console and its exit status reach the host
// through the debugger channel (`bkpt 0xab` on M-profile cores; QEMU implements it with
// `-semihosting-config enable=on,target=native`). Three calls are enough:
//   SYS_OPEN(":tt", "w")  the host's stdout, as a handle;  SYS_WRITE(handle, buffer, length);
//   SYS_EXIT_EXTENDED(ADP_Stopped_ApplicationExit, status): ends QEMU with `status` as its exit code
//     (plain SYS_EXIT on 32-bit Arm cannot carry a status: QEMU would report 0 or 1).
// Why our own few lines instead of newlib's stdio over librdimon: printf pulls in malloc (stdio buffers)
// and newlib's exit() the stdio clean-up; the firmware must link no allocator at all.
// On real hardware without a debugger a semihosting call faults: a board port replaces these with a UART.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace kata_board::semihosting {

enum op : std::uint32_t { sys_open = 0x01, sys_write = 0x05, sys_exit_extended = 0x20 };
inline constexpr std::uint32_t adp_stopped_application_exit = 0x20026;

inline std::int32_t call(std::uint32_t operation, const void* argument) {
    register std::uint32_t r0 asm("r0") = operation;
    register const void* r1 asm("r1") = argument;
    asm volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return std::int32_t(r0);
}

inline void write(const char* text) {
    static std::int32_t handle = -1;
    if (handle < 0) {
        const std::uintptr_t open_args[3] = {reinterpret_cast<std::uintptr_t>(":tt"), 4 /* "w" */,
                                             3 /* strlen */};
        handle = call(sys_open, open_args);
    }
    const std::uintptr_t args[3] = {std::uintptr_t(handle), reinterpret_cast<std::uintptr_t>(text),
                                    std::strlen(text)};
    call(sys_write, args);
}

[[noreturn]] inline void exit(int status) {
    const std::uint32_t args[2] = {adp_stopped_application_exit, std::uint32_t(status)};
    call(sys_exit_extended, args);
    for (;;) {
    }
}

}  // namespace kata_board::semihosting
