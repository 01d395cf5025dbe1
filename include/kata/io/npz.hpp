// kata/io/npz.hpp
//
// Purpose: read and write numpy .npz archives (a ZIP of NPY members named "<key>.npy") without a
// zlib dependency. The file operations (whole-file read, atomic replace) are in kata/io/file.hpp.
//
// nnabla mapping: none directly (nnabla stores parameters as .h5/.protobuf). kata's parameter files
// are .npz so that `numpy.load(path)["conv1/conv/W"]` works with nothing but numpy installed.
//
// Reader (`read_npz`):
//   * ZIP stored entries (method 0) as numpy.savez writes them. numpy opens members with
//     force_zip64=True, so local headers carry zip64 extra fields (sizes 0xFFFFFFFF + real sizes in
//     the extra field); zip64 extra fields in central headers and the zip64 end-of-central-directory
//     record/locator are parsed as well. The central directory is authoritative (local header sizes
//     may be zero when a data descriptor was used); the local header is only used to find the data
//     and its name must match the central one.
//   * every member's CRC-32 is verified.
//   * the end record must describe the central directory exactly: it ends where the (zip64) end
//     record begins, and it holds exactly the number of entries the end record counts (fewer or
//     more is an error: a reader that trusted the count would load part of the archive and report
//     success). Where both a zip64 and a classic end record give a value, they must agree.
//   * leading bytes (a self-extracting stub, or data prepended to the archive) are refused with an
//     error that says so. Python's zipfile (hence numpy.load) accepts them by shifting every offset;
//     kata does not, on purpose: with a shift allowed, an end record whose count and directory size
//     were both lowered reads as a smaller valid archive, and the mismatch check above could not
//     see it. Strip the stub (e.g. with `zip -J`) to read such a file.
//   * deflated members (numpy.savez_compressed) -> io_error "compressed npz ... not supported" (kata
//     has no zlib dependency on purpose). Encrypted, split/multi-disk archives -> io_error.
//   * directory entries ("dir/") are skipped; any other member not ending in ".npy" is an error.
//   * untrusted input: every offset/size is bounds-checked against the buffer before use, counts
//     are bounded by the bytes present, so a forged archive can neither read out of bounds nor make
//     kata allocate more than O(input size). A member's data must also end before the central
//     directory starts. All failures throw kata::io_error naming the file (the `name_for_errors`
//     argument) and, where known, the entry.
//   * `read_npz` returns views into the caller's buffer (no copy of the array data).
// Writer (`write_npz`):
//   * stored members, CRC-32, central directory; zip64 records only where a size/offset/count needs
//     them (or everywhere with npz_write_options::force_zip64, used by tests). Deterministic output:
//     fixed DOS timestamp 1980-01-01 00:00, fixed attributes, so the same parameters always give
//     the same bytes (tests compare against a committed file).
//   * the NPY members are byte-identical to what numpy 1.24 `numpy.save` writes.
//   * a ZIP member name is at most 65535 bytes (a 16-bit field): with the ".npy" suffix a key may
//     have at most 65531 bytes (npz_max_key_bytes); longer keys are refused before anything is
//     written (std::invalid_argument here; parameter_store::save reports an io_error naming the
//     parameter).
// `save_npz` writes the archive with kata::io::atomic_write_file (temp + rename; see file.hpp).
#pragma once

#include "../detail/xtensor_fix.hpp"
#include "file.hpp"
#include "npy.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace kata::io {

/// One array of an .npz archive: key (the member name without ".npy") and a view of its data.
struct npz_entry {
    std::string name;
    npy_view array;
};

/// One array to write: key (".npy" is appended), dtype, row-major shape and raw little-endian data.
struct npz_item {
    std::string name;
    npy_dtype dtype = npy_dtype::f4;
    std::vector<std::size_t> shape;
    std::span<const std::byte> data;  // must stay alive until write_npz returns
};

/// An npz_item viewing an xarray (row-major; `a` must outlive the item).
template <class T>
npz_item make_npz_item(std::string name, const xt::xarray<T>& a) {
    return npz_item{
        std::move(name), npy_dtype_of_v<T>, std::vector<std::size_t>(a.shape().begin(), a.shape().end()),
        std::span<const std::byte>(reinterpret_cast<const std::byte*>(a.data()), a.size() * sizeof(T))};
}

