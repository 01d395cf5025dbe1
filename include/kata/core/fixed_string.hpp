// kata/core/fixed_string.hpp
//
// A fixed-capacity, structural string usable as (part of) a non-type template parameter.
//
// Why: kata lifts whole graphs into types (C++20 class NTTPs). Names (parameter scopes such as
// "conv1/conv/W") and compile-time error messages must therefore live in structural types: no
// pointers, no std::string. Messages are formatted at compile time (numbers, shapes) so that a
// `static_assert` failure prints them inside the template argument list.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace kata {

template <std::size_t Capacity>
struct fixed_string {
    char chars[Capacity]{};  // always NUL-terminated; public for structural-ness
    std::size_t length = 0;

    constexpr fixed_string() = default;
    constexpr fixed_string(std::string_view s) { append(s); }
    constexpr fixed_string(const char* s) { append(std::string_view{s}); }

    constexpr std::string_view view() const { return {chars, length}; }
    constexpr operator std::string_view() const { return view(); }
    constexpr std::size_t size() const { return length; }
    constexpr bool empty() const { return length == 0; }
    static constexpr std::size_t capacity() { return Capacity - 1; }

    // Appends as much as fits; `overflowed` lets callers turn truncation into a diagnostic.
    constexpr fixed_string& append(std::string_view s) {
        for (char c : s) {
            if (length + 1 >= Capacity) {
                overflowed = true;
                break;
            }
            chars[length++] = c;
        }
        chars[length] = '\0';
        return *this;
    }
    constexpr fixed_string& append(char c) { return append(std::string_view{&c, 1}); }
    constexpr fixed_string& append_int(std::int64_t v) {
        char buf[24]{};
        int n = 0;
        bool neg = v < 0;
        std::uint64_t u = neg ? std::uint64_t(0) - std::uint64_t(v) : std::uint64_t(v);
        do {
            buf[n++] = char('0' + u % 10);
            u /= 10;
        } while (u != 0);
        if (neg) append('-');
        while (n > 0) append(buf[--n]);
        return *this;
    }
    // Fixed-point rendering with 6 decimals; enough for diagnostics (eps, alpha, delta).
    constexpr fixed_string& append_double(double v) {
        if (v < 0) {
            append('-');
            v = -v;
        }
        auto ip = std::int64_t(v);
        append_int(ip);
        append('.');
        double frac = v - double(ip);
        for (int i = 0; i < 6; ++i) {
            frac *= 10;
            int d = int(frac);
            append(char('0' + d));
            frac -= d;
        }
        return *this;
    }
    constexpr void truncate(std::size_t n) {
        if (n < length) {
            length = n;
            chars[length] = '\0';
        }
    }

    bool overflowed = false;

    template <std::size_t M>
    constexpr bool operator==(const fixed_string<M>& o) const {
        return view() == o.view();
    }
    constexpr bool operator==(std::string_view o) const { return view() == o; }
};

using name_string = fixed_string<96>;
using message_string = fixed_string<320>;

}  // namespace kata
