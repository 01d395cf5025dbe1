// embedded/firmware/lenet.cpp: the first kata firmware. LeNet (examples/models/lenet.hpp, batch 1) with
// the Fashion-MNIST weights of tests/fixtures/embedded/lenet_fashion.npz compiled into flash, run on the embedded
// kernels, printing its 10 logits and its memory figures. The same source builds
//   * for the Cortex-M4 board under QEMU (embedded/CMakeLists.txt, board embedded/boards/mps2-an386), and
//   * for the host (cmake/kata_embedded.cmake, board embedded/boards/host, -fno-exceptions -fno-rtti,
//     allocations counted),
// and ctest compares both outputs with the CPU executor on the same input (tests/embedded/firmware/).
//
// Nothing is allocated: the one executor of kata/exec (kata/embedded/backend.hpp) holds the activation
// arena (and the kernels' workspace) in a static object whose size is a compile-time constant of the
// graph's memory plan; the weights and the input image are constant arrays generated at build time by
// kata_weights_header (lenet_fashion_weights.hpp: not committed), bound to the graph's parameters during
// compilation.
//
// Output (one "key value" per line; the checker reads them):
//   board <name> / logit <k> <decimal> <bits> / arena_bytes, workspace_bytes, staging_bytes,
//   executor_bytes, live_activation_bound,
//   parameter_bytes, stack_used, stack_reserved, heap_allocations / reference_mismatches / done
// Exit status: 0 when every logit is within rtol 1e-5 + atol 1e-6 of the PyTorch logits stored in the same
// fixture (the firmware checks itself), 1 otherwise.
#include <cmath>
#include <cstddef>
#include <cstring>

#include <kata/embedded/backend.hpp>
#include <kata/embedded/memory_bound.hpp>

#include "../../examples/models/lenet.hpp"
#include "board.hpp"
#include "lenet_fashion_weights.hpp"
#include "report.hpp"

namespace {

using LeNet = kata::network<kata::models::lenet<1>>;
constexpr auto& table = kata_lenet::parameters;
// The one executor of kata/exec on the embedded kernels: parameters bound to `table` at compile time,
// activations in a static arena inside the executor object.
using executor_t = kata::embedded::executor<LeNet, table>;

constexpr std::int64_t live_bound = kata::embedded::live_activation_bound(LeNet::graph, executor_t::plan);
constexpr std::int64_t weight_bytes = kata::embedded::parameter_bytes(LeNet::graph);

// Issue #14's target: the planned arena within 10 % of the live-activation lower bound.
static_assert(executor_t::arena_bytes * 10 <= std::size_t(live_bound) * 11,
              "LeNet's activation arena exceeds the live-activation lower bound by more than 10 %");

// In .bss: arena + workspace + input staging, zero-initialised before main, constructed (parameters
// resolved, which the table's compile-time check has already guaranteed) by the static constructors.
executor_t run;

// The input image and PyTorch's logits: the fixture's arrays "x" and "y", which the generated header
// names kata_lenet::x and kata_lenet::y (the table entries' data pointers are const void*, which C++20
// cannot cast back during constant evaluation).
constexpr const float* input_image = kata_lenet::x;
constexpr const float* torch_logits = kata_lenet::y;
constexpr const kata::exec::constant_parameter* input_entry =
    kata::exec::constant_parameters<table>{}.find("x");
static_assert(input_entry != nullptr && kata::exec::constant_parameters<table>{}.find("y") != nullptr,
              "lenet_fashion_weights.hpp must hold the input 'x' and the reference logits 'y'");
static_assert(input_entry->shape == kata::shape_t{1, 1, 28, 28} && input_entry->count == 784);

}  // namespace

int main() {
    using namespace kata_firmware;
    char line[128];
    append_str(append_str(append_str(line, "board "), kata_board::name()), "\n");
    kata_board::write(line);

    run.execute(input_image);

    const float* y = run.output_data<0>();
    const float* reference = torch_logits;
    int mismatches = 0;
    for (int k = 0; k < 10; ++k) {
        char* p = append_str(line, "logit ");
        p = append_int(p, k);
        *p++ = ' ';
        p = append_float(p, y[k]);
        *p++ = ' ';
        p = append_bits(p, y[k]);
        append_str(p, "\n");
        kata_board::write(line);
        if (!(std::fabs(y[k] - reference[k]) <= 1e-6f + 1e-5f * std::fabs(reference[k]))) ++mismatches;
    }
    report("arena_bytes", executor_t::arena_bytes);
    report("workspace_bytes", executor_t::workspace_bytes);
    report("staging_bytes", executor_t::staging_bytes);
    report("executor_bytes", sizeof(executor_t));
    report("live_activation_bound", live_bound);
    report("parameter_bytes", weight_bytes);
    report("stack_used", kata_board::stack_used());
    report("stack_reserved", kata_board::stack_reserved());
    report("heap_allocations", kata_board::heap_allocations());
    report("reference_mismatches", mismatches);
    kata_board::write("done\n");
    return mismatches == 0 ? 0 : 1;
}