/// The longest .npz key: a ZIP member name has a 16-bit length, and numpy names members "<key>.npy".
inline constexpr std::size_t npz_max_key_bytes = 0xFFFF - 4;

struct npz_write_options {
    /// Write zip64 extra fields and zip64 end records even when nothing needs them (tests).
    bool force_zip64 = false;
};

namespace detail {

inline constexpr std::array<std::uint32_t, 256> crc32_table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        t[i] = c;
    }
    return t;
}();

/// Incremental CRC-32 (ISO-HDLC / zip / zlib). Start with crc = 0.
inline std::uint32_t crc32_update(std::uint32_t crc, std::span<const std::byte> data) noexcept {
    crc = ~crc;
    for (std::byte b : data)
        crc = crc32_table[(crc ^ std::to_integer<std::uint32_t>(b)) & 0xFFu] ^ (crc >> 8);
    return ~crc;
}

inline constexpr std::uint32_t sig_local = 0x04034b50;
inline constexpr std::uint32_t sig_central = 0x02014b50;
inline constexpr std::uint32_t sig_eocd = 0x06054b50;
inline constexpr std::uint32_t sig_eocd64 = 0x06064b50;
inline constexpr std::uint32_t sig_eocd64_locator = 0x07064b50;
inline constexpr std::uint32_t u32_sat = 0xFFFFFFFFu;
inline constexpr std::uint16_t u16_sat = 0xFFFFu;
inline constexpr std::size_t central_fixed = 46;
inline constexpr std::size_t local_fixed = 30;
inline constexpr std::size_t eocd_fixed = 22;
inline constexpr std::size_t eocd64_fixed = 56;
inline constexpr std::size_t locator_fixed = 20;
inline constexpr std::uint16_t dos_date_1980_01_01 = (0 << 9) | (1 << 5) | 1;

/// A raw stored ZIP member: full member name and its (uncompressed) data.
struct zip_member {
    std::string name;
    std::span<const std::byte> data;
};

[[noreturn]] inline void zip_fail(std::string_view file, std::string_view entry, std::string_view msg) {
    std::string m(file);
    if (!entry.empty()) {
        m += ": entry '";
        m += entry;
        m += "'";
    }
    m += ": ";
    m += msg;
    throw io_error(m);
}

inline std::string hex32(std::uint32_t v) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s = "0x";
    for (int i = 7; i >= 0; --i) s += digits[(v >> (4 * i)) & 0xF];
    return s;
}

