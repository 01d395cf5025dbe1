// examples/models/synthetic_weights.hpp
//
// Deterministic, well-conditioned "weights" for any kata graph, generated from each parameter's
// name. The same generator is implemented in tools/fixtures/resnet50_reference.py, so a test can
// compare a full-size network with PyTorch while committing only the outputs (a few KB instead of
// ~100 MB of weights).
//
// Element k of parameter `name`: u = top 53 bits of splitmix64(fnv1a64(name) + k) / 2^53 in [0, 1),
// mapped by role (the last path component, and for BN whether it closes a residual branch):
//   conv/affine W : He-uniform, (2u - 1) * sqrt(6 / fan_in)         (fan_in = prod(shape[1:]), affine: shape[0])
//   b             : 0.1 (u - 0.5)
//   bn gamma      : 0.5 + 0.5u   (0.1 + 0.2u in a bottleneck's conv3, keeping residual sums bounded)
//   bn beta       : 0.2 (u - 0.5);  bn mean : 0.2 (u - 0.5);  bn var : 0.5 + u
// Batch-norm statistics are therefore far from the trivial (0, 1), which hides folding bugs.
#pragma once

#include <kata/parameters.hpp>

#include <cmath>
#include <cstdint>
#include <string_view>

namespace kata::models {

constexpr std::uint64_t fnv1a64(std::string_view s) {
    std::uint64_t h = 1469598103934665603ull;
    for (char c : s) h = (h ^ std::uint64_t(static_cast<unsigned char>(c))) * 1099511628211ull;
    return h;
}

constexpr std::uint64_t splitmix64(std::uint64_t x) {
    std::uint64_t z = x + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

inline double unit(std::uint64_t seed, std::uint64_t k) {
    return double(splitmix64(seed + k) >> 11) * (1.0 / 9007199254740992.0);
}

inline bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Fills `a` (any shape) with the synthetic values of parameter `name`.
inline void synthetic_fill(std::string_view name, xt::xarray<float>& a) {
    const std::uint64_t seed = fnv1a64(name);
    const auto& s = a.shape();
    const bool is_w = ends_with(name, "/W");
    double fan_in = 1;
    if (is_w) {
        if (ends_with(name, "affine/W"))
            fan_in = double(s[0]);
        else
            for (std::size_t i = 1; i < s.size(); ++i) fan_in *= double(s[i]);
    }
    const bool closing = name.find("conv3/bn/") != std::string_view::npos;
    for (std::size_t k = 0; k < a.size(); ++k) {
        const double u = unit(seed, k);
        double v;
        if (is_w)
            v = (2 * u - 1) * std::sqrt(6.0 / fan_in);
        else if (ends_with(name, "/gamma"))
            v = closing ? 0.1 + 0.2 * u : 0.5 + 0.5 * u;
        else if (ends_with(name, "/var"))
            v = 0.5 + u;
        else if (ends_with(name, "/beta") || ends_with(name, "/mean"))
            v = 0.2 * (u - 0.5);
        else
            v = 0.1 * (u - 0.5);  // biases and anything else
        a.data()[k] = float(v);
    }
}

// Creates (or overwrites) every parameter of graph type Net with synthetic values.
template <graph_type Net>
void synthetic_parameters(parameter_store& store) {
    constexpr const auto& g = Net::graph;
    for (std::size_t i = 0; i < g.size(); ++i) {
        const node& n = g.nodes[i];
        if (n.op != op_kind::parameter) continue;
        auto& p =
            store.create_or_replace(n.name.view(), to_vector(n.shape), initializer::constant(0), n.need_grad);
        synthetic_fill(n.name.view(), p.data);
    }
}

// A synthetic input in [-1, 1) for input `name`.
inline void synthetic_input(std::string_view name, float* data, std::size_t n) {
    const std::uint64_t seed = fnv1a64(name);
    for (std::size_t k = 0; k < n; ++k) data[k] = float(2 * unit(seed, k) - 1);
}

}  // namespace kata::models
