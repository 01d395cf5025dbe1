#pragma once

#define KATA_VERSION_MAJOR 0
#define KATA_VERSION_MINOR 1
#define KATA_VERSION_PATCH 0

namespace kata {
inline constexpr const char* version = "0.1.0";
}  // namespace kata