/// Lists the members of a ZIP archive held in `b`, verifying structure and CRC-32.
inline std::vector<zip_member> read_zip_stored(std::span<const std::byte> b, std::string_view file) {
    const std::size_t size = b.size();
    auto u16 = [&](std::size_t off) { return std::uint16_t(read_le(b, off, 2)); };
    auto u32 = [&](std::size_t off) { return std::uint32_t(read_le(b, off, 4)); };
    auto u64 = [&](std::size_t off) { return read_le(b, off, 8); };

    if (size < eocd_fixed) zip_fail(file, {}, "not a zip/npz file (only " + std::to_string(size) + " bytes)");

    // End of central directory: the last signature whose comment fits in the file.
    std::size_t eocd = size;  // "not found"
    const std::size_t lowest = size - eocd_fixed > 0xFFFF ? size - eocd_fixed - 0xFFFF : 0;
    for (std::size_t p = size - eocd_fixed + 1; p-- > lowest;) {
        if (u32(p) == sig_eocd && p + eocd_fixed + u16(p + 20) <= size) {
            eocd = p;
            break;
        }
    }
    if (eocd == size)
        zip_fail(file, {}, "not a zip/npz file or truncated (no end-of-central-directory record)");

    std::uint64_t disk = u16(eocd + 4), cd_disk = u16(eocd + 6), n_disk = u16(eocd + 8),
                  n_total = u16(eocd + 10);
    std::uint64_t cd_size = u32(eocd + 12), cd_off = u32(eocd + 16);
    std::size_t cd_limit = eocd;  // the central directory must end exactly here

    if (eocd >= locator_fixed && u32(eocd - locator_fixed) == sig_eocd64_locator) {
        const std::size_t loc = eocd - locator_fixed;
        const std::uint64_t z64 = u64(loc + 8);
        if (u32(loc + 16) > 1) zip_fail(file, {}, "multi-disk (split) zip archives are not supported");
        if (z64 > loc || loc - z64 < eocd64_fixed || u32(std::size_t(z64)) != sig_eocd64) {
            // The zip64 end record normally sits right before its locator: found there, the stored
            // offset is short by the number of bytes prepended to the archive.
            if (loc >= eocd64_fixed && u32(loc - eocd64_fixed) == sig_eocd64 && z64 < loc - eocd64_fixed)
                zip_fail(file, {},
                         "the archive starts with " + std::to_string(loc - eocd64_fixed - z64) +
                             " bytes that are not part of it (a self-extracting stub or data "
                             "prepended to the file?): kata reads plain .npz archives only");
            zip_fail(file, {},
                     "corrupt zip64 end-of-central-directory record (offset " + std::to_string(z64) + ")");
        }
        const std::size_t r = std::size_t(z64);
        const std::uint64_t z_disk = u32(r + 16), z_cd_disk = u32(r + 20), z_n_disk = u64(r + 24),
                            z_n_total = u64(r + 32), z_cd_size = u64(r + 40), z_cd_off = u64(r + 48);
        // A classic field that is not saturated must agree with its zip64 twin (Python's zipfile and
        // kata write either the saturated marker or the same value).
        if ((n_total != u16_sat && n_total != z_n_total) || (n_disk != u16_sat && n_disk != z_n_disk))
            zip_fail(file, {},
                     "the end record counts " + std::to_string(n_total) +
                         " entries but the zip64 end record counts " + std::to_string(z_n_total));
        if ((cd_size != u32_sat && cd_size != z_cd_size) || (cd_off != u32_sat && cd_off != z_cd_off))
            zip_fail(file, {},
                     "the end record and the zip64 end record disagree on the central directory (offset " +
                         std::to_string(cd_off) + " vs " + std::to_string(z_cd_off) + ", size " +
                         std::to_string(cd_size) + " vs " + std::to_string(z_cd_size) + ")");
        disk = z_disk;
        cd_disk = z_cd_disk;
        n_disk = z_n_disk;
        n_total = z_n_total;
        cd_size = z_cd_size;
        cd_off = z_cd_off;
        cd_limit = r;
    } else if (n_total == u16_sat || cd_size == u32_sat || cd_off == u32_sat) {
        zip_fail(file, {}, "zip64 archive without its zip64 end-of-central-directory locator (truncated?)");
    }
    if (disk != 0 || cd_disk != 0 || n_disk != n_total)
        zip_fail(file, {}, "multi-disk (split) zip archives are not supported");
    if (cd_off > cd_limit || cd_size > cd_limit - cd_off)
        zip_fail(file, {},
                 "central directory (offset " + std::to_string(cd_off) + ", size " + std::to_string(cd_size) +
                     ") lies outside the file (truncated or corrupt)");
    if (cd_off + cd_size != cd_limit) {
        // Bytes between the directory the end record describes and the end record itself. Either
        // the whole archive is shifted by a prefix (the directory is found that much further on),
        // or the end record is corrupt (for instance its entry count and directory size both cut).
        const std::size_t gap = std::size_t(cd_limit - cd_off - cd_size);
        const std::size_t shifted = std::size_t(cd_off) + gap;
        const bool starts_there = n_total == 0 || (cd_limit - shifted >= 4 && u32(shifted) == sig_central);
        const bool starts_here =
            n_total != 0 && cd_limit - cd_off >= 4 && u32(std::size_t(cd_off)) == sig_central;
        if (starts_there && !starts_here)
            zip_fail(file, {},
                     "the archive starts with " + std::to_string(gap) +
                         " bytes that are not part of it (a self-extracting stub or data prepended to the "
                         "file?): kata reads plain .npz archives only");
        zip_fail(file, {},
                 "the end record's central directory (offset " + std::to_string(cd_off) + ", size " +
                     std::to_string(cd_size) + ", " + std::to_string(n_total) + " entries) ends " +
                     std::to_string(gap) + " bytes before the end record at offset " +
                     std::to_string(cd_limit) + " (entries not counted, or corrupt)");
    }
    // Each central header takes >= 46 bytes: bounding the count by the bytes present keeps a forged
    // count from driving a huge reserve().
    if (n_total > cd_size / central_fixed)
        zip_fail(file, {},
                 "central directory claims " + std::to_string(n_total) + " entries in " +
                     std::to_string(cd_size) + " bytes");

    std::vector<zip_member> members;
    members.reserve(std::size_t(n_total));
    std::size_t p = std::size_t(cd_off);
    const std::size_t cd_end = std::size_t(cd_off + cd_size);
    for (std::uint64_t i = 0; i < n_total; ++i) {
        if (p == cd_end)
            zip_fail(file, {},
                     "the end record counts " + std::to_string(n_total) +
                         " entries but the central directory holds only " + std::to_string(i));
        if (cd_end - p < central_fixed || u32(p) != sig_central)
            zip_fail(file, {},
                     "corrupt central directory at entry " + std::to_string(i) + " (offset " +
                         std::to_string(p) + ")");
        const std::uint16_t flags = u16(p + 8), method = u16(p + 10);
        const std::uint32_t crc = u32(p + 16);
        std::uint64_t csize = u32(p + 20), usize = u32(p + 24);
        const std::size_t nlen = u16(p + 28), elen = u16(p + 30), clen = u16(p + 32);
        std::uint64_t local = u32(p + 42);
        if (cd_end - p - central_fixed < nlen + elen + clen)
            zip_fail(file, {}, "central directory entry " + std::to_string(i) + " overruns the directory");
        std::string name(reinterpret_cast<const char*>(b.data() + p + central_fixed), nlen);

        // zip64 extended information (header id 1): only the saturated fields are present, in the
        // order uncompressed size, compressed size, local header offset, disk number.
        const std::size_t ex = p + central_fixed + nlen;
        for (std::size_t q = 0; q + 4 <= elen;) {
            const std::uint16_t id = u16(ex + q), sz = u16(ex + q + 2);
            if (sz > elen - q - 4) zip_fail(file, name, "corrupt extra field in central directory");
            if (id == 1) {
                std::size_t k = 0;
                auto take = [&](std::uint64_t& field) {
                    if (field != u32_sat) return;
                    if (sz - k < 8) zip_fail(file, name, "corrupt zip64 extra field in central directory");
                    field = u64(ex + q + 4 + k);
                    k += 8;
                };
                take(usize);
                take(csize);
                take(local);
            }
            q += 4 + std::size_t(sz);
        }
        p += central_fixed + nlen + elen + clen;

        if (flags & 1u) zip_fail(file, name, "encrypted zip entries are not supported");
        if (method == 8)
            zip_fail(file, name,
                     "compressed npz (deflate, as written by numpy.savez_compressed) is not supported: "
                     "kata reads only uncompressed archives (numpy.savez)");
        if (method != 0) zip_fail(file, name, "unsupported zip compression method " + std::to_string(method));
        if (csize != usize)
            zip_fail(file, name,
                     "stored entry has compressed size " + std::to_string(csize) + " != uncompressed size " +
                         std::to_string(usize));

        if (local > cd_off || cd_off - local < local_fixed || u32(std::size_t(local)) != sig_local)
            zip_fail(file, name, "bad local header offset " + std::to_string(local));
        const std::size_t lh = std::size_t(local);
        const std::size_t lnlen = u16(lh + 26), lelen = u16(lh + 28);
        const std::uint64_t data_start = std::uint64_t(lh) + local_fixed + lnlen + lelen;
        if (data_start > cd_off || csize > cd_off - data_start)
            zip_fail(file, name,
                     "entry data (offset " + std::to_string(data_start) + ", size " + std::to_string(csize) +
                         ") lies outside the file (truncated or corrupt)");
        if (std::string_view(reinterpret_cast<const char*>(b.data() + lh + local_fixed), lnlen) != name)
            zip_fail(file, name, "local header name differs from the central directory");
        if (u16(lh + 8) != method)
            zip_fail(file, name, "local header compression method differs from the central directory");
        const auto data = b.subspan(std::size_t(data_start), std::size_t(csize));
        const std::uint32_t got = crc32_update(0, data);
        if (got != crc)
            zip_fail(file, name, "CRC-32 mismatch (stored " + hex32(crc) + ", computed " + hex32(got) + ")");
        members.push_back(zip_member{std::move(name), data});
    }
    if (p != cd_end) {
        if (cd_end - p >= 4 && u32(p) == sig_central)
            zip_fail(file, {},
                     "the end record counts " + std::to_string(n_total) +
                         " entries but the central directory holds more (another entry at offset " +
                         std::to_string(p) + ")");
        zip_fail(file, {},
                 std::to_string(cd_end - p) +
                     " unexpected bytes at the end of the central directory (offset " + std::to_string(p) +
                     ")");
    }
    return members;
}

}  // namespace detail

