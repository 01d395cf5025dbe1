// kata/exec/buffer.hpp
//
// The typed description of one buffer an executor moves between kernels: element type (kata::dtype:
// f32, f16, bf16, i8, i32, u8), shape and layout, plus the C++ element type that stands for each
// dtype in kernel code (kernel_io::input<T>(k)).
//
// Why a description and not a tensor class: buffers live in the executor's planned storage (or in
// the parameter source, or in the caller's input); what kernels, parameter sources and executors need
// to agree on is what the bytes mean. The description is a structural value, so it can be compared
// at compile time (a constant parameter whose dtype or shape does not match the graph is a compile
// error) and at bind time (a parameter store entry).
//
// f16 and bf16 have no standard C++ type before C++23: `kata::exec::half` and `kata::exec::bfloat16`
// are storage-only wrappers of their 16 bits (a backend converts them as it needs). Backend-neutral:
// no xtensor, no exceptions, no heap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "../core/shape.hpp"
#include "../core/types.hpp"

namespace kata::exec {

// IEEE binary16 / bfloat16 storage (the raw bits).
struct half {
    std::uint16_t bits = 0;
    constexpr bool operator==(const half&) const = default;
};
struct bfloat16 {
    std::uint16_t bits = 0;
    constexpr bool operator==(const bfloat16&) const = default;
};

// The dtype a C++ element type stands for (void: none).
template <class T>
inline constexpr bool has_dtype = false;
template <class T>
inline constexpr dtype dtype_of = dtype::f32;  // only meaningful where has_dtype<T>

#define KATA_EXEC_DTYPE(T, D)                                                                                \
    template <>                                                                                              \
    inline constexpr bool has_dtype<T> = true;                                                               \
    template <>                                                                                              \
    inline constexpr dtype dtype_of<T> = D;
KATA_EXEC_DTYPE(float, dtype::f32)
KATA_EXEC_DTYPE(half, dtype::f16)
KATA_EXEC_DTYPE(bfloat16, dtype::bf16)
KATA_EXEC_DTYPE(std::int32_t, dtype::i32)
KATA_EXEC_DTYPE(std::int8_t, dtype::i8)
KATA_EXEC_DTYPE(std::uint8_t, dtype::u8)
#undef KATA_EXEC_DTYPE

// The C++ element type of a dtype.
template <dtype D>
struct element_of;
template <>
struct element_of<dtype::f32> {
    using type = float;
};
template <>
struct element_of<dtype::f16> {
    using type = half;
};
template <>
struct element_of<dtype::bf16> {
    using type = bfloat16;
};
template <>
struct element_of<dtype::i32> {
    using type = std::int32_t;
};
template <>
struct element_of<dtype::i8> {
    using type = std::int8_t;
};
template <>
struct element_of<dtype::u8> {
    using type = std::uint8_t;
};
template <dtype D>
using element_t = typename element_of<D>::type;

// What the bytes of one buffer mean.
struct buffer_desc {
    dtype type = dtype::f32;
    shape_t shape{};
    layout lay = layout::none;

    constexpr std::int64_t numel() const { return shape.numel(); }
    constexpr std::size_t bytes() const { return std::size_t(shape.numel()) * std::size_t(dtype_size(type)); }
    constexpr bool operator==(const buffer_desc&) const = default;
};

}  // namespace kata::exec
