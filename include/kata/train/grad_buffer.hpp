// kata/train/grad_buffer.hpp
//
// Purpose: the one place where the solvers look at how a parameter's gradient buffer is represented.
//
// Why a separate header: kata::parameter (kata/io/parameter_store_core.hpp) allocates its gradient lazily
// (parameter::grad() on first use, has_grad() to ask); the solvers go through these three functions
// only, so a change of that representation touches this file, not the ten solvers.
//
// The solvers' rule (docs/solvers.md, "Which parameters a solver touches"):
//   * set_parameters() allocates a missing gradient as zeros of data's shape (allocate_grad), so that
//     a training step after it allocates nothing;
//   * update(), weight_decay(), clip_grad_by_norm(), scale_grad() and the check_*_grad() methods act
//     only on parameters whose gradient was computed (grad_computed): need_grad is true and the
//     buffer exists with data's shape. This is kata's twin of nnabla's rule "skip a parameter whose
//     gradient array is still in its lazily-zeroed state" (nnabla's Solver::update checks the
//     gradient array's zeroing flag): kata's backward never writes the gradient of a need_grad=false
//     parameter, and an unallocated buffer was never written either.
#pragma once

#include "../detail/xtensor_fix.hpp"
#include "../io/parameter_store_core.hpp"

#include <algorithm>

#include <xtensor/xbuilder.hpp>

namespace kata::train::detail {

/// Whether p's gradient buffer exists, i.e. has data's shape.
inline bool grad_allocated(const parameter& p) noexcept { return p.has_grad(); }

/// Allocates p's gradient as zeros of data's shape unless it already exists (keeps its values then).
inline void allocate_grad(parameter& p) {
    (void)p.grad();  // parameter::grad() allocates zeros of data's shape on first use
}

/// Whether a solver step acts on p: the gradient was computed (see the header comment).
inline bool grad_computed(const parameter& p) noexcept { return p.need_grad && grad_allocated(p); }

}  // namespace kata::train::detail
