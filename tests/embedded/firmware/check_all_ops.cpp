// check_all_ops: checks the output of embedded/firmware/all_ops.cpp (every function op kind but Sink, run
// on the embedded kernels under QEMU or as the host build) against kata's CPU executor on the same
// generated inputs and parameters (embedded/firmware/all_ops_net.hpp).
//
//     check_all_ops <firmware output file>
//
// Every output element must be within rtol 1e-5 + atol 1e-6 of the CPU executor's (different summation
// orders; newlib's and glibc's expf/tanhf may differ by an ulp), the firmware must report
// heap_allocations 0 (or -1: not counted) and "done". Exit status 0 when everything holds.
#include <kata/cpu.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "../../../embedded/firmware/all_ops_net.hpp"

int main(int argc, char** argv) {
    constexpr double rtol = 1e-5, atol = 1e-6;
    using Net = kata_all_ops::Net;
    constexpr auto& graph = Net::graph;
    if (argc != 2) {
        std::fprintf(stderr, "usage: check_all_ops <firmware output>\n");
        return 1;
    }
    // Same inputs and parameters as the firmware.
    kata::parameter_store store;
    xt::xarray<float> x;
    xt::xarray<std::int32_t> idx;
    for (std::size_t id = 0; id < graph.size(); ++id) {
        const kata::node& nd = graph.nodes[id];
        if (!kata::is_leaf(nd.op)) continue;
        std::vector<std::size_t> shape;
        for (int d = 0; d < nd.shape.rank; ++d) shape.push_back(std::size_t(nd.shape.dims[d]));
        if (nd.type == kata::dtype::i32) {
            idx = xt::zeros<std::int32_t>(shape);
            kata_all_ops::fill_indices(idx.data(), idx.size());
            continue;
        }
        xt::xarray<float> a = xt::zeros<float>(shape);
        kata_all_ops::fill(int(id), nd.name.view(), a.data(), a.size());
        if (nd.op == kata::op_kind::input)
            x = a;
        else
            store.create_or_replace(nd.name.view(), shape, kata::initializer::from_array(a));
    }
    kata::cpu::executor<Net> run(store);
    run(x, idx);
    std::vector<std::vector<float>> expected;
    [&]<std::size_t... K>(std::index_sequence<K...>) {
        (expected.emplace_back(run.template output<K>().begin(), run.template output<K>().end()), ...);
    }
    (std::make_index_sequence<graph.num_outputs()>{});

    std::ifstream in(argv[1]);
    std::vector<std::vector<bool>> seen;
    for (const auto& e : expected) seen.emplace_back(e.size(), false);
    int failures = 0;
    long heap = -2;
    bool done = false;
    double worst = 0;
    for (std::string line; std::getline(in, line);) {
        std::istringstream ls(line);
        std::string key;
        ls >> key;
        if (key == "out") {
            std::size_t k, i;
            std::string bits;
            ls >> k >> i >> bits;
            if (k >= expected.size() || i >= expected[k].size()) continue;
            const std::uint32_t b = std::uint32_t(std::stoul(bits, nullptr, 16));
            float f;
            std::memcpy(&f, &b, sizeof f);
            const double c = expected[k][i];
            seen[k][i] = true;
            worst = std::max(worst, std::fabs(f - c) / std::max(std::fabs(c), 1e-30));
            if (!(std::fabs(f - c) <= atol + rtol * std::fabs(c))) {
                if (failures++ < 10)
                    std::fprintf(stderr, "output %zu[%zu]: firmware %.9g, CPU executor %.9g\n", k, i, f, c);
            }
        } else if (key == "heap_allocations") {
            ls >> heap;
        } else if (key == "done") {
            done = true;
        }
    }
    std::size_t count = 0;
    for (const auto& s : seen)
        for (bool b : s) count += b;
    std::size_t total = 0;
    for (const auto& e : expected) total += e.size();
    if (count != total) {
        std::fprintf(stderr, "check_all_ops: %zu of %zu output elements printed\n", count, total);
        ++failures;
    }
    if (heap != 0 && heap != -1) {
        std::fprintf(stderr, "check_all_ops: heap_allocations %ld\n", heap);
        ++failures;
    }
    if (!done) {
        std::fprintf(stderr, "check_all_ops: no 'done'\n");
        ++failures;
    }
    std::printf(
        "check_all_ops: %zu output elements, max relative difference vs the CPU executor %.3g; %d failures\n",
        total, worst, failures);
    return failures ? 1 : 0;
}
