// embedded/firmware/all_ops.cpp: runs embedded/firmware/all_ops_net.hpp (every function op kind but Sink)
// on the embedded kernels and prints every output element's bits, so that ctest can compare the
// Cortex-M4's results (QEMU) and the host build's with kata's CPU executor
// (tests/embedded/firmware/check_all_ops.cpp). Parameters and inputs are generated (integer arithmetic,
// identical on both sides) into static buffers: this firmware tests kernels, not weight storage.
// Output: "board <name>", "out <k> <i> <bits>" per element, "heap_allocations <n>", "done".
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>

#include "all_ops_net.hpp"
#include "board.hpp"
#include "report.hpp"
#include "temporary_runner.hpp"

namespace {

using Net = kata_all_ops::Net;
// TEMPORARY driver (see temporary_runner.hpp).
using runner_t = kata::embedded::temporary_runner<Net>;
constexpr auto& graph = Net::graph;

constexpr std::size_t leaf_floats = [] {
    std::size_t n = 0;
    for (const auto& nd : graph.nodes)
        if (kata::is_leaf(nd.op)) n += std::size_t(nd.shape.numel());
    return n;
}();

alignas(runner_t::alignment) std::byte storage[runner_t::storage_bytes];
alignas(8) float leaves[leaf_floats];  // parameters and graph inputs (the int32 indices share the space)

template <std::size_t... K>
void print_outputs(const runner_t& run, std::index_sequence<K...>) {
    auto one = [](int k, const float* y, std::int64_t n) {
        char line[64];
        for (std::int64_t i = 0; i < n; ++i) {
            char* p = kata_firmware::append_str(line, "out ");
            p = kata_firmware::append_int(p, k);
            *p++ = ' ';
            p = kata_firmware::append_int(p, i);
            *p++ = ' ';
            p = kata_firmware::append_bits(p, y[i]);
            kata_firmware::append_str(p, "\n");
            kata_board::write(line);
        }
    };
    (one(int(K), run.template output<K>(), graph.nodes[graph.outputs[K]].shape.numel()), ...);
}

}  // namespace

int main() {
    char line[96];
    using kata_firmware::append_str;
    append_str(append_str(append_str(line, "board "), kata_board::name()), "\n");
    kata_board::write(line);
    runner_t run(storage);
    std::size_t at = 0;
    for (std::size_t id = 0; id < graph.size(); ++id) {
        const kata::node& nd = graph.nodes[id];
        if (!kata::is_leaf(nd.op)) continue;
        float* dst = leaves + at;
        const std::size_t n = std::size_t(nd.shape.numel());
        if (nd.type == kata::dtype::i32)
            kata_all_ops::fill_indices(reinterpret_cast<std::int32_t*>(dst), n);
        else
            kata_all_ops::fill(int(id), nd.name.view(), dst, n);
        run.bind(int(id), dst);
        at += n;
    }
    run.run();
    print_outputs(run, std::make_index_sequence<graph.num_outputs()>{});
    kata_firmware::report("heap_allocations", kata_board::heap_allocations());
    kata_board::write("done\n");
    return 0;
}
