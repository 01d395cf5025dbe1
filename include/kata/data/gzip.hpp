// kata/data/gzip.hpp: kata::data::gunzip, a small DEFLATE (RFC 1951) decoder for gzip files (RFC 1952).
//
// Why not zlib: Debian's dataset-fashion-mnist ships its IDX files gzip-compressed (*.gz), and they are
// the only compressed input kata reads. A ~200-line decoder (canonical Huffman decoding, as in Mark
// Adler's reference "puff") keeps kata header-only with no link dependency: zlib would have to be found
// by CMake and exported to every consumer of kata::io for this one reader. It is not tuned for speed
// (the 26 MB of Fashion-MNIST's training images take about a second). Every gzip member's CRC-32 and
// length are verified, so a corrupt or truncated file is an error, never wrong data.
// Errors: kata::io_error naming the file (the `name_for_errors` argument) and what is wrong.
#pragma once

#include "../io/npz.hpp"  // kata::io_error, kata::io::detail::crc32_update

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kata::data {

namespace detail {

class inflater {
public:
    inflater(std::span<const std::uint8_t> in, std::string_view name) : in_(in), name_(name) {}

    std::size_t consumed() const { return pos_; }

    /// Decodes one DEFLATE stream, appending to out.
    void run(std::vector<std::uint8_t>& out) {
        bool last;
        do {
            last = bits(1);
            switch (bits(2)) {
            case 0: stored(out); break;
            case 1: fixed(out); break;
            case 2: dynamic(out); break;
            default: fail("invalid deflate block type 3");
            }
        } while (!last);
        bitbuf_ = 0;  // the rest of the last byte is padding
        bitcnt_ = 0;
    }

    [[noreturn]] void fail(const std::string& what) const {
        throw kata::io_error(std::string(name_) + ": corrupt gzip data: " + what);
    }

private:
    static constexpr int max_bits = 15;
    struct huffman {
        std::array<std::uint16_t, max_bits + 1> count{};
        std::array<std::uint16_t, 320> symbol{};
    };

    std::uint32_t bits(int need) {
        std::uint64_t val = bitbuf_;
        while (bitcnt_ < need) {
            if (pos_ == in_.size()) throw kata::io_error(std::string(name_) + ": truncated gzip data");
            val |= std::uint64_t{in_[pos_++]} << bitcnt_;
            bitcnt_ += 8;
        }
        bitbuf_ = static_cast<std::uint32_t>(val >> need);
        bitcnt_ -= need;
        return static_cast<std::uint32_t>(val & ((std::uint64_t{1} << need) - 1));
    }

    void stored(std::vector<std::uint8_t>& out) {
        bitbuf_ = 0;
        bitcnt_ = 0;
        if (in_.size() - pos_ < 4) throw kata::io_error(std::string(name_) + ": truncated gzip data");
        const unsigned len = in_[pos_] | (in_[pos_ + 1] << 8);
        const unsigned nlen = in_[pos_ + 2] | (in_[pos_ + 3] << 8);
        pos_ += 4;
        if (len != (~nlen & 0xffffu)) fail("stored block length check");
        if (in_.size() - pos_ < len) throw kata::io_error(std::string(name_) + ": truncated gzip data");
        out.insert(out.end(), in_.begin() + static_cast<std::ptrdiff_t>(pos_),
                   in_.begin() + static_cast<std::ptrdiff_t>(pos_ + len));
        pos_ += len;
    }

    /// Builds a canonical Huffman decoding table; returns > 0 for an incomplete code, < 0 for an
    /// over-subscribed one.
    static int construct(huffman& h, const std::uint16_t* length, int n) {
        h.count.fill(0);
        for (int s = 0; s < n; ++s) ++h.count[length[s]];
        if (h.count[0] == n) return 0;
        int left = 1;
        for (int len = 1; len <= max_bits; ++len) {
            left <<= 1;
            left -= h.count[len];
            if (left < 0) return left;
        }
        std::array<std::uint16_t, max_bits + 1> offs{};
        for (int len = 1; len < max_bits; ++len) offs[len + 1] = offs[len] + h.count[len];
        for (int s = 0; s < n; ++s)
            if (length[s] != 0) h.symbol[offs[length[s]]++] = static_cast<std::uint16_t>(s);
        return left;
    }

    int decode(const huffman& h) {
        int code = 0, first = 0, index = 0;
        for (int len = 1; len <= max_bits; ++len) {
            code |= static_cast<int>(bits(1));
            const int count = h.count[len];
            if (code - count < first) return h.symbol[index + (code - first)];
            index += count;
            first += count;
            first <<= 1;
            code <<= 1;
        }
        fail("invalid Huffman code");
    }

    void codes(std::vector<std::uint8_t>& out, const huffman& lencode, const huffman& distcode) {
        static constexpr std::uint16_t lbase[29] = {3,  4,  5,  6,   7,   8,   9,   10,  11, 13,
                                                    15, 17, 19, 23,  27,  31,  35,  43,  51, 59,
                                                    67, 83, 99, 115, 131, 163, 195, 227, 258};
        static constexpr std::uint16_t lext[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                                   2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
        static constexpr std::uint16_t dbase[30] = {
            1,   2,   3,   4,   5,   7,    9,    13,   17,   25,   33,   49,   65,    97,    129,
            193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
        static constexpr std::uint16_t dext[30] = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                                   6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
        for (;;) {
            int symbol = decode(lencode);
            if (symbol < 256) {
                out.push_back(static_cast<std::uint8_t>(symbol));
            } else if (symbol == 256) {
                return;
            } else {
                symbol -= 257;
                if (symbol >= 29) fail("invalid length symbol");
                const std::size_t len = lbase[symbol] + bits(lext[symbol]);
                const int dsym = decode(distcode);
                if (dsym >= 30) fail("invalid distance symbol");
                const std::size_t dist = dbase[dsym] + bits(dext[dsym]);
                if (dist > out.size()) fail("distance too far back");
                const std::size_t from = out.size() - dist;
                for (std::size_t k = 0; k < len; ++k) out.push_back(out[from + k]);
            }
        }
    }

    void fixed(std::vector<std::uint8_t>& out) {
        if (!fixed_built_) {
            std::array<std::uint16_t, 288> lengths{};
            for (int s = 0; s < 288; ++s) lengths[s] = s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8;
            construct(fixed_len_, lengths.data(), 288);
            for (int s = 0; s < 30; ++s) lengths[s] = 5;
            construct(fixed_dist_, lengths.data(), 30);
            fixed_built_ = true;
        }
        codes(out, fixed_len_, fixed_dist_);
    }

    void dynamic(std::vector<std::uint8_t>& out) {
        static constexpr std::uint8_t order[19] = {16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
                                                   11, 4,  12, 3, 13, 2, 14, 1, 15};
        const int nlen = static_cast<int>(bits(5)) + 257;
        const int ndist = static_cast<int>(bits(5)) + 1;
        const int ncode = static_cast<int>(bits(4)) + 4;
        if (nlen > 286 || ndist > 30) fail("bad dynamic block counts");
        std::array<std::uint16_t, 320> lengths{};
        for (int k = 0; k < ncode; ++k) lengths[order[k]] = static_cast<std::uint16_t>(bits(3));
        huffman lencode, distcode;
        if (construct(lencode, lengths.data(), 19) != 0) fail("incomplete code-length code");
        for (int k = 0; k < 19; ++k) lengths[k] = 0;
        for (int index = 0; index < nlen + ndist;) {
            int symbol = decode(lencode);
            if (symbol < 16) {
                lengths[index++] = static_cast<std::uint16_t>(symbol);
                continue;
            }
            std::uint16_t len = 0;
            int repeat;
            if (symbol == 16) {
                if (index == 0) fail("repeat with no first length");
                len = lengths[index - 1];
                repeat = 3 + static_cast<int>(bits(2));
            } else if (symbol == 17) {
                repeat = 3 + static_cast<int>(bits(3));
            } else {
                repeat = 11 + static_cast<int>(bits(7));
            }
            if (index + repeat > nlen + ndist) fail("too many lengths");
            while (repeat--) lengths[index++] = len;
        }
        if (lengths[256] == 0) fail("no end-of-block code");
        const int err = construct(lencode, lengths.data(), nlen);
        if (err < 0 || (err > 0 && nlen - lencode.count[0] != 1)) fail("bad literal/length code");
        const int derr = construct(distcode, lengths.data() + nlen, ndist);
        if (derr < 0 || (derr > 0 && ndist - distcode.count[0] != 1)) fail("bad distance code");
        codes(out, lencode, distcode);
    }

    std::span<const std::uint8_t> in_;
    std::string_view name_;
    std::size_t pos_ = 0;
    std::uint32_t bitbuf_ = 0;
    int bitcnt_ = 0;
    bool fixed_built_ = false;
    huffman fixed_len_, fixed_dist_;
};

}  // namespace detail

/// True when the bytes start with the gzip magic number (1f 8b).
inline bool is_gzip(std::span<const std::uint8_t> bytes) {
    return bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
}

/// Decompresses a whole gzip file (all members, concatenated, as gzip -d does).
inline std::vector<std::uint8_t> gunzip(std::span<const std::uint8_t> bytes,
                                        std::string_view name_for_errors) {
    const std::string name(name_for_errors);
    auto truncated = [&]() -> kata::io_error { return kata::io_error(name + ": truncated gzip data"); };
    std::vector<std::uint8_t> out;
    std::size_t pos = 0;
    do {
        if (bytes.size() - pos < 10) throw truncated();
        if (bytes[pos] != 0x1f || bytes[pos + 1] != 0x8b) throw kata::io_error(name + ": not a gzip file");
        if (bytes[pos + 2] != 8) throw kata::io_error(name + ": gzip compression method is not deflate");
        const std::uint8_t flags = bytes[pos + 3];
        if (flags & 0xe0) throw kata::io_error(name + ": reserved gzip header flags set");
        pos += 10;
        if (flags & 4) {  // FEXTRA
            if (bytes.size() - pos < 2) throw truncated();
            const std::size_t xlen = bytes[pos] | (bytes[pos + 1] << 8);
            if (bytes.size() - pos - 2 < xlen) throw truncated();
            pos += 2 + xlen;
        }
        for (int field : {8, 16})  // FNAME, FCOMMENT: zero-terminated
            if (flags & field) {
                while (pos < bytes.size() && bytes[pos] != 0) ++pos;
                if (pos == bytes.size()) throw truncated();
                ++pos;
            }
        if (flags & 2) {  // FHCRC
            if (bytes.size() - pos < 2) throw truncated();
            pos += 2;
        }
        const std::size_t start = out.size();
        detail::inflater inf(bytes.subspan(pos), name);
        inf.run(out);
        pos += inf.consumed();
        if (bytes.size() - pos < 8) throw truncated();
        auto le32 = [&](std::size_t p) {
            return std::uint32_t{bytes[p]} | std::uint32_t{bytes[p + 1]} << 8 |
                   std::uint32_t{bytes[p + 2]} << 16 | std::uint32_t{bytes[p + 3]} << 24;
        };
        const std::uint32_t crc = kata::io::detail::crc32_update(
            0, std::as_bytes(std::span<const std::uint8_t>(out.data() + start, out.size() - start)));
        if (crc != le32(pos)) throw kata::io_error(name + ": gzip CRC-32 mismatch (corrupt file)");
        if (static_cast<std::uint32_t>(out.size() - start) != le32(pos + 4))
            throw kata::io_error(name + ": gzip length mismatch (corrupt file)");
        pos += 8;
        while (pos < bytes.size() && bytes[pos] == 0) ++pos;  // zero padding after the last member
    } while (pos < bytes.size());
    return out;
}

}  // namespace kata::data
