// bench/resnet50_profile.cpp -- where the time of a ResNet-50 forward goes, per layer.
//
//     OPENBLAS_CORETYPE=SkylakeX build-bench/bench/resnet50_profile_b1 [passes]
//
// Built with -DKATA_CPU_PROFILE (the executor then accumulates each kernel call's time) and the same
// KATA_BENCH_BATCH / KATA_BENCH_GRAPH choices as bench/resnet50_cpu.cpp. Prints every function node
// (op, output shape, ms per pass, GFLOP/s for convolutions) and totals per op kind
// (bench/profile_report.hpp).
#include <kata/cpu.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "../examples/models/resnet50.hpp"
#include "../examples/models/synthetic_weights.hpp"
#include "profile_report.hpp"

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
        wall.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(wall.begin(), wall.end());
    kata_bench::print_profile<Run>(run, passes);
    std::printf("wall median %.2f ms (min %.2f) over %d passes\n", wall[wall.size() / 2], wall[0], passes);
}
