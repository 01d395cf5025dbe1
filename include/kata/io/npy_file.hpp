// kata/io/npy_file.hpp
//
// Purpose: one call to read or write a single .npy file, numpy.load / numpy.save style:
//
//     xt::xarray<float> a = kata::io::load_npy("image.npy");           // float32 file
//     auto ids = kata::io::load_npy<std::int64_t>("labels.npy");       // any supported element type
//     kata::io::save_npy("out.npy", a);                                 // atomic, numpy 1.24's bytes
//
// Reading parses with kata/io/npy.hpp (strict: exact data size, no element conversions -- a
// float64 file read as float32 is an error naming the file, the dtypes and the shape) from a
// regular file only (kata/io/file.hpp: a FIFO or device is refused without blocking).
// Writing takes any xtensor expression (a transposed view, a column-major array, a slice): it is
// written in row-major order, as numpy.save writes a C-order array, so what numpy reads back has
// the expression's logical values. The file is replaced atomically with the semantics of
// kata::io::atomic_write_file (symbolic links followed, mode kept, read-only files refused).
#pragma once

#include "../detail/xtensor_fix.hpp"
#include "file.hpp"
#include "npy.hpp"

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include <xtensor/xarray.hpp>
#include <xtensor/xexpression.hpp>

namespace kata::io {

/// Reads the .npy file at `path` into an xarray of T (float by default). Throws io_error naming the
/// file for a missing/non-regular/malformed file and for a dtype other than T's (no conversion).
template <class T = float>
xt::xarray<T> load_npy(const std::filesystem::path& path) {
    const std::string what = path.string();
    const std::vector<std::byte> bytes = read_file_bytes(path);
    const npy_view v = parse_npy(bytes, what);
    return to_xarray<T>(v, what);
}

/// Writes `e` as an .npy file (row-major, numpy 1.24's exact bytes) atomically. The element type
/// must be one NPY supports here (float, double, int8/32/64, uint8, bool).
template <class E>
void save_npy(const std::filesystem::path& path, const xt::xexpression<E>& e) {
    using T = std::decay_t<typename E::value_type>;
    static_assert(
        requires { npy_dtype_of<T>::value; },
        "kata::io::save_npy: unsupported element type (float, double, int8/32/64, uint8, bool)");
    const E& d = e.derived_cast();
    auto write = [&](const xt::xarray<T>& a) {
        const std::vector<std::byte> bytes = write_npy(a);
        atomic_write_file(path, bytes);
    };
    if constexpr (std::is_same_v<E, xt::xarray<T, xt::layout_type::row_major>>) {
        write(d);  // already row-major and contiguous: no copy
    } else {
        const xt::xarray<T> a = d;  // evaluates views, transposes, column-major layouts in logical order
        write(a);
    }
}

}  // namespace kata::io
