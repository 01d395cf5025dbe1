// kata/io/npy.hpp
//
// Purpose: read and write single arrays in numpy's NPY format (the members of an .npz archive).
//
// nnabla mapping: nnabla saves parameters as .h5/.protobuf; kata uses numpy's .npz instead (readable
// with a bare `numpy.load`, no nnabla needed). This header is the NPY layer; kata/io/npz.hpp is the
// ZIP layer; kata/io/parameter_store.hpp uses both.
//
// Supported (format spec: numpy/lib/format.py):
//   * versions 1.0 (u16 header length), 2.0 and 3.0 (u32 header length; 3.0 = UTF-8 header);
//   * header dict keys exactly {'descr', 'fortran_order', 'shape'}, any order, Python-literal syntax;
//   * dtypes '<f2' '<f4' '<f8' '|i1' '<i4' '<i8' '|u1' '|b1' (little-endian; 1-byte types may use
//     '|', '<' or '='). Anything else (big-endian, structured, object, strings) is a clear io_error.
//   * fortran_order False only (True -> io_error; transpose in numpy and save C-order instead).
// Deviations from numpy.load (deliberate, kata is stricter because it reads untrusted files):
//   * the data must be exactly product(shape) * itemsize bytes; trailing bytes are an error;
//   * at most 64 dimensions; every size computation is overflow-checked before any allocation;
//   * element types are never converted: `to_xarray<float>` on a '<f8' array is a dtype error.
// The host must be little-endian (static_assert); there is no byte swapping.
//
// Writer: emits the exact bytes numpy 1.24 `numpy.save` writes (dict keys sorted, the 21-digit
// growth padding after the dict, header padded with spaces to a multiple of 64 and ended by '\n',
// version 1.0 unless the header needs 2.0). tools/fixtures/make_npz_fixtures.py checks this.
//
// Errors: every malformed input throws kata::io_error (derived from std::runtime_error) whose
// message starts with the `what` string passed by the caller (file path and entry name).
#pragma once

#include "../detail/xtensor_fix.hpp"
#include "io_error.hpp"  // kata::io_error, io::shape_repr

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <xtensor/xarray.hpp>
#include <xtensor/xbuilder.hpp>

namespace kata {

namespace io {

static_assert(std::endian::native == std::endian::little,
              "kata::io reads/writes little-endian NPY data without byte swapping");

/// Element types kata can read from / write to NPY.
enum class npy_dtype : std::uint8_t { f2, f4, f8, i1, i4, i8, u1, b1 };

/// numpy's `dtype.str` for the type, as written into headers ('<f4', '|u1', ...).
constexpr std::string_view npy_descr(npy_dtype t) noexcept {
    switch (t) {
    case npy_dtype::f2: return "<f2";
    case npy_dtype::f4: return "<f4";
    case npy_dtype::f8: return "<f8";
    case npy_dtype::i1: return "|i1";
    case npy_dtype::i4: return "<i4";
    case npy_dtype::i8: return "<i8";
    case npy_dtype::u1: return "|u1";
    case npy_dtype::b1: return "|b1";
    }
    return "?";
}

/// numpy's dtype name ('float32', ...), used in error messages.
constexpr std::string_view npy_dtype_name(npy_dtype t) noexcept {
    switch (t) {
    case npy_dtype::f2: return "float16";
    case npy_dtype::f4: return "float32";
    case npy_dtype::f8: return "float64";
    case npy_dtype::i1: return "int8";
    case npy_dtype::i4: return "int32";
    case npy_dtype::i8: return "int64";
    case npy_dtype::u1: return "uint8";
    case npy_dtype::b1: return "bool";
    }
    return "?";
}

constexpr std::size_t npy_itemsize(npy_dtype t) noexcept {
    switch (t) {
    case npy_dtype::f2: return 2;
    case npy_dtype::f4: return 4;
    case npy_dtype::f8: return 8;
    case npy_dtype::i1: return 1;
    case npy_dtype::i4: return 4;
    case npy_dtype::i8: return 8;
    case npy_dtype::u1: return 1;
    case npy_dtype::b1: return 1;
    }
    return 0;
}

/// The npy_dtype matching a C++ element type (float16 has no C++20 type: read it as raw bytes).
template <class T>
struct npy_dtype_of;
template <>
struct npy_dtype_of<float> {
    static constexpr npy_dtype value = npy_dtype::f4;
};
template <>
struct npy_dtype_of<double> {
    static constexpr npy_dtype value = npy_dtype::f8;
};
template <>
struct npy_dtype_of<std::int8_t> {
    static constexpr npy_dtype value = npy_dtype::i1;
};
template <>
struct npy_dtype_of<std::int32_t> {
    static constexpr npy_dtype value = npy_dtype::i4;
};
template <>
struct npy_dtype_of<std::int64_t> {
    static constexpr npy_dtype value = npy_dtype::i8;
};
template <>
struct npy_dtype_of<std::uint8_t> {
    static constexpr npy_dtype value = npy_dtype::u1;
};
template <>
struct npy_dtype_of<bool> {
    static constexpr npy_dtype value = npy_dtype::b1;
};
template <class T>
inline constexpr npy_dtype npy_dtype_of_v = npy_dtype_of<T>::value;

/// A parsed NPY array. `data` is a view into the buffer given to parse_npy (not owned).
struct npy_view {
    npy_dtype dtype = npy_dtype::f4;
    std::vector<std::size_t> shape;
    std::span<const std::byte> data;
    int version_major = 1;

