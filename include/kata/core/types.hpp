// kata/core/types.hpp
//
// Element types and memory layouts carried by every graph node.
#pragma once

#include <cstdint>
#include <string_view>

namespace kata {

enum class dtype : std::uint8_t { f32, f16, bf16, i32, i8, u8 };

constexpr std::string_view dtype_name(dtype t) {
    switch (t) {
    case dtype::f32: return "float32";
    case dtype::f16: return "float16";
    case dtype::bf16: return "bfloat16";
    case dtype::i32: return "int32";
    case dtype::i8: return "int8";
    case dtype::u8: return "uint8";
    }
    return "?";
}

constexpr int dtype_size(dtype t) {
    switch (t) {
    case dtype::f32: return 4;
    case dtype::i32: return 4;
    case dtype::f16: return 2;
    case dtype::bf16: return 2;
    case dtype::i8: return 1;
    case dtype::u8: return 1;
    }
    return 0;
}

// Layout of an activation with spatial dimensions. `none` for tensors without a channel axis
// convention (affine outputs, parameters). nnabla calls these channel_first / channel_last.
enum class layout : std::uint8_t { none, channel_first, channel_last };

constexpr std::string_view layout_name(layout l) {
    switch (l) {
    case layout::none: return "none";
    case layout::channel_first: return "channel_first";
    case layout::channel_last: return "channel_last";
    }
    return "?";
}

// Convenient aliases for the common 4-D names.
inline constexpr layout NCHW = layout::channel_first;
inline constexpr layout NHWC = layout::channel_last;

}  // namespace kata
