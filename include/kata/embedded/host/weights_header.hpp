// kata/embedded/host/weights_header.hpp
//
// HOST-ONLY (reads files, throws, allocates): writes a network's parameters as a C++ header of constant
// arrays for embedded builds, and the table a constant-array parameter source binds by name
// (kata/embedded/constant_parameters.hpp). Used by the tool tools/weights_header.cpp
// (`kata_weights_header in.npz out.hpp`), which the embedded firmware build runs at build time.
//
//     kata::embedded::host::write_weights_header("lenet_weights.hpp", kata::io::read_npz(bytes, "f.npz"),
//     opts); kata::embedded::host::write_weights_header("lenet_weights.hpp", store, opts);   // a parameter
//     store
//
// Output (namespace and table name from the options):
//     #pragma once
//     #include <cstdint>
//     #include <kata/embedded/constant_parameters.hpp>
//     namespace lenet_weights {
//     // "conv1/W" (6, 1, 5, 5)
//     inline constexpr float conv1_W[150] = {
//         -0.23409186f, -0.24732642f, ...};
//     ...
//     inline constexpr kata::embedded::constant_parameter parameters[] = {
//         {"conv1/W", conv1_W, kata::dtype::f32, kata::shape_t{6, 1, 5, 5}}, ...};
//     }
// Why `inline constexpr` arrays: constant data, so the compiler and linker put them in .rodata (flash on a
// microcontroller) and nothing is copied at start-up; constexpr also lets the table be searched during
// compilation. Floats are written in their shortest round-trip form (std::to_chars), so the arrays hold
// exactly the file's values; non-finite values use GCC/Clang builtins (__builtin_inff, __builtin_nanf).
// Element types: float32, int32, int8, uint8 (kata::dtype f32, i32, i8, u8). Other .npy dtypes (float64,
// float16, int64, bool) are refused with an error naming the array: converting silently would change
// the network. Array names become C++ identifiers ('/' and other characters -> '_', a leading digit gets
// a 'p' prefix, collisions get _2, _3 ...); the table keeps the original names. The header is written
// atomically (kata::io::atomic_write_file: temp + rename), and only when its content changes, so a
// build that regenerates it does not recompile the firmware needlessly.
#pragma once

#include "../../detail/xtensor_fix.hpp"

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "../../core/shape.hpp"
#include "../../core/types.hpp"
#include "../../io/npz.hpp"
#include "../../io/parameter_store.hpp"