    std::size_t element_count() const noexcept {
        return npy_itemsize(dtype) ? data.size() / npy_itemsize(dtype) : 0;
    }
};

namespace detail {

[[noreturn]] inline void npy_fail(std::string_view what, std::string_view msg) {
    std::string m;
    m.reserve(what.size() + msg.size() + 2);
    m += what;
    m += ": ";
    m += msg;
    throw io_error(m);
}

inline std::uint64_t read_le(std::span<const std::byte> b, std::size_t off, std::size_t n) noexcept {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i)
        v |= std::uint64_t(std::to_integer<std::uint8_t>(b[off + i])) << (8 * i);
    return v;
}

inline void put_le(std::vector<std::byte>& out, std::uint64_t v, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) out.push_back(std::byte(std::uint8_t(v >> (8 * i))));
}

inline void put_str(std::vector<std::byte>& out, std::string_view s) {
    for (char c : s) out.push_back(std::byte(static_cast<unsigned char>(c)));
}

inline constexpr std::size_t npy_max_dims = 64;
inline constexpr char npy_magic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

/// Recursive-descent parser for the Python dict literal of an NPY header. Accepts only what
/// numpy writes (plus harmless variations: either quote style, any key order, extra whitespace,
/// a Python 2 'L' suffix on integers); never allocates more than the header's own size.
class npy_header_parser {
public:
    npy_header_parser(std::string_view text, std::string_view what) : s_(text), what_(what) {}

    void parse(std::string& descr, bool& fortran, std::vector<std::size_t>& shape) {
        bool have_descr = false, have_fortran = false, have_shape = false;
        ws();
        expect('{');
        for (;;) {
            ws();
            if (peek() == '}') {
                ++p_;
                break;
            }
            std::string key = string_lit();
            ws();
            expect(':');
            ws();
            if (key == "descr") {
                if (have_descr) fail("duplicate key 'descr'");
                if (peek() == '[') fail("structured dtypes (a list 'descr') are not supported");
                descr = string_lit();
                have_descr = true;
            } else if (key == "fortran_order") {
                if (have_fortran) fail("duplicate key 'fortran_order'");
                fortran = bool_lit();
                have_fortran = true;
            } else if (key == "shape") {
                if (have_shape) fail("duplicate key 'shape'");
                shape = tuple_lit();
                have_shape = true;
            } else {
                fail("unexpected key '" + key + "' in header dict");
            }
            ws();
            if (peek() == ',') {
                ++p_;
                continue;
            }
            ws();
            if (peek() == '}') {
                ++p_;
                break;
            }
            fail("expected ',' or '}' in header dict");
        }
        ws();
        if (p_ != s_.size()) fail("unexpected bytes after the header dict");
        if (!have_descr || !have_fortran || !have_shape)
            fail("header dict must have keys 'descr', 'fortran_order' and 'shape'");
    }

private:
    [[noreturn]] void fail(const std::string& msg) const { npy_fail(what_, "bad NPY header: " + msg); }
    char peek() const { return p_ < s_.size() ? s_[p_] : '\0'; }
    void ws() {
        while (p_ < s_.size() && (s_[p_] == ' ' || s_[p_] == '\t' || s_[p_] == '\n' || s_[p_] == '\r')) ++p_;
    }
    void expect(char c) {
        if (peek() != c) fail(std::string("expected '") + c + "'");
        ++p_;
    }
    std::string string_lit() {
        char q = peek();
        if (q != '\'' && q != '"') fail("expected a quoted string");
        ++p_;
        std::size_t start = p_;
        while (p_ < s_.size() && s_[p_] != q) {
            if (s_[p_] == '\\') fail("escape sequences in header strings are not supported");
            ++p_;
        }
        if (p_ >= s_.size()) fail("unterminated string");
        std::string r(s_.substr(start, p_ - start));
        ++p_;
        return r;
    }
    bool bool_lit() {
        if (s_.substr(p_, 4) == "True") {
            p_ += 4;
            return true;
        }
        if (s_.substr(p_, 5) == "False") {
            p_ += 5;
            return false;
        }
        fail("'fortran_order' must be True or False");
    }
    std::vector<std::size_t> tuple_lit() {
        std::vector<std::size_t> dims;
        expect('(');
        for (;;) {
            ws();
            if (peek() == ')') {
                ++p_;
                break;
            }
            if (peek() < '0' || peek() > '9') fail("shape must be a tuple of non-negative integers");
            std::uint64_t v = 0;
            while (peek() >= '0' && peek() <= '9') {
                const std::uint64_t d = std::uint64_t(peek() - '0');
                if (v > (std::numeric_limits<std::uint64_t>::max() - d) / 10)
                    fail("shape dimension overflows 64 bits");
                v = v * 10 + d;
                ++p_;
            }
            if (peek() == 'L') ++p_;  // Python 2 long literal
            if (v > std::numeric_limits<std::size_t>::max()) fail("shape dimension too large");
            if (dims.size() >= npy_max_dims) fail("more than 64 dimensions");
            dims.push_back(std::size_t(v));
            ws();
            if (peek() == ',') {
                ++p_;
                continue;
            }
            ws();
            if (peek() == ')') {
                ++p_;
                break;
            }
            fail("expected ',' or ')' in shape");
        }
        return dims;
    }

