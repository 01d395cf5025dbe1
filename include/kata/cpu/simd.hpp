// kata/cpu/simd.hpp
//
// Run-time choice of the CPU kernels' instruction set. The library is compiled for the baseline of
// the target (plain x86-64 by default, no -march=native: KATA_NATIVE is a benchmark-only CMake option),
// so `__AVX2__` is not defined in a default build and a compile-time ISA switch would never pick a
// vector kernel. Kernels that have an AVX-512 or AVX2 + FMA variant compile it with a function target
// attribute (KATA_CPU_AVX512_TARGET, KATA_CPU_AVX2_TARGET) and call it only when the CPU has the
// instructions (`__builtin_cpu_supports`), so one binary is correct everywhere and fast on AVX-512
// CPUs and on AVX2 CPUs (most x86-64 CPUs in use, e.g. AMD Zen 1-3, Intel Haswell..Alder Lake).
// Which kernel an op instance runs is still chosen at compile time; only the ISA variant of that
// kernel is chosen here, once per call (a load of a cached flag).
//
//   kata::cpu::simd::use_avx512()        true when the AVX-512 variants should run
//   kata::cpu::simd::use_avx2()          true when the AVX2 + FMA variants should run (and AVX-512 not)
//   kata::cpu::simd::use_avx2_fma()      true when AVX2 + FMA code may run (also on AVX-512 CPUs: for
//                                        kernels that have no AVX-512 variant)
//   kata::cpu::simd::force_generic(bool) tests: run the portable variants even on AVX-512 CPUs
//   kata::cpu::simd::force_avx2(bool)    tests: run the AVX2 + FMA variants even on AVX-512 CPUs
//   KATA_CPU_SIMD=generic / avx2 (environment)  the same for a whole process
#pragma once

#include <atomic>
#include <cstdlib>
#include <cstring>

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define KATA_CPU_X86 1
#define KATA_CPU_AVX512_TARGET __attribute__((target("avx512f,prfchw")))
#define KATA_CPU_AVX2_TARGET __attribute__((target("avx2,fma")))
#else
#define KATA_CPU_X86 0
#endif

namespace kata::cpu::simd {

// 0: the CPU's best variants; 1: portable only; 2: at most AVX2 + FMA (no AVX-512).
inline std::atomic<int>& generic_override() {
    static std::atomic<int> v{-1};  // -1: the environment decides (read once)
    return v;
}

inline void force_generic(bool on) { generic_override().store(on ? 1 : 0); }
// Tests: run the AVX2 + FMA variants even on AVX-512 CPUs (where the CPU has AVX2 + FMA).
inline void force_avx2(bool on) { generic_override().store(on ? 2 : 0); }

inline bool cpu_has_avx512() {
#if KATA_CPU_X86
    static const bool has = [] {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") != 0;
    }();
    return has;
#else
    return false;
#endif
}

inline bool cpu_has_avx2_fma() {
#if KATA_CPU_X86
    static const bool has = [] {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") != 0 && __builtin_cpu_supports("fma") != 0;
    }();
    return has;
#else
    return false;
#endif
}

inline int override_level() {
    int o = generic_override().load(std::memory_order_relaxed);
    if (o < 0) {
        const char* e = std::getenv("KATA_CPU_SIMD");
        o = !e ? 0 : std::strcmp(e, "generic") == 0 ? 1 : std::strcmp(e, "avx2") == 0 ? 2 : 0;
        generic_override().store(o);
    }
    return o;
}

// Whether the portable variants are forced (force_generic, or KATA_CPU_SIMD=generic).
inline bool generic_forced() { return override_level() == 1; }

inline bool use_avx512() {
#if KATA_CPU_X86
    return override_level() == 0 && cpu_has_avx512();
#else
    return false;
#endif
}

inline bool use_avx2_fma() {
#if KATA_CPU_X86
    return !generic_forced() && cpu_has_avx2_fma();
#else
    return false;
#endif
}

inline bool use_avx2() { return use_avx2_fma() && !use_avx512(); }

}  // namespace kata::cpu::simd
