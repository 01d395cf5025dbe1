// kata/exec/memory_plan.hpp
//
// Compile-time activation memory planning for a graph type (backend-neutral: every executor uses it).
//
// Every function output lives in one arena owned by the executor's storage. The plan is a constexpr
// function over the lifted graph:
//  * Reshape and Identity alias their input (no copy, no kernel call);
//  * an element-wise unary op whose input buffer dies at that op writes in place;
//  * the remaining buffers get offsets by greedy best-fit over their live ranges (largest first), so
//    buffers whose lifetimes do not overlap share memory.
// Graph outputs stay alive to the end. Inputs and parameters are never written (they are external).
// Because the plan is a constant, the arena size is known at compile time: exec::static_arena places
// it in a member buffer (no heap at all, kata/exec/storage.hpp).
// Fusions are graph rewrites (e.g. kata/converters/fuse_convolution_epilogue.hpp): a fused node is an
// ordinary node here, with its own buffer.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "../core/graph.hpp"

namespace kata::exec {

inline constexpr std::size_t arena_alignment = 64;

template <std::size_t N>
struct memory_plan {
    // Storage root of each node's output: itself for owned buffers, the aliased node otherwise.
    std::array<int, N> root{};
    std::array<bool, N> aliased{};         // Reshape/Identity: no kernel call, shares the root buffer
    std::array<bool, N> in_place{};        // writes into its input's buffer
    std::array<std::int64_t, N> offset{};  // byte offset in the arena (owned roots only), -1 = external
    std::array<std::int64_t, N> bytes{};
    std::int64_t arena_bytes = 0;
    std::int64_t naive_bytes = 0;  // sum of all owned buffers, for reports
};

namespace detail {

constexpr std::int64_t align_up(std::int64_t v, std::int64_t a) { return (v + a - 1) / a * a; }

template <std::size_t N, std::size_t E, std::size_t O>
constexpr memory_plan<N> make_memory_plan(const graph<N, E, O>& g) {
    memory_plan<N> p{};
    std::array<int, N> pos{};  // position in execution order, -1 for leaves and dead nodes
    for (std::size_t i = 0; i < N; ++i) {
        pos[i] = -1;
        p.root[i] = int(i);
        p.offset[i] = -1;
    }
    for (int t = 0; t < g.num_order; ++t) pos[std::size_t(g.order[t])] = t;
    // last_read[i] = last execution position of a function reading node i directly.
    std::array<int, N> last_read{};
    for (std::size_t i = 0; i < N; ++i) last_read[i] = -1;
    for (int t = 0; t < g.num_order; ++t) {
        const int f = g.order[t];
        for (int k = 0; k < g.nodes[std::size_t(f)].num_inputs; ++k)
            last_read[std::size_t(g.input_of(f, k))] = t;
    }
    const int end = g.num_order;                  // "alive until the end"
    auto member_read_after = [&](int r, int t) {  // does any member of group r get read after t?
        for (std::size_t i = 0; i < N; ++i)
            if (p.root[i] == r && pos[i] >= 0 && last_read[i] > t) return true;
        return false;
    };
    auto member_is_output = [&](int r) {
        for (std::size_t o = 0; o < O; ++o)
            if (p.root[std::size_t(g.outputs[o])] == r && pos[std::size_t(g.outputs[o])] >= 0) return true;
        return false;
    };
    // One pass in execution order: aliases join their input's group; an element-wise unary op joins
    // (writes into) its input's group when that group is an owned buffer that nobody reads later and
    // that holds no graph output.
    for (int t = 0; t < g.num_order; ++t) {
        const int f = g.order[t];
        const node& n = g.nodes[std::size_t(f)];
        if ((n.op == op_kind::reshape || n.op == op_kind::identity) && n.num_inputs == 1) {
            p.aliased[std::size_t(f)] = true;
            p.root[std::size_t(f)] = p.root[std::size_t(g.input_of(f, 0))];
        } else if (is_elementwise_unary(n.op) && n.num_inputs == 1) {
            const int r = p.root[std::size_t(g.input_of(f, 0))];
            if (!is_leaf(g.nodes[std::size_t(r)].op) && !member_read_after(r, t) && !member_is_output(r)) {
                p.in_place[std::size_t(f)] = true;
                p.root[std::size_t(f)] = r;
            }
        }
    }
    // Live range of each group: from its root's position to the last read of any member.
    std::array<int, N> first{}, last{};
    for (std::size_t i = 0; i < N; ++i) {
        first[i] = end + 1;
        last[i] = -1;
    }
    for (std::size_t i = 0; i < N; ++i) {
        if (pos[i] < 0) continue;
        const std::size_t r = std::size_t(p.root[i]);
        if (first[r] > pos[i]) first[r] = pos[i];
        if (last[r] < pos[i]) last[r] = pos[i];
        if (last[r] < last_read[i]) last[r] = last_read[i];
    }
    for (std::size_t o = 0; o < O; ++o) last[std::size_t(p.root[std::size_t(g.outputs[o])])] = end;

    // Owned roots: function nodes that are their own root (not aliases of leaves), not Sink.
    std::array<int, N> roots{};
    int nroots = 0;
    for (int t = 0; t < g.num_order; ++t) {
        const int f = g.order[t];
        const node& n = g.nodes[std::size_t(f)];
        if (p.root[std::size_t(f)] != f || n.op == op_kind::sink) continue;
        p.bytes[std::size_t(f)] = align_up(n.shape.numel() * dtype_size(n.type), arena_alignment);
        p.naive_bytes += p.bytes[std::size_t(f)];
        roots[std::size_t(nroots++)] = f;
    }
    // Largest first (stable insertion sort: deterministic plans).
    for (int i = 1; i < nroots; ++i) {
        int v = roots[std::size_t(i)];
        int j = i - 1;
        while (j >= 0 && p.bytes[std::size_t(roots[std::size_t(j)])] < p.bytes[std::size_t(v)]) {
            roots[std::size_t(j + 1)] = roots[std::size_t(j)];
            --j;
        }
        roots[std::size_t(j + 1)] = v;
    }
    // Best fit: for each buffer, the lowest offset that does not collide with any placed buffer
    // whose live range overlaps. Candidate offsets are 0 and the ends of overlapping buffers.
    std::array<int, N> placed{};
    int nplaced = 0;
    for (int i = 0; i < nroots; ++i) {
        const int f = roots[std::size_t(i)];
        const std::int64_t sz = p.bytes[std::size_t(f)];
        auto overlaps_time = [&](int o) {
            return !(last[std::size_t(o)] < first[std::size_t(f)] ||
                     last[std::size_t(f)] < first[std::size_t(o)]);
        };
        auto fits = [&](std::int64_t off) {
            for (int j = 0; j < nplaced; ++j) {
                int o = placed[std::size_t(j)];
                if (!overlaps_time(o)) continue;
                std::int64_t a = p.offset[std::size_t(o)], b = a + p.bytes[std::size_t(o)];
                if (off < b && a < off + sz) return false;
            }
            return true;
        };
        std::int64_t best = -1;
        if (fits(0)) best = 0;
        for (int j = 0; j < nplaced; ++j) {
            int o = placed[std::size_t(j)];
            if (!overlaps_time(o)) continue;
            std::int64_t cand = p.offset[std::size_t(o)] + p.bytes[std::size_t(o)];
            if ((best < 0 || cand < best) && fits(cand)) best = cand;
        }
        p.offset[std::size_t(f)] = best;
        placed[std::size_t(nplaced++)] = f;
        if (best + sz > p.arena_bytes) p.arena_bytes = best + sz;
    }
    return p;
}

}  // namespace detail

template <graph_type Net>
inline constexpr auto memory_plan_of = detail::make_memory_plan(Net::graph);

}  // namespace kata::exec
