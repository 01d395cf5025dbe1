// kata/exec/storage.hpp
//
// Where an executor keeps its bytes: the activation arena of the memory plan, the kernels' scratch,
// the prepared (packed) parameters and the staging copies of non-contiguous inputs. The executor
// computes the total at compile time and asks its storage policy for that many bytes, 64-byte aligned:
//
//     template <std::size_t Bytes> class Storage {   // default-constructible, not copyable
//         std::byte* data() noexcept;                 // Bytes bytes, arena_alignment-aligned
//     };
//
// Two policies:
//   * heap_arena<Bytes>: one aligned allocation at construction (the CPU executors' storage; a
//     ResNet-50 frozen executor needs ~110 MB, which belongs on the heap), freed at destruction;
//   * static_arena<Bytes>: a member buffer; the executor object itself holds every byte, so an
//     executor with a static arena and constant parameters (kata/exec/constant_parameters.hpp) uses
//     no heap at all. Place such an executor in static storage (or a big enough stack) -- it is as
//     large as its plan.
// Neither initialises the bytes: every buffer is written before it is read.
//
// Backend-neutral: no xtensor, no exceptions (heap_arena's operator new may throw std::bad_alloc on
// hosts that have exceptions; freestanding builds use static_arena).
#pragma once

#include <cstddef>
#include <new>

#include "memory_plan.hpp"

namespace kata::exec {

template <std::size_t Bytes>
class heap_arena {
public:
    heap_arena()
        : data_(static_cast<std::byte*>(::operator new[](size, std::align_val_t{arena_alignment}))) {}
    ~heap_arena() { ::operator delete[](data_, std::align_val_t{arena_alignment}); }
    heap_arena(const heap_arena&) = delete;
    heap_arena& operator=(const heap_arena&) = delete;

    std::byte* data() noexcept { return data_; }
    static constexpr std::size_t size = Bytes > 0 ? Bytes : 1;

private:
    std::byte* data_;
};

template <std::size_t Bytes>
class static_arena {
public:
    static_arena() = default;
    static_arena(const static_arena&) = delete;
    static_arena& operator=(const static_arena&) = delete;

    std::byte* data() noexcept { return data_; }
    static constexpr std::size_t size = Bytes > 0 ? Bytes : 1;

private:
    alignas(arena_alignment) std::byte data_[size];
};

}  // namespace kata::exec
