// kata/embedded/kernel.hpp
//
// The embedded back end: portable float32 kernels for microcontrollers (Cortex-M under QEMU in this
// project's tests), one specialisation of kata::embedded::kernel<op_kind> per op kind, each following
// the kernel contract of the execution layer:
//     template <exec::op_instance I> static constexpr std::size_t workspace_bytes();
//     template <exec::op_instance I> static void run(const exec::kernel_io& io);
// so that the one executor of kata/exec drives it like the CPU back end (kata/embedded/backend.hpp:
// static arena, constant parameters in flash).
//
// Why a separate back end instead of the CPU kernels: those use OpenBLAS, kata's thread pool and
// AVX-512; a microcontroller has none of them. The embedded kernels are freestanding in the sense the
// project uses for bare metal: no heap, no exceptions, no RTTI, no threads, no iostream, no xtensor,
// no BLAS; they only need <cmath>/<cstring>-level functions from the C library (newlib on Cortex-M).
// Everything shape-dependent is a compile-time constant taken from the op_instance; the loops run on
// `index` (std::ptrdiff_t: the native word, 32 bits on Cortex-M where 64-bit arithmetic would cost
// library calls). Kernels never allocate and use no more workspace than they declare. They are direct
// loops (no im2col), so most need no workspace at all: on a microcontroller RAM is scarcer than time.
//
// Numerics: float32 with float accumulators, summation in the natural loop order; the results agree
// with the CPU kernels and with PyTorch to float rounding (tests/embedded/). int8 (quantized networks,
// kata/ops/quantized.hpp): QConvolution and QAffine with int32 accumulation and a per-channel
// fixed-point requantization, ReLU, MaxPooling; exact integer arithmetic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

#include "../exec/kernel_io.hpp"
#include "../exec/op_instance.hpp"

namespace kata::embedded {

using exec::kernel_io;
using exec::op_instance;

// Run-time index type of the kernels (see the header comment).
using index = std::ptrdiff_t;

// Specialised per op kind in kata/embedded/kernels/*.hpp (all included by kata/embedded/kernels.hpp).
template <op_kind K>
struct kernel;

namespace detail {

// Whether the node and all its inputs are float32 (every kernel's float path; the int8 paths are
// below).
constexpr bool all_float(const op_instance& I, int first_input = 0) {
    if (I.type != dtype::f32) return false;
    for (int k = first_input; k < I.nin; ++k)
        if (I.in_type[k] != dtype::f32) return false;
    return true;
}

// Whether the node and all its inputs are int8 (ReLU, max pooling of a quantized network).
constexpr bool all_int8(const op_instance& I) {
    if (I.type != dtype::i8) return false;
    for (int k = 0; k < I.nin; ++k)
        if (I.in_type[k] != dtype::i8) return false;
    return true;
}

// y = clamp(round(acc m 2^-r), -128, 127), round half up, 64-bit product (kata/ops/quantized.hpp states
// the convention).
constexpr std::int8_t requantize(std::int32_t acc, std::int32_t m, std::int32_t r) {
    const std::int64_t v = (std::int64_t(acc) * std::int64_t(m) + (std::int64_t(1) << (r - 1))) >> r;
    return std::int8_t(v > 127 ? 127 : (v < -128 ? -128 : v));
}

// Whether every tensor of the node has fewer elements than `index` can count (32-bit targets).
constexpr bool fits_index(const op_instance& I) {
    constexpr std::int64_t limit = std::int64_t(std::numeric_limits<index>::max());
    if (I.out.numel() > limit) return false;
    for (int k = 0; k < I.nin; ++k)
        if (I.in[k].numel() > limit) return false;
    return true;
}

}  // namespace detail

}  // namespace kata::embedded
