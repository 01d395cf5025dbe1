// kata/cpu/kernel.hpp
//
// The contract between the CPU executor and the per-op kernels.
//
// The executor walks a graph type's functions in nnabla order and, for each node, calls
//     kernel<I.op>::template run<I>(io)
// where I is an `op_instance`: the node's op, attributes, output shape and the shapes/layouts of its
// inputs, all as one structural value. Everything a kernel needs to specialise itself (loop bounds,
// GEMM sizes, padding) is therefore a compile-time constant, and two layers with equal shapes and
// arguments share one instantiation (names are not part of op_instance).
//
// A kernel specialisation provides:
//     template <op_instance I> static constexpr std::size_t workspace_bytes();  // scratch it needs
//     template <op_instance I> static void run(const kernel_io& io);
// `run` must not allocate: the executor plans activations and one scratch area per graph type
// (kata/cpu/memory_plan.hpp) and passes them in. Kernels may use both cores (kata/cpu/parallel.hpp).
#pragma once

#include <cstddef>

#include "../core/graph.hpp"

namespace kata::cpu {

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

// Pointers for one kernel call. Inputs are mutable only so that BatchNormalization in batch_stat mode
// can update its running statistics (nnabla semantics); kernels must not write other inputs.
struct kernel_io {
    float* const* in;    // nin pointers, in the node's input order
    float* out;          // output buffer (may alias in[0] for in-place element-wise ops)
    std::byte* workspace;  // workspace_bytes<I>() bytes, 64-byte aligned
};

// Specialised per op kind in kata/cpu/kernels/*.hpp.
template <op_kind K>
struct kernel;

}  // namespace kata::cpu
