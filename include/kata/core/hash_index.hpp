// kata/core/hash_index.hpp
//
// A small open-addressing hash table for constant evaluation: it maps 64-bit key hashes to int ids
// (node ids, derivation indices); whether an entry with an equal hash is really the key asked for is
// decided by the caller, who owns the keys. Used where a graph pass looks names up once per node
// (builder::parameter, modify_context::derive): a scan over the earlier entries made those passes
// O(N^2) in constant evaluation (issue 16); with this table a look-up is expected O(1).
//
// Linear probing, at most half full, grown by doubling (amortised O(1) per insertion). The slots are
// read and written through cached raw pointers: in constant evaluation every std::vector member call
// costs tens of evaluation steps (g++ counts them against -fconstexpr-ops-limit), more than the
// probe itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace kata::detail {

// A 64-bit hash of s: FNV-1a-style over 4-byte chunks (a quarter of the per-character evaluation
// steps of a byte loop), then a splitmix64 finaliser so that every character reaches the low bits
// that pick a slot.
constexpr std::uint64_t hash_string(std::string_view s) {
    const char* p = s.data();
    const std::size_t n = s.size();
    std::uint64_t h = 1469598103934665603ull ^ n;
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const std::uint64_t chunk = std::uint64_t(static_cast<unsigned char>(p[i])) |
                                    std::uint64_t(static_cast<unsigned char>(p[i + 1])) << 8 |
                                    std::uint64_t(static_cast<unsigned char>(p[i + 2])) << 16 |
                                    std::uint64_t(static_cast<unsigned char>(p[i + 3])) << 24;
        h = (h ^ chunk) * 1099511628211ull;
    }
    for (; i < n; ++i) h = (h ^ std::uint64_t(static_cast<unsigned char>(p[i]))) * 1099511628211ull;
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
    return h ^ (h >> 31);
}

class hash_index {
public:
    constexpr hash_index() = default;
    constexpr hash_index(const hash_index& o) : ids_(o.ids_), hashes_(o.hashes_), size_(o.size_) { rebind(); }
    constexpr hash_index(hash_index&& o) noexcept
        : ids_(std::move(o.ids_)), hashes_(std::move(o.hashes_)), size_(o.size_) {
        rebind();
        o.clear();
    }
    constexpr hash_index& operator=(const hash_index& o) {
        if (this != &o) {
            ids_ = o.ids_;
            hashes_ = o.hashes_;
            size_ = o.size_;
            rebind();
        }
        return *this;
    }
    constexpr hash_index& operator=(hash_index&& o) noexcept {
        if (this != &o) {
            ids_ = std::move(o.ids_);
            hashes_ = std::move(o.hashes_);
            size_ = o.size_;
            rebind();
            o.clear();
        }
        return *this;
    }

    // The slot of the entry with hash h for which same(id) holds, or the empty slot where such an
    // entry belongs (then id_at(slot) < 0). The slot is valid until the next insert().
    template <class Same>
    constexpr std::size_t find(std::uint64_t h, Same same) {
        if (slots_ == 0) allocate(initial_slots);
        const std::size_t mask = slots_ - 1;
        std::size_t i = std::size_t(h) & mask;
        while (ids_p_[i] >= 0 && !(hashes_p_[i] == h && same(ids_p_[i]))) i = (i + 1) & mask;
        return i;
    }
    constexpr int id_at(std::size_t slot) const { return ids_p_[slot]; }

    // Stores id under hash h in `slot`, an empty slot just returned by find().
    constexpr void insert(std::size_t slot, std::uint64_t h, int id) {
        ids_p_[slot] = id;
        hashes_p_[slot] = h;
        if (2 * ++size_ > slots_) grow();
    }

    constexpr std::size_t size() const { return size_; }
    constexpr void clear() {
        ids_.clear();
        hashes_.clear();
        size_ = 0;
        rebind();
    }

private:
    static constexpr std::size_t initial_slots = 64;  // a power of two

    constexpr void rebind() {
        ids_p_ = ids_.data();
        hashes_p_ = hashes_.data();
        slots_ = ids_.size();
    }
    constexpr void allocate(std::size_t slots) {
        ids_.assign(slots, -1);
        hashes_.assign(slots, 0);
        rebind();
    }
    constexpr void grow() {
        std::vector<int> old_ids(std::move(ids_));
        std::vector<std::uint64_t> old_hashes(std::move(hashes_));
        allocate(2 * old_ids.size());
        const std::size_t mask = slots_ - 1;
        const int* from_ids = old_ids.data();
        const std::uint64_t* from_hashes = old_hashes.data();
        for (std::size_t j = 0, n = old_ids.size(); j < n; ++j) {
            if (from_ids[j] < 0) continue;
            std::size_t i = std::size_t(from_hashes[j]) & mask;
            while (ids_p_[i] >= 0) i = (i + 1) & mask;
            ids_p_[i] = from_ids[j];
            hashes_p_[i] = from_hashes[j];
        }
    }

    std::vector<int> ids_;               // -1: empty slot
    std::vector<std::uint64_t> hashes_;  // hash of the entry in the same slot
    std::size_t size_ = 0;
    // ids_.data(), hashes_.data(), ids_.size(), refreshed whenever the vectors change
    int* ids_p_ = nullptr;
    std::uint64_t* hashes_p_ = nullptr;
    std::size_t slots_ = 0;
};

}  // namespace kata::detail
