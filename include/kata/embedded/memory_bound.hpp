// kata/embedded/memory_bound.hpp
//
// Compile-time memory figures of a graph type for size reports (issue #14: "the arena beside the sum of
// the weights and the largest set of simultaneously live activations"):
//
//   live_activation_bound(graph, plan)  the largest total size, over the steps of the execution order,
//       of the activation buffers alive at that step (a function's output is alive from the step that
//       writes it to the last step that reads it; graph outputs to the end). Buffers are the memory
//       plan's groups (Reshape/Identity aliases and in-place element-wise ops share their input's
//       buffer), sizes unpadded. Any runtime that runs this order with these aliases needs at least
//       this much activation memory; the plan's arena (kata/cpu/memory_plan.hpp: best-fit offsets,
//       64-byte aligned buffers) can be compared with it.
//   parameter_bytes(graph)  the sum of the sizes of the parameters the graph reads (the weights).
// Graph inputs are external (the caller's buffers) and count in neither.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "../core/graph.hpp"
#include "../exec/memory_plan.hpp"

namespace kata::embedded {

template <std::size_t N, std::size_t E, std::size_t O>
constexpr std::int64_t live_activation_bound(const graph<N, E, O>& g, const exec::memory_plan<N>& p) {
    std::array<int, N> first{}, last{};
    for (std::size_t i = 0; i < N; ++i) {
        first[i] = g.num_order;
        last[i] = -1;
    }
    for (int t = 0; t < g.num_order; ++t) {
        const int f = g.order[t];
        const std::size_t r = std::size_t(p.root[std::size_t(f)]);
        if (first[r] > t) first[r] = t;
        if (last[r] < t) last[r] = t;
        for (int k = 0; k < g.nodes[std::size_t(f)].num_inputs; ++k) {
            const std::size_t s = std::size_t(p.root[std::size_t(g.input_of(f, k))]);
            if (last[s] < t) last[s] = t;
        }
    }
    for (std::size_t o = 0; o < O; ++o)
        last[std::size_t(p.root[std::size_t(g.outputs[o])])] = g.num_order - 1;
    std::int64_t best = 0;
    for (int t = 0; t < g.num_order; ++t) {
        std::int64_t live = 0;
        for (std::size_t i = 0; i < N; ++i) {
            const node& n = g.nodes[i];
            if (p.root[i] != int(i) || !is_function(n.op) || n.op == op_kind::sink) continue;
            if (first[i] <= t && t <= last[i]) live += n.shape.numel() * dtype_size(n.type);
        }
        if (live > best) best = live;
    }
    return best;
}

template <std::size_t N, std::size_t E, std::size_t O>
constexpr std::int64_t parameter_bytes(const graph<N, E, O>& g) {
    std::int64_t total = 0;
    for (std::size_t i = 0; i < N; ++i) {
        const node& n = g.nodes[i];
        if (n.op != op_kind::parameter) continue;
        bool read = false;
        for (int t = 0; t < g.num_order && !read; ++t) {
            const int f = g.order[t];
            for (int k = 0; k < g.nodes[std::size_t(f)].num_inputs; ++k)
                read = read || g.input_of(f, k) == int(i);
        }
        if (read) total += n.shape.numel() * dtype_size(n.type);
    }
    return total;
}

}  // namespace kata::embedded
