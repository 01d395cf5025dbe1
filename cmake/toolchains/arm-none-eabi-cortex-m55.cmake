# CMake toolchain file: bare-metal Cortex-M55 (MVE, FPU) with Debian's gcc-arm-none-eabi (g++ 12) and newlib
# (packages gcc-arm-none-eabi, libnewlib-arm-none-eabi, libstdc++-arm-none-eabi-newlib; tools/deps.sh
# kata_install_embedded_deps). Used by the firmware sub-build (embedded/CMakeLists.txt), never by the
# host build: cmake/kata_embedded.cmake configures that sub-build with -DCMAKE_TOOLCHAIN_FILE=<this file>.
#
# Flags and why:
#   -mcpu=cortex-m55 -mthumb -mfloat-abi=hard                     the M55 with its FPU and MVE (Helium), hard-float
#       ABI (selects newlib's thumb/v8.1-m.main+mve/hard multilib);
#   -fno-exceptions -fno-rtti -fno-threadsafe-statics             no unwinding tables, no type_info, no
#       __cxa_guard: the embedded build promises none of them;
#   -fno-math-errno                                               sqrtf becomes the FPU's vsqrt.f32 and libm's
#       errno wrappers (which drag in newlib's 1 KB reentrancy struct in .data) stay out;
#   -ffunction-sections -fdata-sections + --gc-sections           unused kernels and library code dropped;
#   --specs=rdimon.specs                                          newlib's semihosting syscalls (abort() and
#       friends then end QEMU with a status instead of hanging); the board's own start-up replaces
#       rdimon's crt0 (-nostartfiles, see embedded/boards/cortex-m/startup.cpp).
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(KATA_EMBEDDED_CPU_FLAGS "-mcpu=cortex-m55 -mthumb -mfloat-abi=hard")

find_program(CMAKE_C_COMPILER arm-none-eabi-gcc REQUIRED)
find_program(CMAKE_CXX_COMPILER arm-none-eabi-g++ REQUIRED)
find_program(KATA_ARM_SIZE arm-none-eabi-size REQUIRED)
find_program(KATA_ARM_NM arm-none-eabi-nm REQUIRED)

# try_compile cannot link a bare-metal executable without a linker script.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(CMAKE_C_FLAGS_INIT "${KATA_EMBEDDED_CPU_FLAGS} -ffunction-sections -fdata-sections -fno-math-errno")
set(CMAKE_CXX_FLAGS_INIT "${KATA_EMBEDDED_CPU_FLAGS} -ffunction-sections -fdata-sections -fno-math-errno \
-fno-exceptions -fno-rtti -fno-threadsafe-statics")
set(CMAKE_EXE_LINKER_FLAGS_INIT "--specs=rdimon.specs -nostartfiles -Wl,--gc-sections")

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
