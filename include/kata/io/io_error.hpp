// kata/io/io_error.hpp
//
// kata::io_error and io::shape_repr, on their own so that headers which only report file errors or
// shapes (kata/io/parameter_store_core.hpp) need not parse the NPY reader (kata/io/npy.hpp, which
// includes this) and xtensor's builders.
#pragma once

#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>

namespace kata {

/// Thrown for every file-format / file-content problem (unreadable file, malformed NPY/ZIP, dtype or
/// shape mismatch against a parameter store). The message names the file, the entry/parameter and,
/// where relevant, expected and found shape/dtype.
class io_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

namespace io {

/// numpy's repr of a shape tuple: "()", "(5,)", "(4, 3, 3, 3)". Used in headers and messages.
inline std::string shape_repr(std::span<const std::size_t> shape) {
    std::string s = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (i) s += ", ";
        s += std::to_string(shape[i]);
    }
    if (shape.size() == 1) s += ",";
    s += ")";
    return s;
}

}  // namespace io

}  // namespace kata
