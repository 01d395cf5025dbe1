// bench/resnet50_profile.cpp -- where the time of a ResNet-50 forward goes, per layer.
//
//     OPENBLAS_CORETYPE=SkylakeX build-bench/bench/resnet50_profile_b1 [passes]
//
// Built with -DKATA_CPU_PROFILE (the executor then accumulates each kernel call's time) and the same
// KATA_BENCH_BATCH / KATA_BENCH_GRAPH choices as bench/resnet50_cpu.cpp. Prints every function node
// (op, output shape, ms per pass, GFLOP/s for convolutions) and totals per op kind.
#include <kata/cpu.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "../examples/models/resnet50.hpp"
#include "../examples/models/synthetic_weights.hpp"

#ifndef KATA_BENCH_BATCH
#define KATA_BENCH_BATCH 1
#endif
#ifndef KATA_BENCH_GRAPH
#define KATA_BENCH_GRAPH 2
#endif
#ifndef KATA_BENCH_FROZEN
#define KATA_BENCH_FROZEN 1
#endif
#if KATA_BENCH_GRAPH > 0
#include <kata/converters.hpp>
#include <kata/converters/apply_conversion.hpp>
#endif

using Net = kata::network<kata::models::resnet50_net<KATA_BENCH_BATCH>>;
#if KATA_BENCH_GRAPH == 0
using Run = Net;
#elif KATA_BENCH_GRAPH == 1
using Run = kata::convert<Net, kata::BatchNormalizationFoldingModifier{}>;
#else
using Run = kata::convert<Net, kata::BatchNormalizationFoldingModifier{}, kata::ChannelLastModifier{},
                          kata::FuseConvolutionEpilogueModifier{}>;
#endif

int main(int argc, char** argv) {
    constexpr std::size_t B = KATA_BENCH_BATCH;
    const int passes = argc > 1 ? std::atoi(argv[1]) : 20;
    kata::parameter_store store;
    kata::models::synthetic_parameters<Net>(store);
#if KATA_BENCH_GRAPH > 0
    kata::apply_conversion<Run>(store);
#endif
#if KATA_BENCH_FROZEN
    kata::cpu::frozen_executor<Run> run(store);
#else
    kata::cpu::executor<Run> run(store);
#endif
    xt::xarray<float> x0 = xt::zeros<float>({B, std::size_t(3), std::size_t(224), std::size_t(224)});
    kata::models::synthetic_input("x", x0.data(), x0.size());
#if KATA_BENCH_GRAPH == 2
    xt::xarray<float> x = xt::transpose(x0, {0, 2, 3, 1});
#else
    xt::xarray<float>& x = x0;
#endif
    for (int i = 0; i < 3; ++i) run(x);
    run.profile_ns_.fill(0);
    std::vector<double> wall;
    for (int i = 0; i < passes; ++i) {
        auto t0 = std::chrono::steady_clock::now();
        run(x);
        wall.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(wall.begin(), wall.end());
    constexpr const auto& g = Run::graph;
    std::map<std::string, double> by_kind;
    double total = 0;
    for (int t = 0; t < g.num_order; ++t) {
        const int id = g.order[t];
        const auto& n = g.nodes[std::size_t(id)];
        const double ms = run.profile_ns_[std::size_t(id)] / passes / 1e6;
        if (ms <= 0) continue;
        std::string kind(kata::type_name(n.op));
        double gflops = 0;
        std::string extra;
        if (n.op == kata::op_kind::convolution || n.op == kata::op_kind::fused_convolution) {
            const auto& w = g.input_node(id, 1).shape;  // (O, C/g, k..) or (O, k.., C/g)
            double macs = double(n.shape.numel());
            for (int d = 1; d < w.rank; ++d) macs *= double(w.dims[d]);
            gflops = 2 * macs / (ms * 1e6);
            kind = "Convolution k" + std::to_string(n.attr.kernel[0]) + "s" + std::to_string(n.attr.stride[0]);
            if (n.attr.has_residual) extra += "+add";
            if (n.attr.nonlinearity == kata::nonlinearity_kind::relu) extra += "+relu";
        }
        by_kind[kind] += ms;
        total += ms;
        std::printf("%-32.32s %-16s %-10s (", std::string(n.name.view()).c_str(), kind.c_str(), extra.c_str());
        for (int d = 0; d < n.shape.rank; ++d) std::printf("%s%lld", d ? "," : "", (long long)n.shape.dims[d]);
        std::printf(")  %7.3f ms", ms);
        if (gflops > 0) std::printf("  %6.1f GFLOP/s", gflops);
        std::printf("\n");
    }
    std::printf("\nper kind:\n");
    for (auto& [k, v] : by_kind) std::printf("  %-22s %8.3f ms  %5.1f %%\n", k.c_str(), v, 100 * v / total);
    std::printf("sum of kernels %.2f ms per pass; wall median %.2f ms (min %.2f) over %d passes\n", total,
                wall[wall.size() / 2], wall[0], passes);
}
