// tests/support/embedded_check.hpp: runs a graph type on the embedded kernels (kata/embedded/backend.hpp:
// the one executor of kata/exec with the embedded back end) and on the CPU executor, and compares both
// with a fixture's expected outputs.
//
//   kata::test::check_embedded<Net>(fx, {"W", "b"}, {"y"}, rtol, atol, "prefix_")
//     inputs:  the graph's input nodes in creation order, read from fx[prefix + input name];
//     params:  fx[name] for each listed parameter name;
//     outputs: output k of the graph is compared with fx[outputs[k]] (the independent reference:
//              PyTorch or a closed form, tools/fixtures/make_op_fixtures.py) and with the CPU
//              executor's output k, both within |a - b| <= atol + rtol |b|; the inputs must be unchanged.
#pragma once

#include <doctest/doctest.h>

#include <cstddef>
#include <cstdlib>
#include <initializer_list>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <xtensor/xadapt.hpp>

#include <kata/embedded/backend.hpp>
#include <kata/io/parameter_source.hpp>

#include "fixtures.hpp"

namespace kata::test {

template <class Net>
std::vector<int> input_ids() {
    std::vector<int> ids;
    for (std::size_t i = 0; i < Net::graph.size(); ++i)
        if (Net::graph.nodes[i].op == op_kind::input) ids.push_back(int(i));
    return ids;
}

inline std::vector<std::size_t> dims_of(const shape_t& s) {
    std::vector<std::size_t> d;
    for (int i = 0; i < s.rank; ++i) d.push_back(std::size_t(s.dims[i]));
    return d;
}

// The executor of Net on the embedded kernels with parameters from a parameter store (the firmware
// binds a constant table instead; tests bind fixtures). A heap arena: test graphs can be large.
template <class Net>
using embedded_store_executor =
    kata::exec::executor<Net, kata::embedded::backend, kata::exec::heap_arena, kata::store_parameters>;

// All outputs of Net run on the embedded kernels, with `inputs` (creation order) and parameters from
// `store` (bound by name).
template <class Net>
std::vector<xt::xarray<float>> run_embedded(const std::vector<xt::xarray<float>>& inputs,
                                            kata::parameter_store& store) {
    using executor_t = embedded_store_executor<Net>;
    executor_t run(store);
    REQUIRE(executor_t::num_inputs == inputs.size());
    [&]<std::size_t... I>(std::index_sequence<I...>) { run.execute(inputs[I]...); }
    (std::make_index_sequence<executor_t::num_inputs>{});
    std::vector<xt::xarray<float>> out;
    [&]<std::size_t... K>(std::index_sequence<K...>) {
        (out.push_back(xt::xarray<float>(run.template output<K>())), ...);
    }
    (std::make_index_sequence<Net::graph.num_outputs()>{});
    return out;
}

// All outputs of Net run by the CPU executor.
template <class Net>
std::vector<xt::xarray<float>> run_cpu(const std::vector<xt::xarray<float>>& inputs,
                                       kata::parameter_store& store) {
    kata::cpu::executor<Net> run(store);
    std::vector<xt::xarray<float>> out;
    [&]<std::size_t... I>(std::index_sequence<I...>) { run(inputs[I]...); }
    (std::make_index_sequence<kata::cpu::executor<Net>::num_inputs>{});
    [&]<std::size_t... K>(std::index_sequence<K...>) {
        (out.push_back(xt::xarray<float>(run.template output<K>())), ...);
    }
    (std::make_index_sequence<Net::graph.num_outputs()>{});
    return out;
}

template <class Net>
void check_embedded(const fixture& fx, std::initializer_list<const char*> params,
                    std::vector<std::string> outputs, double rtol, double atol,
                    std::string_view input_prefix = "") {
    INFO("fixture " << fx.file);
    kata::parameter_store store;
    for (const char* p : params) set_param(store, p, fx[p]);
    std::vector<xt::xarray<float>> inputs;
    for (int id : input_ids<Net>())
        inputs.push_back(fx[std::string(input_prefix) + std::string(Net::graph.nodes[id].name.view())]);
    const std::vector<xt::xarray<float>> inputs_before = inputs;
    REQUIRE(outputs.size() == Net::graph.num_outputs());
    const auto emb = run_embedded<Net>(inputs, store);
    const auto cpu = run_cpu<Net>(inputs, store);
    for (std::size_t k = 0; k < outputs.size(); ++k) {
        INFO("output " << k << " ('" << outputs[k] << "')");
        check_close(emb[k], fx[outputs[k]], rtol, atol);  // embedded vs the independent reference
        check_close(emb[k], cpu[k], rtol, atol);          // embedded vs the CPU back end
    }
    for (std::size_t k = 0; k < inputs.size(); ++k) check_equal(inputs[k], inputs_before[k]);
}

}  // namespace kata::test
