// embedded/firmware/report.hpp: the firmware's output lines, formatted without printf (newlib's stdio
// allocates its buffers from the heap, which the firmware must not use): integers, the exact bits of a
// float in hex (what the host-side checker compares) and an approximate decimal form for people.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "board.hpp"

namespace kata_firmware {

// Appends the decimal digits of v to out (NUL-terminated), returns the new end.
inline char* append_int(char* out, long long v) {
    char tmp[24];
    int n = 0;
    const bool neg = v < 0;
    unsigned long long u =
        neg ? 0ull - static_cast<unsigned long long>(v) : static_cast<unsigned long long>(v);
    do {
        tmp[n++] = char('0' + u % 10);
        u /= 10;
    } while (u);
    if (neg) *out++ = '-';
    while (n) *out++ = tmp[--n];
    *out = '\0';
    return out;
}

inline char* append_str(char* out, const char* s) {
    const std::size_t n = std::strlen(s);
    std::memcpy(out, s, n + 1);
    return out + n;
}

// "0x3f800000": the float's bits.
inline char* append_bits(char* out, float v) {
    std::uint32_t b;
    std::memcpy(&b, &v, sizeof b);
    *out++ = '0';
    *out++ = 'x';
    for (int i = 7; i >= 0; --i) *out++ = "0123456789abcdef"[(b >> (4 * i)) & 15u];
    *out = '\0';
    return out;
}

// "-1.234568e-01": scientific notation with 7 significant digits, computed in float arithmetic (display
// only: the last digit may be off; the checker reads the bits). Float only, so the firmware links no
// software double-precision routines for its report.
inline char* append_float(char* out, float v) {
    if (std::isnan(v)) return append_str(out, "nan");
    if (std::isinf(v)) return append_str(out, v < 0 ? "-inf" : "inf");
    if (v < 0) {
        *out++ = '-';
        v = -v;
    }
    int e = 0;
    if (v != 0) {
        while (v >= 10.0f) {
            v /= 10.0f;
            ++e;
        }
        while (v < 1.0f) {
            v *= 10.0f;
            --e;
        }
    }
    long m = long(v * 1e6f + 0.5f);  // 7 digits
    if (m >= 10000000l) {
        m /= 10;
        ++e;
    }
    char digits[16];
    append_int(digits, m);
    *out++ = digits[0];
    *out++ = '.';
    out = append_str(out, digits + 1);
    *out++ = 'e';
    *out++ = e < 0 ? '-' : '+';
    if (e < 0) e = -e;
    if (e < 10) *out++ = '0';
    return append_int(out, e);
}

// Writes "<key> <value>\n".
inline void report(const char* key, long long value) {
    char line[96];
    char* p = append_str(line, key);
    *p++ = ' ';
    p = append_int(p, value);
    append_str(p, "\n");
    kata_board::write(line);
}

}  // namespace kata_firmware
