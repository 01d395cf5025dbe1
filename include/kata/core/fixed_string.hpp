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

namespace detail {
// Character copies and comparisons of the strings graph passes create per node. clang's constant-
// evaluation budget (-fconstexpr-steps, 2^20 per evaluation by default) counts every statement
// evaluated, i.e. one step per character in a loop, and names were the largest part of a 3,201-node
// graph's steps (issue 16); clang evaluates __builtin_memcpy / __builtin_memcmp in constant expressions
// without per-character steps. g++ rejects them in constant expressions and counts operations, not
// statements: it keeps the loops.
constexpr void copy_chars(char* d, const char* s, std::size_t n) {
#if defined(__clang__)
    if (n != 0) __builtin_memcpy(d, s, n);
#else
    for (std::size_t i = 0; i < n; ++i) d[i] = s[i];
#endif
}
constexpr bool same_text(const char* a, std::size_t na, const char* b, std::size_t nb) {
    if (na != nb) return false;
#if defined(__clang__)
    return na == 0 || __builtin_memcmp(a, b, na) == 0;
#else
    for (std::size_t i = 0; i < na; ++i)
        if (a[i] != b[i]) return false;
    return true;
#endif
}
}  // namespace detail

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
    // No iterators or container calls: names are appended for every node a graph pass creates, and in
    // constant evaluation each such call costs several evaluation steps (g++ counts them against
    // -fconstexpr-ops-limit, clang against -fconstexpr-steps; issue 16). The copy: detail::copy_chars.
    constexpr fixed_string& append(std::string_view s) {
        const char* p = s.data();
        std::size_t n = s.size();
        if (n > Capacity - 1 - length) {
            n = Capacity - 1 - length;
            overflowed = true;
        }
        detail::copy_chars(chars + length, p, n);
        length += n;
        chars[length] = '\0';
        return *this;
    }
    constexpr fixed_string& append(char c) {
        if (length + 1 >= Capacity) {
            overflowed = true;
            return *this;
        }
        chars[length++] = c;
        chars[length] = '\0';
        return *this;
    }
    constexpr fixed_string& append_int(std::int64_t v) {
        char buf[24]{};  // the digits, written from the end
        int first = 24;
        const bool neg = v < 0;
        std::uint64_t u = neg ? std::uint64_t(0) - std::uint64_t(v) : std::uint64_t(v);
        do {
            buf[--first] = char('0' + u % 10);
            u /= 10;
        } while (u != 0);
        if (neg) buf[--first] = '-';
        return append(std::string_view(buf + first, std::size_t(24 - first)));
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

    // Equal text (the unused tail and `overflowed` do not count). Raw loops, see append().
    template <std::size_t M>
    constexpr bool operator==(const fixed_string<M>& o) const {
        return detail::same_text(chars, length, o.chars, o.length);
    }
    constexpr bool operator==(std::string_view o) const {
        return detail::same_text(chars, length, o.data(), o.size());
    }
};

using name_string = fixed_string<96>;
using message_string = fixed_string<320>;

}  // namespace kata
