// embedded/firmware/temporary_runner.hpp
//
// TEMPORARY: a deliberately minimal driver of the embedded kernels, until the one executor of
// kata/exec (issue #10) is merged; then the firmware and the tests use
//     kata::exec::executor<Net, embedded back end, static arena, constant parameters>
// and this file is deleted. It is NOT a second executor to grow: no fusion, no checks beyond the
// compile-time ones, no parameter store. What it does:
//   * the activation plan of kata/cpu/memory_plan.hpp (aliases, in-place ops, best-fit offsets): a
//     compile-time arena size; the caller provides the storage (a static buffer on the device);
//   * one call of kata::embedded::kernel<op>::run<I> per function node in nnabla's order, with the
//     node's op_instance as the template argument;
//   * parameters: pointers set by the caller (bind()), or bound at compile time from a constant
//     parameter table (bind_constants<Table>(): missing names and wrong shapes do not compile).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>

#include <kata/core/graph.hpp>
#include <kata/exec/memory_plan.hpp>
#include <kata/embedded/constant_parameters.hpp>
#include <kata/embedded/kernels.hpp>

namespace kata::embedded {

template <graph_type Net>
class temporary_runner {
public:
    static constexpr const auto& graph = Net::graph;
    static constexpr std::size_t num_nodes = graph.size();
    static constexpr auto plan = exec::detail::make_memory_plan(graph);
    static constexpr std::size_t alignment = exec::arena_alignment;

private:
    static constexpr auto order_seq = std::make_index_sequence<std::size_t(graph.num_order)>{};

    template <int Id>
    static constexpr bool skipped() {  // no kernel call: aliases of their input, Sink
        return plan.aliased[Id] || graph.nodes[Id].op == op_kind::sink;
    }
    template <int Id>
    static constexpr std::size_t node_workspace() {
        if constexpr (skipped<Id>())
            return 0;
        else
            return kernel<graph.nodes[Id].op>::template workspace_bytes<exec::instance_of<graph>(Id)>();
    }
    template <std::size_t... T>
    static constexpr std::size_t max_workspace(std::index_sequence<T...>) {
        std::size_t m = 0;
        ((m = m < node_workspace<graph.order[T]>() ? node_workspace<graph.order[T]>() : m), ...);
        return m;
    }

public:
    static constexpr std::size_t arena_bytes = std::size_t(plan.arena_bytes);
    static constexpr std::size_t workspace_bytes =
        std::size_t(exec::detail::align_up(std::int64_t(max_workspace(order_seq)), std::int64_t(alignment)));
    // Bytes of storage the caller provides (alignment-aligned): arena, then workspace.
    static constexpr std::size_t storage_bytes = arena_bytes + workspace_bytes;

    explicit temporary_runner(std::byte* storage) : storage_(storage) {}

    // Node `id` (a parameter or an input) reads its values from `data` (never written).
    void bind(int id, const void* data) { leaf_[std::size_t(id)] = data; }

    // Binds every parameter the graph reads to the array of the same name in Table (a constexpr array
    // of constant_parameter): resolved during compilation.
    template <auto const& Table>
    void bind_constants() {
        bind_constants_impl<Table>(std::make_index_sequence<num_nodes>{});
    }

    // Runs the graph once (inputs and parameters bound).
    void run() { run_nodes(order_seq); }

    // Output K of the last run (plan storage, valid until the next run).
    template <std::size_t K = 0>
    const float* output() const {
        return static_cast<const float*>(const_cast<temporary_runner*>(this)->ptr<graph.outputs[K]>());
    }

private:
    template <auto const& Table, std::size_t... I>
    void bind_constants_impl(std::index_sequence<I...>) {
        (bind_constant<Table, int(I)>(), ...);
    }
    template <auto const& Table, int Id>
    void bind_constant() {
        constexpr node n = graph.nodes[Id];
        if constexpr (n.op == op_kind::parameter) {
            constexpr int k = find_constant<Table>(n.name.view());
            static_assert(missing_constant_parameter<(k < 0 ? n.name : name_string{})>::ok);
            if constexpr (k >= 0) {
                constexpr bool same = Table[k].type == n.type && Table[k].shape == n.shape;
                static_assert(constant_parameter_mismatch<(same ? name_string{} : n.name)>::ok);
                leaf_[std::size_t(Id)] = Table[k].data;
            }
        }
    }

    // Storage of node Id's output (or the bound leaf it aliases).
    template <int Id>
    void* ptr() {
        constexpr int r = plan.root[Id];
        if constexpr (is_leaf(graph.nodes[r].op))
            return const_cast<void*>(leaf_[std::size_t(r)]);
        else
            return storage_ + plan.offset[r];
    }

    template <std::size_t... T>
    void run_nodes(std::index_sequence<T...>) {
        (run_node<graph.order[T]>(), ...);
    }
    template <int Id>
    void run_node() {
        if constexpr (!skipped<Id>()) {
            constexpr node n = graph.nodes[Id];
            void* ins[n.num_inputs > 0 ? n.num_inputs : 1];
            gather<Id>(ins, std::make_index_sequence<std::size_t(n.num_inputs)>{});
            kernel<n.op>::template run<exec::instance_of<graph>(Id)>(
                kernel_io{ins, ptr<Id>(), storage_ + arena_bytes});
        }
    }
    template <int Id, std::size_t... K>
    void gather(void** ins, std::index_sequence<K...>) {
        ((ins[K] = ptr<graph.input_of(Id, int(K))>()), ...);
    }

    std::byte* storage_;
    std::array<const void*, num_nodes> leaf_{};
};

}  // namespace kata::embedded
