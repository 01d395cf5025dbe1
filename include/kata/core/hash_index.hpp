// kata/core/hash_index.hpp
//
// A small open-addressing hash table for constant evaluation: it maps 64-bit key hashes to int ids
// (node ids, derivation indices); whether an entry with an equal hash is really the key asked for is
// decided by the caller, who owns the keys. Used where a graph pass looks names up once per node
// (builder::parameter, modify_context::derive): a scan over the earlier entries made those passes
// O(N^2) in constant evaluation (issue 16); with this table a look-up is expected O(1).
//
// Linear probing, at most half full, grown by doubling (amortised O(1) per insertion). The slots are
// zero-initialised raw arrays (scratch.hpp): filling a std::vector costs ~24 clang evaluation steps
// per slot, which made the table's growth most of a parameter's cost under clang's -fconstexpr-steps.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "scratch.hpp"

namespace kata::detail {

// A 64-bit hash of s: FNV-1a-style over 4-byte chunks (a quarter of the per-character evaluation
// steps of a byte loop), then a splitmix64 finaliser so that every character reaches the low bits
// that pick a slot.
constexpr std::uint64_t hash_string(std::string_view s) {
    const char* p = s.data();
    const std::size_t n = s.size();
    std::uint64_t h = 1469598103934665603ull ^ n;
    std::size_t i = 0;
    // One statement per chunk: clang's budget counts statements (-fconstexpr-steps).
    for (; i + 4 <= n; i += 4)
        h = (h ^ (std::uint64_t(static_cast<unsigned char>(p[i])) |
                  std::uint64_t(static_cast<unsigned char>(p[i + 1])) << 8 |
                  std::uint64_t(static_cast<unsigned char>(p[i + 2])) << 16 |
                  std::uint64_t(static_cast<unsigned char>(p[i + 3])) << 24)) *
            1099511628211ull;
    for (; i < n; ++i) h = (h ^ std::uint64_t(static_cast<unsigned char>(p[i]))) * 1099511628211ull;
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
    return h ^ (h >> 31);
}

class hash_index {
public:
    // The slot of the entry with hash h for which same(id) holds, or the empty slot where such an
    // entry belongs (then id_at(slot) < 0). The slot is valid until the next insert().
    template <class Same>
    constexpr std::size_t find(std::uint64_t h, Same same) {
        if (ids_.size() == 0) allocate(initial_slots);
        const std::size_t mask = ids_.size() - 1;
        const int* ids = ids_.data();
        const std::uint64_t* hashes = hashes_.data();
        std::size_t i = std::size_t(h) & mask;
        while (ids[i] != 0 && !(hashes[i] == h && same(ids[i] - 1))) i = (i + 1) & mask;
        return i;
    }
    constexpr int id_at(std::size_t slot) const { return ids_[slot] - 1; }

    // Stores id under hash h in `slot`, an empty slot just returned by find().
    constexpr void insert(std::size_t slot, std::uint64_t h, int id) {
        ids_[slot] = id + 1;
        hashes_[slot] = h;
        if (2 * ++size_ > ids_.size()) grow();
    }

    // Room for `entries` entries without growing (a pass that knows how many names it will look up
    // allocates once: every growth re-inserts the whole table, one evaluation step per slot).
    constexpr void reserve(std::size_t entries) {
        std::size_t slots = initial_slots;
        while (slots < 2 * entries + 2) slots *= 2;
        if (slots <= ids_.size()) return;
        if (size_ == 0)
            allocate(slots);
        else
            rehash(slots);
    }

    constexpr std::size_t size() const { return size_; }
    constexpr void clear() {
        ids_ = scratch<int>();
        hashes_ = scratch<std::uint64_t>();
        size_ = 0;
    }

private:
    static constexpr std::size_t initial_slots = 64;  // a power of two

    constexpr void allocate(std::size_t slots) {
        ids_ = scratch<int>(slots);
        hashes_ = scratch<std::uint64_t>(slots);
    }
    constexpr void grow() { rehash(2 * ids_.size()); }
    constexpr void rehash(std::size_t slots) {
        scratch<int> old_ids(static_cast<scratch<int>&&>(ids_));
        scratch<std::uint64_t> old_hashes(static_cast<scratch<std::uint64_t>&&>(hashes_));
        allocate(slots);
        const std::size_t mask = ids_.size() - 1;
        int* ids = ids_.data();
        std::uint64_t* hashes = hashes_.data();
        const int* from_ids = old_ids.data();
        const std::uint64_t* from_hashes = old_hashes.data();
        for (std::size_t j = 0, n = old_ids.size(); j < n; ++j) {
            if (from_ids[j] == 0) continue;
            std::size_t i = std::size_t(from_hashes[j]) & mask;
            while (ids[i] != 0) i = (i + 1) & mask;
            ids[i] = from_ids[j];
            hashes[i] = from_hashes[j];
        }
    }

    // Slots in zero-initialised arrays (scratch.hpp: no per-slot evaluation steps when allocated).
    scratch<int> ids_;               // id + 1; 0: empty slot
    scratch<std::uint64_t> hashes_;  // hash of the entry in the same slot
    std::size_t size_ = 0;
};

}  // namespace kata::detail
