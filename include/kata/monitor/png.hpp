// kata/monitor/png.hpp: kata::monitor::encode_png / write_png, 8-bit grayscale or RGB PNG files.
//
// Why no library: a PNG's image data is a zlib stream, and DEFLATE allows "stored" blocks (raw bytes,
// up to 65535 per block). Written that way, a PNG needs only CRC-32 (per chunk) and Adler-32 (of the
// zlib stream), both a few lines; no zlib/libpng dependency for the few monitor images a training
// writes. The files are larger than compressed ones (width * height * channels + ~0.1 %), which is
// fine for 28x28 to 256x256 previews. Every row uses filter type 0 (none).
// write_png replaces the file atomically (kata::io::atomic_write_file: temp + rename).
#pragma once

#include "../io/file.hpp"
#include "../io/npz.hpp"  // kata::io::detail::crc32_update

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace kata::monitor {

namespace detail {

inline std::uint32_t adler32(std::span<const std::uint8_t> data, std::uint32_t adler = 1) {
    std::uint32_t a = adler & 0xffff, b = adler >> 16;
    for (std::uint8_t byte : data) {
        a = (a + byte) % 65521;
        b = (b + a) % 65521;
    }
    return (b << 16) | a;
}

inline void put_be32(std::vector<std::uint8_t>& out, std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}

inline void put_chunk(std::vector<std::uint8_t>& out, const char (&type)[5],
                      std::span<const std::uint8_t> data) {
    put_be32(out, static_cast<std::uint32_t>(data.size()));
    const std::size_t type_at = out.size();
    out.insert(out.end(), type, type + 4);
    out.insert(out.end(), data.begin(), data.end());
    const std::uint32_t crc = kata::io::detail::crc32_update(
        0, std::as_bytes(std::span<const std::uint8_t>(out.data() + type_at, out.size() - type_at)));
    put_be32(out, crc);
}

}  // namespace detail

/// A PNG file's bytes: `channels` 1 (grayscale) or 3 (RGB), pixels row-major, interleaved (H, W, C).
inline std::vector<std::uint8_t> encode_png(std::size_t width, std::size_t height, int channels,
                                            std::span<const std::uint8_t> pixels) {
    if (channels != 1 && channels != 3) throw std::invalid_argument("encode_png: channels must be 1 or 3");
    if (width == 0 || height == 0 || width > 0x7fffffff || height > 0x7fffffff)
        throw std::invalid_argument("encode_png: bad image size " + std::to_string(width) + "x" +
                                    std::to_string(height));
    const std::size_t row = width * static_cast<std::size_t>(channels);
    if (pixels.size() != row * height)
        throw std::invalid_argument("encode_png: " + std::to_string(pixels.size()) + " bytes for a " +
                                    std::to_string(width) + "x" + std::to_string(height) + "x" +
                                    std::to_string(channels) + " image");
    std::vector<std::uint8_t> raw;  // filter byte 0 + the row, per row
    raw.reserve((row + 1) * height);
    for (std::size_t y = 0; y < height; ++y) {
        raw.push_back(0);
        raw.insert(raw.end(), pixels.begin() + static_cast<std::ptrdiff_t>(y * row),
                   pixels.begin() + static_cast<std::ptrdiff_t>((y + 1) * row));
    }
    std::vector<std::uint8_t> z{0x78, 0x01};  // zlib: deflate, 32 KiB window, no dictionary, check bits
    for (std::size_t at = 0;;) {
        const std::size_t n = std::min<std::size_t>(65535, raw.size() - at);
        const bool last = at + n == raw.size();
        z.push_back(last ? 1 : 0);  // BFINAL, BTYPE = 00 (stored)
        z.push_back(static_cast<std::uint8_t>(n));
        z.push_back(static_cast<std::uint8_t>(n >> 8));
        z.push_back(static_cast<std::uint8_t>(~n));
        z.push_back(static_cast<std::uint8_t>(~n >> 8));
        z.insert(z.end(), raw.begin() + static_cast<std::ptrdiff_t>(at),
                 raw.begin() + static_cast<std::ptrdiff_t>(at + n));
        at += n;
        if (last) break;
    }
    detail::put_be32(z, detail::adler32(raw));

    std::vector<std::uint8_t> out{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    std::vector<std::uint8_t> ihdr;
    detail::put_be32(ihdr, static_cast<std::uint32_t>(width));
    detail::put_be32(ihdr, static_cast<std::uint32_t>(height));
    ihdr.push_back(8);                      // bit depth
    ihdr.push_back(channels == 1 ? 0 : 2);  // colour type: grayscale / truecolour
    ihdr.insert(ihdr.end(), {0, 0, 0});     // compression, filter, interlace
    detail::put_chunk(out, "IHDR", ihdr);
    detail::put_chunk(out, "IDAT", z);
    detail::put_chunk(out, "IEND", {});
    return out;
}

inline void write_png(const std::filesystem::path& path, std::size_t width, std::size_t height, int channels,
                      std::span<const std::uint8_t> pixels) {
    const auto bytes = encode_png(width, height, channels, pixels);
    kata::io::atomic_write_file(path, std::as_bytes(std::span<const std::uint8_t>(bytes)));
}

}  // namespace kata::monitor
