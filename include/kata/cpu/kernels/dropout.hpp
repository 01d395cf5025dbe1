// kata/cpu/kernels/dropout.hpp
//
// Dropout and DropoutGrad (kata/ops/loss.hpp): y = x mask / (1 - p), dx = dy mask / (1 - p).
//
// Where the mask comes from, and why: a kernel has no state of its own (the executor plans every buffer
// at compile time, and a step allocates nothing), so the mask is not stored: it is a pure function of
// (stream key, the executor's call number, element index) -- a counter-based generator (splitmix64
// finalisers). The forward draws a fresh mask at every call (the call number advances), and DropoutGrad,
// which records the forward node's id, recomputes exactly the same mask in the same call: the same mask
// as the forward, bit for bit, with no buffer kept between the two nodes.
//   stream key  seed >= 0: the seed alone, so two Dropouts with one seed draw the same masks (like two
//               nnabla Dropouts, each with its own generator seeded alike); seed = -1: kata's default seed
//               mixed with the forward node's id (each Dropout its own stream; deterministic from run to
//               run, where nnabla draws from its global generator)
//   keep        u >= p with u uniform in [0, 1) (53 bits): element kept with probability 1 - p
//   scale       1 / (1 - p) in float, as nnabla
// The masks are not nnabla's (its mt19937 stream), only their distribution is.
#pragma once

#include <cstdint>

#include "../kernel.hpp"

namespace kata::cpu {

namespace detail {

constexpr std::uint64_t splitmix64(std::uint64_t z) {
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

inline constexpr std::uint64_t dropout_default_seed = 313;  // nnabla's default global seed

// The key of one call's mask of the Dropout node `node` with argument `seed`.
constexpr std::uint64_t dropout_call_key(std::int64_t seed, int node, std::uint64_t call) {
    const std::uint64_t stream =
        seed >= 0
            ? splitmix64(std::uint64_t(seed))
            : splitmix64(splitmix64(dropout_default_seed) ^ (std::uint64_t(node) * 0xD1B54A32D192ED03ull));
    return splitmix64(stream ^ splitmix64(call));
}

// Whether element i is kept under `key` (probability 1 - p).
constexpr bool dropout_keep(std::uint64_t key, std::int64_t i, double p) {
    const std::uint64_t h = splitmix64(key + std::uint64_t(i) * 0x9E3779B97F4A7C15ull);
    return double(h >> 11) * 0x1.0p-53 >= p;
}

template <op_instance I>
inline void dropout_apply(const float* in, float* out, std::uint64_t key) {
    constexpr std::int64_t n = I.out.numel();
    constexpr double p = I.attr.p;
    constexpr float scale = float(1.0 / (1.0 - p));
    for (std::int64_t i = 0; i < n; ++i) out[i] = dropout_keep(key, i, p) ? in[i] * scale : 0.0f;
}

}  // namespace detail

template <>
struct kernel<op_kind::dropout> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        detail::dropout_apply<I>(io.input(0), io.output(),
                                 detail::dropout_call_key(I.attr.seed, io.node, io.call));
    }
};

// Input dy; the mask of forward node attr.offset at this call.
template <>
struct kernel<op_kind::dropout_grad> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return 0;
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        detail::dropout_apply<I>(io.input(0), io.output(),
                                 detail::dropout_call_key(I.attr.seed, int(I.attr.offset), io.call));
    }
};

}  // namespace kata::cpu