/// Parses an .npz archive held in memory. `name_for_errors` (usually the file path) starts every
/// error message. The views in the result point into `bytes`. Entries keep the archive's order.
inline std::vector<npz_entry> read_npz(std::span<const std::byte> bytes, std::string_view name_for_errors) {
    std::vector<detail::zip_member> members = detail::read_zip_stored(bytes, name_for_errors);
    std::vector<npz_entry> out;
    out.reserve(members.size());
    std::set<std::string, std::less<>> seen;
    for (auto& m : members) {
        if (!m.name.empty() && m.name.back() == '/' && m.data.empty()) continue;  // directory entry
        constexpr std::string_view ext = ".npy";
        if (m.name.size() < ext.size() || std::string_view(m.name).substr(m.name.size() - ext.size()) != ext)
            detail::zip_fail(name_for_errors, m.name,
                             "not an .npy array (numpy.savez names members '<key>.npy')");
        std::string key = m.name.substr(0, m.name.size() - ext.size());
        if (!seen.insert(key).second) detail::zip_fail(name_for_errors, m.name, "duplicate entry");
        std::string what(name_for_errors);
        what += ": entry '";
        what += key;
        what += "'";
        npy_view v = parse_npy(m.data, what);
        out.push_back(npz_entry{std::move(key), std::move(v)});
    }
    return out;
}

