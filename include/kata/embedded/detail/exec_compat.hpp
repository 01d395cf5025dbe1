// kata/embedded/detail/exec_compat.hpp
//
// TEMPORARY shim: the embedded kernels are written against the kernel contract of the execution
// layer (kata::exec::op_instance, kata::exec::kernel_io with typed input<T>()/output<T>(), see
// docs/embedded.md). Until kata/exec/ is merged, op_instance lives in kata::cpu and kata::cpu's
// kernel_io is float-only, so this header provides the contract's names in kata::exec:
//   * with kata/exec/ present: includes its headers and adds nothing;
//   * without it: kata::exec::op_instance/make_instance/instance_of/max_kernel_inputs are the
//     kata::cpu ones, and kata::exec::kernel_io is defined here exactly as the contract states.
// After the merge, delete this file and include <kata/exec/op_instance.hpp> and
// <kata/exec/kernel_io.hpp> from kata/embedded/kernel.hpp instead: no kernel changes.
#pragma once

#if __has_include(<kata/exec/kernel_io.hpp>) && __has_include(<kata/exec/op_instance.hpp>)
#include "../../exec/kernel_io.hpp"
#include "../../exec/op_instance.hpp"
#else
#include <cstddef>

#include "../../cpu/kernel.hpp"

namespace kata::exec {

using cpu::instance_of;
using cpu::make_instance;
using cpu::max_kernel_inputs;
using cpu::op_instance;

// Pointers for one kernel call (the contract of the execution layer): typed buffers instead of
// float**, so an int32 index input (Embed) needs no reinterpret_cast.
struct kernel_io {
    void* const* in;       // nin pointers, node input order
    void* out;             // may alias input 0 for in-place element-wise ops
    std::byte* workspace;  // workspace_bytes<I>() bytes, 64-byte aligned

    template <class T = float>
    T* input(int k) const {
        return static_cast<T*>(in[k]);
    }
    template <class T = float>
    T* output() const {
        return static_cast<T*>(out);
    }
};

}  // namespace kata::exec
#endif