namespace kata::embedded::host {

struct weights_header_options {
    std::string namespace_name =
        "kata_weights";  // C++ namespace of the arrays and the table ("a::b" allowed)
    std::string table_name = "parameters";
    std::string source;  // what the header was generated from (written into its comment)
};

// One array to write (views the caller's data).
struct weights_entry {
    std::string name;
    io::npy_dtype dtype = io::npy_dtype::f4;
    std::vector<std::size_t> shape;
    std::span<const std::byte> data;
};

class weights_header_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

namespace detail {

inline std::string identifier_for(std::string_view name, std::set<std::string>& used) {
    std::string id;
    for (char c : name) {
        const bool ok =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        id += ok ? c : '_';
    }
    if (id.empty() || (id[0] >= '0' && id[0] <= '9') || id[0] == '_') id = "p" + id;
    std::string unique = id;
    for (int k = 2; used.count(unique); ++k) unique = id + "_" + std::to_string(k);
    used.insert(unique);
    return unique;
}

inline void append_float(std::string& out, float v) {
    if (std::isnan(v)) {
        out += "__builtin_nanf(\"\")";
        return;
    }
    if (std::isinf(v)) {
        out += v < 0 ? "-__builtin_inff()" : "__builtin_inff()";
        return;
    }
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip representation
    std::string_view s(buf, std::size_t(r.ptr - buf));
    out += s;
    if (s.find_first_of(".e") == std::string_view::npos) out += ".0";
    out += 'f';
}

struct element_type {
    const char* cpp;
    const char* kata_dtype;
};

inline element_type element_type_of(const weights_entry& e) {
    switch (e.dtype) {
    case io::npy_dtype::f4: return {"float", "kata::dtype::f32"};
    case io::npy_dtype::i4: return {"std::int32_t", "kata::dtype::i32"};
    case io::npy_dtype::i1: return {"std::int8_t", "kata::dtype::i8"};
    case io::npy_dtype::u1: return {"std::uint8_t", "kata::dtype::u8"};
    default: break;
    }
    throw weights_header_error("kata_weights_header: array '" + e.name + "' is " +
                               std::string(io::npy_dtype_name(e.dtype)) +
                               "; embedded builds take float32, int32, int8 or uint8 (convert the array "
                               "before saving: a silent conversion would change the network)");
}

template <class T>
T load_element(const std::byte* p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

}  // namespace detail

// The header text for `entries` (in their order).
inline std::string make_weights_header(std::span<const weights_entry> entries,
                                       const weights_header_options& opt) {
    std::string out;
    out += "// Generated by kata_weights_header (kata/embedded/host/weights_header.hpp)";
    if (!opt.source.empty()) out += " from " + opt.source;
    out += ".\n// Do not edit: regenerate it. Constant arrays (.rodata) and the table of\n"
           "// kata::embedded::constant_parameter a constant parameter source binds by name.\n"
           "#pragma once\n\n#include <cstdint>\n\n#include <kata/embedded/constant_parameters.hpp>\n\n";
    out += "namespace " + opt.namespace_name + " {\n\n";
    std::set<std::string> used{opt.table_name};
    std::vector<std::string> ids;
    for (const weights_entry& e : entries) {
        const detail::element_type t = detail::element_type_of(e);
        if (e.shape.size() > std::size_t(max_rank))
            throw weights_header_error("kata_weights_header: array '" + e.name + "' has rank " +
                                       std::to_string(e.shape.size()) + "; kata shapes hold at most " +
                                       std::to_string(max_rank) + " dimensions");
        std::size_t n = 1;
        for (std::size_t d : e.shape) n *= d;
        const std::size_t isize = io::npy_itemsize(e.dtype);
        if (e.data.size() != n * isize)
            throw weights_header_error("kata_weights_header: array '" + e.name + "' has " +
                                       std::to_string(e.data.size()) + " bytes of data for shape " +
                                       io::shape_repr(e.shape));
        const std::string id = detail::identifier_for(e.name, used);
        ids.push_back(n ? id : std::string());
        if (n == 0) continue;  // no zero-length arrays in C++: the table gets a null pointer
        out += "// \"" + e.name + "\" " + io::shape_repr(e.shape) + "\n";
        out += "inline constexpr " + std::string(t.cpp) + " " + id + "[" + std::to_string(n) + "] = {\n    ";
        std::size_t line = 4;
        for (std::size_t i = 0; i < n; ++i) {
            std::string v;
            const std::byte* p = e.data.data() + i * isize;
            switch (e.dtype) {
            case io::npy_dtype::f4: detail::append_float(v, detail::load_element<float>(p)); break;
            case io::npy_dtype::i4: v = std::to_string(detail::load_element<std::int32_t>(p)); break;
            case io::npy_dtype::i1: v = std::to_string(int(detail::load_element<std::int8_t>(p))); break;
            default: v = std::to_string(unsigned(detail::load_element<std::uint8_t>(p))); break;
            }
            if (e.dtype == io::npy_dtype::i4 && v == "-2147483648") v = "(-2147483647 - 1)";
            if (i > 0) {
                if (line + v.size() + 2 > 100) {
                    out += ",\n    ";
                    line = 4;
                } else {
                    out += ", ";
                    line += 2;
                }
            }
            out += v;
            line += v.size();
        }
        out += "};\n\n";
    }
    out += "inline constexpr kata::embedded::constant_parameter " + opt.table_name + "[] = {\n";
    for (std::size_t k = 0; k < entries.size(); ++k) {
        const weights_entry& e = entries[k];
        out += "    {\"";
        for (char c : e.name) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        out += "\", " + (ids[k].empty() ? std::string("nullptr") : ids[k]) + ", " +
               detail::element_type_of(e).kata_dtype + ", kata::shape_t{";
        for (std::size_t d = 0; d < e.shape.size(); ++d) out += (d ? ", " : "") + std::to_string(e.shape[d]);
        out += "}},\n";
    }
    if (entries.empty()) out += "    {\"\", nullptr, kata::dtype::f32, kata::shape_t{}},  // (no arrays)\n";
    out += "};\n\n}  // namespace " + opt.namespace_name + "\n";
    return out;
}

// The entries of an .npz archive (views into `bytes`), in archive order.
inline std::vector<weights_entry> weights_entries(const std::vector<io::npz_entry>& npz) {
    std::vector<weights_entry> v;
    for (const io::npz_entry& e : npz) v.push_back({e.name, e.array.dtype, e.array.shape, e.array.data});
    return v;
}

// The entries of a parameter store (float32 values, store order; views into the store).
inline std::vector<weights_entry> weights_entries(const parameter_store& store) {
    std::vector<weights_entry> v;
    for (const auto& [name, p] : store.get_parameters(false)) {
        std::vector<std::size_t> shape(p->data.shape().begin(), p->data.shape().end());
        v.push_back({name, io::npy_dtype::f4, shape,
                     std::as_bytes(std::span<const float>(p->data.data(), p->data.size()))});
    }
    return v;
}

// Writes the header to `path` atomically; leaves an existing file with the same content untouched.
// Returns whether the file was (re)written.
inline bool write_weights_header(const std::filesystem::path& path, std::span<const weights_entry> entries,
                                 const weights_header_options& opt) {
    const std::string text = make_weights_header(entries, opt);
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) {
        const std::vector<std::byte> old = io::read_file_bytes(path);
        if (old.size() == text.size() && std::memcmp(old.data(), text.data(), text.size()) == 0) return false;
    }
    io::atomic_write_file(path, std::as_bytes(std::span<const char>(text.data(), text.size())));
    return true;
}

inline bool write_weights_header(const std::filesystem::path& path, const parameter_store& store,
                                 const weights_header_options& opt) {
    const std::vector<weights_entry> entries = weights_entries(store);
    return write_weights_header(path, entries, opt);
}

}  // namespace kata::embedded::host
