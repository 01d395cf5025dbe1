// kata/core/shape.hpp
//
// Compile-time tensor shapes. A shape is a small structural value (rank <= 8), so it can sit inside
// graph nodes that are lifted into types. Dimensions are std::int64_t like nnabla's Shape_t.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>

#include "fixed_string.hpp"

namespace kata {

inline constexpr int max_rank = 8;

struct shape_t {
    int rank = 0;
    std::int64_t dims[max_rank]{};

    constexpr shape_t() = default;
    constexpr shape_t(std::initializer_list<std::int64_t> d) {
        for (auto v : d) {
            if (rank < max_rank) dims[rank++] = v;
        }
    }

    constexpr std::int64_t operator[](int i) const { return dims[i < 0 ? i + rank : i]; }
    constexpr std::int64_t& operator[](int i) { return dims[i < 0 ? i + rank : i]; }
    constexpr std::int64_t numel() const {
        std::int64_t n = 1;
        for (int i = 0; i < rank; ++i) n *= dims[i];
        return n;
    }
    // Product of dims in [first, last).
    constexpr std::int64_t prod(int first, int last) const {
        std::int64_t n = 1;
        for (int i = first; i < last; ++i) n *= dims[i];
        return n;
    }
    constexpr std::int64_t prod_from(int first) const { return prod(first, rank); }
    constexpr void push_back(std::int64_t v) { dims[rank++] = v; }
    constexpr bool operator==(const shape_t& o) const {
        if (rank != o.rank) return false;
        for (int i = 0; i < rank; ++i)
            if (dims[i] != o.dims[i]) return false;
        return true;
    }
};

// "(1,3,32,32)": the notation used in every kata diagnostic (nnabla/numpy style).
template <std::size_t N>
constexpr fixed_string<N>& append_shape(fixed_string<N>& s, const shape_t& sh) {
    s.append('(');
    for (int i = 0; i < sh.rank; ++i) {
        if (i) s.append(',');
        s.append_int(sh.dims[i]);
    }
    if (sh.rank == 1) s.append(',');
    s.append(')');
    return s;
}

}  // namespace kata