/// Serialises `items` into .npz bytes (see the header comment for the format choices).
/// Throws std::invalid_argument for an empty/duplicate name or a data size that does not match
/// the shape (programming errors, not file errors).
inline std::vector<std::byte> write_npz(std::span<const npz_item> items, const npz_write_options& opt = {}) {
    using detail::put_le;
    struct written {
        std::string name;
        std::uint32_t crc;
        std::uint64_t size;
        std::uint64_t offset;
    };
    std::set<std::string, std::less<>> seen;
    std::size_t total = 0;
    for (const auto& it : items) {
        if (it.name.empty()) throw std::invalid_argument("kata::io::write_npz: empty entry name");
        if (!seen.insert(it.name).second)
            throw std::invalid_argument("kata::io::write_npz: duplicate entry '" + it.name + "'");
        if (it.name.size() > npz_max_key_bytes)
            throw std::invalid_argument("kata::io::write_npz: entry '" + it.name.substr(0, 64) +
                                        "...' has a " + std::to_string(it.name.size()) +
                                        "-byte name; a ZIP member name holds at most " +
                                        "65535 bytes, so an .npz key at most " +
                                        std::to_string(npz_max_key_bytes) + " (with '.npy')");
        std::size_t count = 1;
        for (auto d : it.shape) count *= d;
        if (count * npy_itemsize(it.dtype) != it.data.size())
            throw std::invalid_argument("kata::io::write_npz: entry '" + it.name + "' has " +
                                        std::to_string(it.data.size()) + " data bytes, shape " +
                                        shape_repr(it.shape) + " needs " +
                                        std::to_string(count * npy_itemsize(it.dtype)));
        total += 2 * (it.name.size() + 4) + 30 + 46 + 40 + 128 + it.data.size() + 256;
    }
    std::vector<std::byte> out;
    out.reserve(total + 100);
    std::vector<written> dir;
    dir.reserve(items.size());

    auto utf8_flag = [](std::string_view s) -> std::uint16_t {
        for (char c : s)
            if (static_cast<unsigned char>(c) >= 0x80)
                return 0x0800;  // names are UTF-8 (as Python's zipfile)
        return 0;
    };

    for (const auto& it : items) {
        const std::string name = it.name + ".npy";
        const std::vector<std::byte> header = npy_header(it.dtype, it.shape);
        const std::uint64_t size = header.size() + it.data.size();
        const std::uint32_t crc = detail::crc32_update(detail::crc32_update(0, header), it.data);
        const std::uint64_t offset = out.size();
        const bool z64 = opt.force_zip64 || size >= detail::u32_sat;
        put_le(out, detail::sig_local, 4);
        put_le(out, z64 ? 45 : 20, 2);  // version needed: 4.5 for zip64, 2.0 otherwise
        put_le(out, utf8_flag(name), 2);
        put_le(out, 0, 2);  // stored
        put_le(out, 0, 2);  // time 00:00:00
        put_le(out, detail::dos_date_1980_01_01, 2);
        put_le(out, crc, 4);
        put_le(out, z64 ? detail::u32_sat : size, 4);
        put_le(out, z64 ? detail::u32_sat : size, 4);
        put_le(out, name.size(), 2);
        put_le(out, z64 ? 20 : 0, 2);
        detail::put_str(out, name);
        if (z64) {  // local zip64 extra carries both sizes (APPNOTE 4.5.3)
            put_le(out, 1, 2);
            put_le(out, 16, 2);
            put_le(out, size, 8);
            put_le(out, size, 8);
        }
        out.insert(out.end(), header.begin(), header.end());
        out.insert(out.end(), it.data.begin(), it.data.end());
        dir.push_back(written{name, crc, size, offset});
    }

    const std::uint64_t cd_off = out.size();
    for (const auto& w : dir) {
        const bool big_size = opt.force_zip64 || w.size >= detail::u32_sat;
        const bool big_off = opt.force_zip64 || w.offset >= detail::u32_sat;
        const std::uint16_t extra = std::uint16_t((big_size ? 16 : 0) + (big_off ? 8 : 0));
        const bool z64 = extra != 0;
        put_le(out, detail::sig_central, 4);
        put_le(out, (3u << 8) | (z64 ? 45u : 20u), 2);  // made by: UNIX
        put_le(out, z64 ? 45 : 20, 2);
        put_le(out, utf8_flag(w.name), 2);
        put_le(out, 0, 2);
        put_le(out, 0, 2);
        put_le(out, detail::dos_date_1980_01_01, 2);
        put_le(out, w.crc, 4);
        put_le(out, big_size ? detail::u32_sat : w.size, 4);
        put_le(out, big_size ? detail::u32_sat : w.size, 4);
        put_le(out, w.name.size(), 2);
        put_le(out, z64 ? 4u + extra : 0u, 2);
        put_le(out, 0, 2);               // comment length
        put_le(out, 0, 2);               // disk number start
        put_le(out, 0, 2);               // internal attributes
        put_le(out, 0100644u << 16, 4);  // external attributes: regular file rw-r--r--
        put_le(out, big_off ? detail::u32_sat : w.offset, 4);
        detail::put_str(out, w.name);
        if (z64) {
            put_le(out, 1, 2);
            put_le(out, extra, 2);
            if (big_size) {
                put_le(out, w.size, 8);
                put_le(out, w.size, 8);
            }
            if (big_off) put_le(out, w.offset, 8);
        }
    }
    const std::uint64_t cd_size = out.size() - cd_off;
    const std::uint64_t n = dir.size();
    const bool z64_end =
        opt.force_zip64 || n >= detail::u16_sat || cd_size >= detail::u32_sat || cd_off >= detail::u32_sat;
    if (z64_end) {
        const std::uint64_t rec = out.size();
        put_le(out, detail::sig_eocd64, 4);
        put_le(out, detail::eocd64_fixed - 12, 8);  // size of the remaining record
        put_le(out, (3u << 8) | 45u, 2);
        put_le(out, 45, 2);
        put_le(out, 0, 4);
        put_le(out, 0, 4);
        put_le(out, n, 8);
        put_le(out, n, 8);
        put_le(out, cd_size, 8);
        put_le(out, cd_off, 8);
        put_le(out, detail::sig_eocd64_locator, 4);
        put_le(out, 0, 4);
        put_le(out, rec, 8);
        put_le(out, 1, 4);
    }
    put_le(out, detail::sig_eocd, 4);
    put_le(out, 0, 2);
    put_le(out, 0, 2);
    put_le(out, z64_end ? detail::u16_sat : n, 2);
    put_le(out, z64_end ? detail::u16_sat : n, 2);
    put_le(out, z64_end ? detail::u32_sat : cd_size, 4);
    put_le(out, z64_end ? detail::u32_sat : cd_off, 4);
    put_le(out, 0, 2);  // comment length
    return out;
}

/// Writes `items` as an .npz file atomically.
inline void save_npz(const std::filesystem::path& path, std::span<const npz_item> items,
                     const npz_write_options& opt = {}) {
    const std::vector<std::byte> bytes = write_npz(items, opt);
    atomic_write_file(path, bytes);
}

}  // namespace kata::io