    std::string_view s_;
    std::string_view what_;
    std::size_t p_ = 0;
};

inline npy_dtype parse_descr(std::string_view d, std::string_view what) {
    if (d.size() == 3) {
        const char order = d[0];
        const std::string_view code = d.substr(1);
        const bool one_byte = code == "i1" || code == "u1" || code == "b1";
        const bool ok_order = order == '<' || order == '=' || (one_byte && (order == '|' || order == '>'));
        if (ok_order) {
            if (code == "f2") return npy_dtype::f2;
            if (code == "f4") return npy_dtype::f4;
            if (code == "f8") return npy_dtype::f8;
            if (code == "i1") return npy_dtype::i1;
            if (code == "i4") return npy_dtype::i4;
            if (code == "i8") return npy_dtype::i8;
            if (code == "u1") return npy_dtype::u1;
            if (code == "b1") return npy_dtype::b1;
        } else if (order == '>') {
            npy_fail(what, "big-endian dtype '" + std::string(d) + "' is not supported (use '<' byte order)");
        }
    }
    npy_fail(what, "unsupported dtype '" + std::string(d) + "' (supported: <f2 <f4 <f8 |i1 <i4 <i8 |u1 |b1)");
}

}  // namespace detail

/// Parses one NPY array from `bytes`. `what` prefixes every error message (e.g. "w.npz: entry 'a'").
/// The returned view's `data` points into `bytes`.
inline npy_view parse_npy(std::span<const std::byte> bytes, std::string_view what) {
    using detail::npy_fail;
    if (bytes.size() < 10) npy_fail(what, "truncated NPY data (" + std::to_string(bytes.size()) + " bytes)");
    if (std::memcmp(bytes.data(), detail::npy_magic, 6) != 0) npy_fail(what, "not an NPY array (bad magic)");
    const int major = std::to_integer<int>(bytes[6]);
    const int minor = std::to_integer<int>(bytes[7]);
    if ((major != 1 && major != 2 && major != 3) || minor != 0)
        npy_fail(what,
                 "unsupported NPY format version " + std::to_string(major) + "." + std::to_string(minor));
    const std::size_t len_bytes = major == 1 ? 2 : 4;
    if (bytes.size() < 8 + len_bytes) npy_fail(what, "truncated NPY header");
    const std::uint64_t hlen = detail::read_le(bytes, 8, len_bytes);
    const std::size_t hstart = 8 + len_bytes;
    if (hlen > bytes.size() - hstart)
        npy_fail(what, "NPY header length " + std::to_string(hlen) + " exceeds the data size " +
                           std::to_string(bytes.size()));
    const std::string_view htext(reinterpret_cast<const char*>(bytes.data() + hstart), std::size_t(hlen));

    std::string descr;
    bool fortran = false;
    npy_view v;
    v.version_major = major;
    detail::npy_header_parser(htext, what).parse(descr, fortran, v.shape);
    v.dtype = detail::parse_descr(descr, what);
    if (fortran)
        npy_fail(what, "fortran_order=True arrays are not supported (save a C-contiguous array, "
                       "e.g. numpy.ascontiguousarray)");

    // Overflow-checked element count; compared with the bytes actually present before anyone
    // allocates, so a forged shape can never trigger a huge allocation.
    const std::size_t item = npy_itemsize(v.dtype);
    std::size_t count = 1;
    bool overflow = false;
    for (std::size_t d : v.shape) {
        if (d != 0 && count > std::numeric_limits<std::size_t>::max() / d)
            overflow = true;
        else
            count *= d;
    }
    if (std::any_of(v.shape.begin(), v.shape.end(), [](std::size_t d) { return d == 0; })) {
        count = 0;
        overflow = false;
    }
    const std::size_t avail = bytes.size() - hstart - std::size_t(hlen);
    if (overflow || count > std::numeric_limits<std::size_t>::max() / item)
        npy_fail(what, "shape " + shape_repr(v.shape) + " overflows the addressable size");
    const std::size_t need = count * item;
    if (need != avail)
        npy_fail(what, std::string(avail < need ? "truncated" : "trailing bytes in") + " NPY data: shape " +
                           shape_repr(v.shape) + " of " + std::string(npy_dtype_name(v.dtype)) + " needs " +
                           std::to_string(need) + " bytes, found " + std::to_string(avail));
    v.data = bytes.subspan(hstart + std::size_t(hlen), need);
    return v;
}

