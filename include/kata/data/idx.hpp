// kata/data/idx.hpp: kata::data::read_idx, the IDX file format of (Fashion-)MNIST, plain or gzip-compressed.
//
// IDX: two zero bytes, a type byte (0x08 = unsigned byte, the only type the MNIST family uses and the
// only one read here), the number of dimensions, then each dimension as a big-endian uint32, then the
// data in row-major order. A file starting with the gzip magic is decompressed first (kata/data/gzip.hpp).
// Errors are kata::io_error naming the file: missing, not IDX (wrong magic / type), truncated
// (fewer bytes than the dimensions promise) or with trailing bytes.
#pragma once

#include "../io/file.hpp"
#include "gzip.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

namespace kata::data {

struct idx_array {
    std::vector<std::size_t> shape;
    std::vector<std::uint8_t> data;  // row-major
};

/// Parses IDX bytes (already decompressed). `name` is used in error messages.
inline idx_array parse_idx(std::vector<std::uint8_t> bytes, const std::string& name) {
    if (bytes.size() < 4)
        throw kata::io_error(name + ": truncated IDX file (" + std::to_string(bytes.size()) + " bytes)");
    if (bytes[0] != 0 || bytes[1] != 0 || bytes[3] == 0)
        throw kata::io_error(name + ": not an IDX file (wrong magic number)");
    if (bytes[2] != 0x08)
        throw kata::io_error(name + ": IDX element type 0x" + "0123456789abcdef"[bytes[2] >> 4] +
                             "0123456789abcdef"[bytes[2] & 15] +
                             " is not supported (only 0x08, unsigned byte)");
    const std::size_t ndim = bytes[3];
    const std::size_t header = 4 + 4 * ndim;
    if (bytes.size() < header) throw kata::io_error(name + ": truncated IDX header");
    idx_array out;
    std::size_t count = 1;
    for (std::size_t k = 0; k < ndim; ++k) {
        const std::uint8_t* p = bytes.data() + 4 + 4 * k;
        const std::size_t d =
            std::size_t{p[0]} << 24 | std::size_t{p[1]} << 16 | std::size_t{p[2]} << 8 | p[3];
        out.shape.push_back(d);
        count *= d;
    }
    if (count > bytes.size() - header) {
        throw kata::io_error(name + ": truncated IDX file: the dimensions need " + std::to_string(count) +
                             " bytes of data, the file has " + std::to_string(bytes.size() - header));
    }
    if (count < bytes.size() - header) {
        throw kata::io_error(name + ": " + std::to_string(bytes.size() - header - count) +
                             " trailing bytes after the IDX data");
    }
    bytes.erase(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(header));
    out.data = std::move(bytes);
    return out;
}

/// Reads an IDX file (gzip-compressed or not).
inline idx_array read_idx(const std::filesystem::path& path) {
    const std::string name = path.string();
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) throw kata::io_error(name + ": no such file");
    const std::vector<std::byte> raw = kata::io::read_file_bytes(path);
    std::vector<std::uint8_t> bytes(raw.size());
    if (!raw.empty()) std::memcpy(bytes.data(), raw.data(), raw.size());
    if (is_gzip(bytes)) bytes = gunzip(bytes, name);
    return parse_idx(std::move(bytes), name);
}

}  // namespace kata::data
