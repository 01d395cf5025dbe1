// kata/cpu/fusion.hpp
//
// Compile-time plan of the frozen-parameter executor (executor<Net, parameter_mode::frozen>): which
// convolutions run through the direct NHWC kernel with pre-packed weights (kernels/conv_nhwc.hpp), and
// which element-wise successors they absorb into their epilogue.
//
// A convolution is "fast" when the NHWC kernel handles it (channel-last, group 1, float32) and its
// weight (and bias, if any) are parameters, so they can be packed once at bind time.
// A fast convolution c absorbs, in this order:
//   * Add2(c, r) or Add2(r, c): when c's only consumer is that Add2, c is not a graph output, both
//     operands and the result have the same shape (no broadcasting), r is not c, and r is available
//     before c runs (a leaf, or a function earlier in the execution order). The residual r is read
//     in the epilogue: y = conv(x) + bias + r.
//   * ReLU: when the (possibly absorbed Add2's) output has ReLU as its only consumer and is not a
//     graph output: y = max(0, ...).
// Absorbed nodes run no kernel; the memory plan (memory_plan.hpp) makes them share the convolution's
// buffer, whose live range then starts at the convolution and covers the absorbed nodes' readers. The
// residual is alive during the convolution (it is read later by the Add2), so it never shares memory
// with the output.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "../core/graph.hpp"
#include "kernel.hpp"
#include "kernels/conv_nhwc.hpp"

namespace kata::cpu {

enum class parameter_mode {
    live,    // parameters are read from the store at every call (default)
    frozen,  // parameters are read (and packed) at construction and at every bind()
};

template <std::size_t N>
struct fusion_plan {
    std::array<bool, N> fast{};              // fast NHWC convolution (packed weights)
    std::array<int, N> residual{};           // residual operand node of a fast convolution, -1 if none
    std::array<bool, N> relu{};              // ReLU in the epilogue
    std::array<int, N> absorbed_by{};        // Add2/ReLU absorbed by this convolution, -1 otherwise
    std::array<std::int64_t, N> packed_offset{};  // float offset of the packed weights, -1
    std::int64_t packed_floats = 0;
    int num_fast = 0;
    int num_absorbed = 0;
};

namespace detail {

template <std::size_t N, std::size_t E, std::size_t O>
constexpr bool is_graph_output(const graph<N, E, O>& g, int id) {
    for (std::size_t o = 0; o < O; ++o)
        if (g.outputs[o] == id) return true;
    return false;
}

// The only consumer of `id` among the reachable functions, or -1 (none, several, or a graph output).
template <std::size_t N, std::size_t E, std::size_t O>
constexpr int single_consumer(const graph<N, E, O>& g, int id) {
    if (is_graph_output(g, id)) return -1;
    int found = -1, count = 0;
    for (int t = 0; t < g.num_order; ++t) {
        const int f = g.order[t];
        for (int k = 0; k < g.nodes[std::size_t(f)].num_inputs; ++k)
            if (g.input_of(f, k) == id) {
                if (found != f) ++count;
                found = f;
            }
    }
    return count == 1 ? found : -1;
}

template <std::size_t N, std::size_t E, std::size_t O>
constexpr fusion_plan<N> make_fusion_plan(const graph<N, E, O>& g, bool enable) {
    fusion_plan<N> fp{};
    for (std::size_t i = 0; i < N; ++i) {
        fp.residual[i] = -1;
        fp.absorbed_by[i] = -1;
        fp.packed_offset[i] = -1;
    }
    if (!enable) return fp;
    std::array<int, N> pos{};
    for (std::size_t i = 0; i < N; ++i) pos[i] = -1;
    for (int t = 0; t < g.num_order; ++t) pos[std::size_t(g.order[t])] = t;

    for (int t = 0; t < g.num_order; ++t) {
        const int c = g.order[t];
        const node& n = g.nodes[std::size_t(c)];
        if (n.op != op_kind::convolution) continue;
        const op_instance I = make_instance(g, c);
        if (!nhwc::eligible(I)) continue;
        if (g.input_node(c, 1).op != op_kind::parameter) continue;
        const bool bias = I.attr.has_bias && n.num_inputs >= 3;
        if (bias && g.input_node(c, 2).op != op_kind::parameter) continue;
        fp.fast[std::size_t(c)] = true;
        fp.packed_offset[std::size_t(c)] = fp.packed_floats;
        fp.packed_floats += nhwc::packed_floats(nhwc::make_params(I));
        ++fp.num_fast;

        int cur = c;
        int a = single_consumer(g, cur);
        if (a >= 0 && g.nodes[std::size_t(a)].op == op_kind::add2 && g.nodes[std::size_t(a)].num_inputs == 2) {
            const node& an = g.nodes[std::size_t(a)];
            const int u = g.input_of(a, 0), v = g.input_of(a, 1);
            const int r = u == c ? v : u;
            const node& rn = g.nodes[std::size_t(r)];
            const bool same = an.shape == n.shape && rn.shape == n.shape && an.type == dtype::f32 &&
                              rn.type == dtype::f32 && r != c && (u == c || v == c);
            const bool ready = is_leaf(rn.op) || (pos[std::size_t(r)] >= 0 && pos[std::size_t(r)] < t);
            if (same && ready) {
                fp.residual[std::size_t(c)] = r;
                fp.absorbed_by[std::size_t(a)] = c;
                ++fp.num_absorbed;
                cur = a;
            }
        }
        const int rl = single_consumer(g, cur);
        if (rl >= 0 && g.nodes[std::size_t(rl)].op == op_kind::relu && g.nodes[std::size_t(rl)].num_inputs == 1 &&
            g.nodes[std::size_t(rl)].type == dtype::f32) {
            fp.relu[std::size_t(c)] = true;
            fp.absorbed_by[std::size_t(rl)] = c;
            ++fp.num_absorbed;
        }
    }
    return fp;
}

}  // namespace detail

}  // namespace kata::cpu