/// Copies a parsed array into an xarray of the exact matching element type (no conversions).
template <class T>
xt::xarray<T> to_xarray(const npy_view& v, std::string_view what) {
    constexpr npy_dtype want = npy_dtype_of_v<T>;
    if (v.dtype != want)
        detail::npy_fail(what, "dtype mismatch: expected " + std::string(npy_dtype_name(want)) + ", found " +
                                   std::string(npy_dtype_name(v.dtype)) + " ('" +
                                   std::string(npy_descr(v.dtype)) + "', shape " + shape_repr(v.shape) + ")");
    typename xt::xarray<T>::shape_type shape(v.shape.begin(), v.shape.end());
    xt::xarray<T> a = xt::empty<T>(shape);
    if constexpr (std::is_same_v<T, bool>) {
        // numpy bools are single bytes 0/1; copy element-wise so any nonzero byte reads as true
        // instead of producing an invalid bool object representation.
        for (std::size_t i = 0; i < v.data.size(); ++i)
            a.data()[i] = std::to_integer<std::uint8_t>(v.data[i]) != 0;
    } else if (!v.data.empty()) {
        std::memcpy(a.data(), v.data.data(), v.data.size());
    }
    return a;
}

/// The NPY header numpy 1.24 writes for a C-order array of `dtype` and `shape` (magic included).
inline std::vector<std::byte> npy_header(npy_dtype dtype, std::span<const std::size_t> shape) {
    std::string dict = "{'descr': '" + std::string(npy_descr(dtype)) +
                       "', 'fortran_order': False, 'shape': " + shape_repr(shape) + ", }";
    // numpy >= 1.23 leaves room so the first axis can grow in place (GROWTH_AXIS_MAX_DIGITS = 21).
    if (!shape.empty()) {
        const std::size_t digits = std::to_string(shape[0]).size();
        if (digits < 21) dict.append(21 - digits, ' ');
    }
    constexpr std::size_t align = 64;
    int major = 1;
    std::size_t prefix = 10;
    std::size_t hlen = dict.size() + 1;  // + '\n'
    std::size_t pad = align - (prefix + hlen) % align;
    if (hlen + pad > 0xFFFF) {
        major = 2;
        prefix = 12;
        pad = align - (prefix + hlen) % align;
    }
    std::vector<std::byte> out;
    out.reserve(prefix + hlen + pad);
    for (char c : detail::npy_magic) out.push_back(std::byte(static_cast<unsigned char>(c)));
    out.push_back(std::byte(major));
    out.push_back(std::byte(0));
    detail::put_le(out, hlen + pad, major == 1 ? 2 : 4);
    detail::put_str(out, dict);
    out.insert(out.end(), pad, std::byte(' '));
    out.push_back(std::byte('\n'));
    return out;
}

/// A complete NPY file (header + data) for a row-major array.
inline std::vector<std::byte> write_npy(npy_dtype dtype, std::span<const std::size_t> shape,
                                        std::span<const std::byte> data) {
    std::vector<std::byte> out = npy_header(dtype, shape);
    out.insert(out.end(), data.begin(), data.end());
    return out;
}

template <class T>
std::vector<std::byte> write_npy(const xt::xarray<T>& a) {
    static_assert(!std::is_same_v<T, bool> || sizeof(bool) == 1, "bool must be one byte");
    std::vector<std::size_t> shape(a.shape().begin(), a.shape().end());
    return write_npy(
        npy_dtype_of_v<T>, shape,
        std::span<const std::byte>(reinterpret_cast<const std::byte*>(a.data()), a.size() * sizeof(T)));
}

}  // namespace io
}  // namespace kata
