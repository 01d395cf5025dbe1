// kata/cpu/kernel.hpp
//
// The CPU backend's kernels: `kata::cpu::kernel<op_kind K>`, one specialisation per op kind in
// kata/cpu/kernels/*.hpp, following the backend-neutral kernel contract of kata/exec/kernel_io.hpp:
//     template <op_instance I> static constexpr std::size_t workspace_bytes();  // scratch it needs
//     template <op_instance I> static void run(const kernel_io& io);
// (plus bind-time preparation for the convolutions that a frozen executor runs on packed weights).
// `run` must not allocate: the executor plans activations and one scratch area per graph type
// (kata/exec/memory_plan.hpp) and passes them in. Kernels may use both cores (kata/cpu/parallel.hpp).
//
// The names below keep kata::cpu::op_instance / kernel_io / instance_of, which moved to kata::exec.
#pragma once

#include <cstdint>

#include "../exec/kernel_io.hpp"
#include "../exec/memory_plan.hpp"
#include "../exec/op_instance.hpp"

namespace kata::cpu {

using exec::arena_alignment;
using exec::instance_of;
using exec::kernel_io;
using exec::make_instance;
using exec::max_kernel_inputs;
using exec::op_instance;
using exec::prepare_io;

// Specialised per op kind in kata/cpu/kernels/*.hpp.
template <op_kind K>
struct kernel;

namespace detail {
// A tensor seen as (outer, C, inner) around `axis`: the geometry of every per-axis kernel (Softmax,
// LogSoftmax, the cross-entropies, TopNError, their gradients, BatchNormalization's gradients).
struct axis_view {
    std::int64_t outer = 1, C = 1, inner = 1;
};
constexpr axis_view make_axis_view(const shape_t& s, int axis) {
    return {s.prod(0, axis), s.dims[axis], s.prod_from(axis + 1)};
}
}  // namespace detail

}  // namespace kata::cpu
