// kata/exec/kernel_io.hpp
//
// The contract between the executor (kata/exec/executor.hpp) and a backend's kernels.
//
// A backend is a type with a member template `kernel<op_kind K>`; each kernel specialisation provides
//     template <op_instance I> static constexpr std::size_t workspace_bytes();  // scratch it needs
//     template <op_instance I> static void run(const kernel_io& io);              // never allocates
// and, optionally, bind-time preparation of frozen inputs (packing weights for the CPU, uploading them
// to a device):
//     static constexpr bool bind_time_preparation = true;
//     template <op_instance I> static constexpr std::size_t prepared_bytes();   // 0: nothing to prepare
//     template <op_instance I> static void prepare(const prepare_io& io);        // at every bind()
// A kernel with bind_time_preparation sees `I.in_frozen[k]` set (in frozen executors) for the inputs that
// are parameters, and decides at compile time from I whether it runs a prepared path; run() then finds
// its prepared bytes at io.prepared. The backend type may also provide `static void initialize()`,
// called once per executor construction (the CPU backend makes OpenBLAS single-threaded there).
//
// Buffers are typed by the op_instance (I.in_type[k], I.type); kernel_io carries untyped pointers and
// casts them on request: io.input<float>(0), io.input<std::int32_t>(0) (Embed's indices),
// io.output<float>(). Inputs are mutable only so that BatchNormalization in batch_stat mode can update
// its running statistics (nnabla semantics); kernels must not write other inputs.
//
// `call` and `node` let a kernel draw random numbers without state of its own (Dropout,
// kata/cpu/kernels/dropout.hpp): the executor's call number (1 for the first execute(), +1 per call) and
// the node's id in the graph; a gradient node that must see the same numbers as its forward node (the
// dropout mask) records that node's id and reads the same call number.
//
// Backend-neutral: no xtensor, no exceptions, no heap.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>

#include "op_instance.hpp"

namespace kata::exec {

// Pointers for one kernel call.
struct kernel_io {
    void* const* in;              // nin pointers, in the node's input order
    void* out;                    // output buffer (may alias in[0] for in-place element-wise ops)
    std::byte* workspace;         // workspace_bytes<I>() bytes, 64-byte aligned
    const std::byte* prepared{};  // prepared_bytes<I>() bytes from prepare<I>(), 64-byte aligned (or null)
    std::uint64_t call = 0;       // the executor's call number (1, 2, ...): one random stream per call
    int node = -1;                // the node's id in the graph

    template <class T = float>
    T* input(int k) const {
        return static_cast<T*>(in[k]);
    }
    template <class T = float>
    T* output() const {
        return static_cast<T*>(out);
    }
};

// Pointers for one bind-time preparation: the node's inputs (parameters, read once; other inputs are
// null because they have no value at bind time) and the destination.
struct prepare_io {
    void* const* in;
    std::byte* prepared;  // prepared_bytes<I>() bytes, 64-byte aligned

    template <class T = float>
    const T* input(int k) const {
        return static_cast<const T*>(in[k]);
    }
};

// Whether a kernel type prepares frozen inputs at bind time.
template <class K>
concept preparing_kernel = requires {
    { K::bind_time_preparation } -> std::convertible_to<bool>;
}
&&K::bind_time_preparation;

}  // namespace kata::exec
