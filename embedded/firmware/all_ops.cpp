// embedded/firmware/all_ops.cpp: runs embedded/firmware/all_ops_net.hpp (every function op kind but Sink)
// on the embedded kernels (the one executor of kata/exec with the embedded back end and a static arena)
// and prints every output element's bits, so that ctest can compare the
// Cortex-M4's results (QEMU) and the host build's with kata's CPU executor
// (tests/embedded/firmware/check_all_ops.cpp). Parameters and inputs are generated (integer arithmetic,
// identical on both sides) into static buffers: this firmware tests kernels, not weight storage, so its
// parameter source is a small run-time table over those buffers (leaf_source below) instead of a
// constant table.
// Output: "board <name>", "out <k> <i> <bits>" per element, "heap_allocations <n>", "done".
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>

#include <new>
#include <string_view>

#include <kata/embedded/backend.hpp>

#include "all_ops_net.hpp"
#include "board.hpp"
#include "report.hpp"

namespace {

using Net = kata_all_ops::Net;
constexpr auto& graph = Net::graph;

constexpr std::size_t leaf_floats = [] {
    std::size_t n = 0;
    for (const auto& nd : graph.nodes)
        if (kata::is_leaf(nd.op)) n += std::size_t(nd.shape.numel());
    return n;
}();

alignas(8) float leaves[leaf_floats];  // parameters and graph inputs (the int32 indices share the space)
void* leaf_at[graph.size()];           // node id -> its values in `leaves`

// A parameter source over the generated values (kata/exec/binding.hpp's concept): a handle is the
// parameter's node, its values live at leaf_at[id].
struct leaf_source {
    using handle = const kata::node*;
    static constexpr std::string_view description = "the generated parameters";
    handle find(std::string_view name) const {
        for (const kata::node& nd : graph.nodes)
            if (nd.op == kata::op_kind::parameter && nd.name.view() == name) return &nd;
        return nullptr;
    }
    static void* data(handle h) { return leaf_at[std::size_t(h - graph.nodes.data())]; }
    static kata::exec::parameter_view view(handle h) { return {data(h), h->type, h->shape, h->shape.rank}; }
};

using executor_t = kata::exec::executor<Net, kata::embedded::backend, kata::exec::static_arena, leaf_source>;
alignas(executor_t) std::byte executor_space[sizeof(executor_t)];  // .bss; constructed in main

// Graph input K's node id (creation order, the executor's input order).
template <std::size_t K>
constexpr int input_id = [] {
    std::size_t k = 0;
    for (std::size_t i = 0; i < graph.size(); ++i)
        if (graph.nodes[i].op == kata::op_kind::input && k++ == K) return int(i);
    return -1;
}();

template <std::size_t... K>
void execute(executor_t& run, std::index_sequence<K...>) {
    run.execute(
        static_cast<const kata::exec::element_t<graph.nodes[input_id<K>].type>*>(leaf_at[input_id<K>])...);
}

template <std::size_t... K>
void print_outputs(executor_t& run, std::index_sequence<K...>) {
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
    (one(int(K), run.template output_data<K>(), graph.nodes[graph.outputs[K]].shape.numel()), ...);
}

}  // namespace

int main() {
    char line[96];
    using kata_firmware::append_str;
    append_str(append_str(append_str(line, "board "), kata_board::name()), "\n");
    kata_board::write(line);
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
        leaf_at[id] = dst;
        at += n;
    }
    executor_t& run = *new (executor_space) executor_t(leaf_source{});  // placement: no heap
    execute(run, std::make_index_sequence<executor_t::num_inputs>{});
    print_outputs(run, std::make_index_sequence<graph.num_outputs()>{});
    kata_firmware::report("heap_allocations", kata_board::heap_allocations());
    kata_board::write("done\n");
    return 0;
}
