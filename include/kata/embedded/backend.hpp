// kata/embedded/backend.hpp
//
// The embedded back end as a Backend of the one executor (kata/exec/executor.hpp), and the executor a
// firmware uses:
//
//     kata::embedded::executor<Net, Table>
//         = kata::exec::executor<Net, kata::embedded::backend, kata::exec::static_arena,
//                                kata::exec::constant_parameters<Table>>
//
// Table is a constexpr array of kata::exec::constant_parameter (the header kata_weights_header writes,
// kata/embedded/host/weights_header.hpp), so every parameter is bound to its array in flash and checked
// (name, dtype, shape) during compilation (the binary holds the bound handles, not the graph); the
// activation arena and the kernels' workspace are members of the executor object (exec::static_arena;
// no input staging: inputs are read where the caller keeps them): put the executor in static storage
// and the program needs no heap at all. Why no separate embedded executor: the schedule, the memory
// plan, the binding checks and the input handling are the same on every back end; only the kernels
// differ (kata/embedded/kernel.hpp: portable float32 loops, no BLAS, threads, heap or exceptions).
//
// Freestanding: this header and everything it includes compile with -fno-exceptions -fno-rtti against
// newlib (arm-none-eabi), without xtensor; binding failures that cannot be caught at compile time trap
// (kata/exec/binding.hpp).
#pragma once

#include <string_view>

#include "../exec/constant_parameters.hpp"
#include "../exec/executor.hpp"
#include "../exec/storage.hpp"
#include "kernels.hpp"

namespace kata::embedded {

struct backend {
    template <op_kind K>
    using kernel = embedded::kernel<K>;

    static constexpr std::string_view executor_name = "kata::embedded::executor";

    // Inputs are read where the caller keeps them (pointers, arrays, contiguous containers): no staging
    // copy in the executor's storage (RAM), a strided input is reported instead (kata/exec/binding.hpp).
    static constexpr bool stages_inputs = false;
};

// A graph with its parameters compiled in (Table: constexpr array of exec::constant_parameter), run on
// the embedded kernels from a static arena.
template <graph_type Net, auto const& Table>
using executor = exec::executor<Net, backend, exec::static_arena, exec::constant_parameters<Table>>;

}  // namespace kata::embedded
