// kata/data/random_state.hpp: kata::data::RandomState, the random source of DataIterator's shuffling.
//
// Why its own class: nnabla shuffles with numpy.random.RandomState(seed).permutation(n) (default seed
// 313). Reproducing that exactly lets a C++ run and a Python run of the same recipe see the same data
// order, and it is deterministic across compilers and standard libraries (std::shuffle and
// std::uniform_int_distribution are not specified bit for bit). numpy's legacy RandomState is MT19937
// seeded by init_genrand(seed), which is std::mt19937(seed); permutation(n) is a Fisher-Yates shuffle of
// arange(n) from the last element down, drawing each index in [0, i] by masked rejection sampling on
// 32-bit outputs ("random_interval"). tests/data/data_iterator.cpp checks the result against numpy
// (fixture tests/fixtures/data/permutations.npz written by tools/fixtures/make_data_fixtures.py).
#pragma once

#include <cstddef>
#include <cstdint>
#include <numeric>
#include <random>
#include <span>
#include <utility>
#include <vector>

namespace kata::data {

class RandomState {
public:
    /// nnabla's DataIterator and data sources default to numpy.random.RandomState(313).
    static constexpr std::uint32_t default_seed = 313;

    explicit RandomState(std::uint32_t seed = default_seed) : seed_(seed), engine_(seed) {}

    std::uint32_t seed() const { return seed_; }

    /// numpy's random_interval(max): uniform in [0, max].
    std::uint64_t interval(std::uint64_t max) {
        if (max == 0) return 0;
        std::uint64_t mask = max;
        for (int shift = 1; shift <= 32; shift *= 2) mask |= mask >> shift;
        std::uint64_t value;
        if (max <= 0xffffffffULL) {
            do value = next_uint32() & mask;
            while (value > max);
        } else {
            do value = ((std::uint64_t{next_uint32()} << 32) | next_uint32()) & mask;
            while (value > max);
        }
        return value;
    }

    /// numpy's RandomState.shuffle on a 1-D array.
    template <class T>
    void shuffle(std::span<T> values) {
        for (std::size_t i = values.size(); i-- > 1;) {
            const std::size_t j = static_cast<std::size_t>(interval(i));
            std::swap(values[i], values[j]);
        }
    }

    /// numpy's RandomState.permutation(n).
    std::vector<std::size_t> permutation(std::size_t n) {
        std::vector<std::size_t> order(n);
        permutation(std::span<std::size_t>(order));
        return order;
    }
    /// The same into an existing buffer of n entries (no allocation).
    void permutation(std::span<std::size_t> order) {
        std::iota(order.begin(), order.end(), std::size_t{0});
        shuffle(order);
    }

    std::uint32_t next_uint32() { return static_cast<std::uint32_t>(engine_()); }

private:
    std::uint32_t seed_;
    std::mt19937 engine_;
};

}  // namespace kata::data
