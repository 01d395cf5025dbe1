// kata/exec/op_instance.hpp
//
// The compile-time description of one node as a kernel sees it.
//
// An executor walks a graph type's functions in nnabla order and, for each node, calls
//     Backend::kernel<I.op>::template run<I>(io)
// where I is an `op_instance`: the node's op, attributes, output buffer and the buffers of its
// inputs, all as one structural value. Everything a kernel needs to specialise itself (loop bounds,
// GEMM sizes, padding) is therefore a compile-time constant, and two layers with equal shapes and
// arguments share one instantiation (names are not part of op_instance).
//
// `in_frozen[k]`: input k is a parameter whose values the executor reads once, at bind time (a frozen
// executor). A kernel that declares `bind_time_preparation` (kata/exec/kernel_io.hpp) may then prepare
// that input once (pack weights, later upload them to a device) and choose its fast path at compile
// time from this flag. The executor sets it only for such kernels, so the other kernels' instantiations
// do not depend on the executor's mode.
//
// Backend-neutral: no xtensor, no exceptions, no heap.
#pragma once

#include <cstddef>

#include "../core/graph.hpp"
#include "buffer.hpp"

namespace kata::exec {

inline constexpr int max_kernel_inputs = 16;

struct op_instance {
    op_kind op = op_kind::identity;
    attributes attr{};
    shape_t out{};
    layout out_layout = layout::none;
    dtype type = dtype::f32;
    int nin = 0;
    shape_t in[max_kernel_inputs]{};
    layout in_layout[max_kernel_inputs]{};
    dtype in_type[max_kernel_inputs]{};
    bool in_frozen[max_kernel_inputs]{};

    constexpr buffer_desc output_desc() const { return {type, out, out_layout}; }
    constexpr buffer_desc input_desc(int k) const { return {in_type[k], in[k], in_layout[k]}; }
    constexpr bool operator==(const op_instance&) const = default;
};

// The op_instance of node `id` of graph G (usable inside constexpr functions over a graph value).
template <std::size_t N, std::size_t E, std::size_t O>
constexpr op_instance make_instance(const graph<N, E, O>& G, int id) {
    const node& n = G.nodes[std::size_t(id)];
    op_instance I;
    I.op = n.op;
    I.attr = n.attr;
    I.out = n.shape;
    I.out_layout = n.lay;
    I.type = n.type;
    I.nin = n.num_inputs;
    for (int k = 0; k < n.num_inputs && k < max_kernel_inputs; ++k) {
        const node& in = G.input_node(id, k);
        I.in[k] = in.shape;
        I.in_layout[k] = in.lay;
        I.in_type[k] = in.type;
    }
    return I;
}

template <auto const& G>
constexpr op_instance instance_of(int id) {
    return make_instance(G, id);
}

}  // namespace kata::exec
