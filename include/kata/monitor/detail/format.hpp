// kata/monitor/detail/format.hpp: number formats and the log line of nnabla's monitors.
//
// nnabla writes series values with Python's "{:g}" and times with "{}" (repr of a float: the shortest
// string that reads back to the same double, fixed notation for exponents -4..15 with at least one
// digit after the point, "1e-05" style otherwise). The monitor files are meant to be read by the same
// tools as nnabla's, so kata writes the same strings.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace kata::monitor::detail {

/// Python's "{:g}".format(v).
inline std::string format_g(double v) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

/// Python's repr(float(v)) / "{}".format(v).
inline std::string python_repr(double v) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    if (v == 0) return std::signbit(v) ? "-0.0" : "0.0";
    char buf[64];
    const auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);  // shortest
    std::string s(buf, res.ptr);
    const bool negative = s[0] == '-';
    if (negative) s.erase(0, 1);
    const auto e = s.find('e');
    const int exponent = std::atoi(s.c_str() + e + 1);
    std::string digits;
    for (char c : s.substr(0, e))
        if (c != '.') digits += c;
    std::string out;
    if (exponent < -4 || exponent >= 16) {
        out = digits.substr(0, 1);
        if (digits.size() > 1) out += "." + digits.substr(1);
        const int a = std::abs(exponent);
        out += std::string(exponent < 0 ? "e-" : "e+") + (a < 10 ? "0" : "") + std::to_string(a);
    } else if (exponent < 0) {
        out = "0." + std::string(static_cast<std::size_t>(-exponent - 1), '0') + digits;
    } else {
        const auto int_digits = static_cast<std::size_t>(exponent) + 1;
        if (digits.size() <= int_digits)
            out = digits + std::string(int_digits - digits.size(), '0') + ".0";
        else
            out = digits.substr(0, int_digits) + "." + digits.substr(int_digits);
    }
    return negative ? "-" + out : out;
}

/// A monitor's file stem: nnabla replaces spaces by '-'. A '/' would name a subdirectory nnabla does not
/// create (it fails to open the file); kata refuses it up front.
inline std::string file_stem(std::string_view name, std::string_view who) {
    if (name.empty()) throw std::invalid_argument(std::string(who) + ": empty name");
    std::string s(name);
    for (char& c : s) {
        if (c == ' ') c = '-';
        if (c == '/')
            throw std::invalid_argument(std::string(who) + ": name '" + std::string(name) + "' contains '/'");
    }
    return s;
}

/// Where verbose monitors log (nnabla: its logger at INFO level, on stderr). Tests may redirect it.
inline std::ostream*& log_stream() {
    static std::ostream* stream = &std::clog;
    return stream;
}
inline void log_info(const std::string& line) {
    if (std::ostream* os = log_stream()) *os << "[kata][INFO]: " << line << '\n' << std::flush;
}

}  // namespace kata::monitor::detail
