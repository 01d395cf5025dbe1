// bench/resnet50_cpu.cpp -- kata's side of the ResNet-50 CPU benchmark.
//
// A long-lived worker driven by bench/resnet50_vs_torch.py (or bench/ab.py): it reads one line per
// round from stdin ("<reps>") and answers with the median milliseconds of <reps> forward passes, so
// that the driver can interleave kata and PyTorch rounds (A B A B ...) in one invocation.
//
// Compile-time choices (bench/CMakeLists.txt builds the combinations):
//   KATA_BENCH_BATCH  batch size (1, 8)
//   KATA_BENCH_GRAPH  0: ResNet-50 as written (NCHW, 53 test-mode BatchNormalizations)
//                     1: BN folded into the convolutions (BatchNormalizationFoldingModifier), NCHW
//                     2: BN folded, converted to NHWC (+ ChannelLastModifier) and the convolutions'
//                        residual Add2 / ReLU fused into them (+ FuseConvolutionEpilogueModifier), what
//                        PyTorch's torch.jit.optimize_for_inference + oneDNN effectively runs
//   KATA_BENCH_FROZEN 1 (default): kata::cpu::frozen_executor (parameters packed at bind time; NHWC
//                     (fused) convolutions run the direct kernel with bias/residual/ReLU epilogues),
//                     0: the live executor (parameters re-read at every call; im2col + OpenBLAS)
// The converted graphs get their parameters from kata::apply_conversion on the synthetic weights.
#include <kata/cpu.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
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
static_assert(Run::graph.count(kata::op_kind::batch_normalization) == 0);
#else
using Run = kata::convert<Net, kata::BatchNormalizationFoldingModifier{}, kata::ChannelLastModifier{},
                          kata::FuseConvolutionEpilogueModifier{}>;
static_assert(Run::graph.count(kata::op_kind::batch_normalization) == 0);
static_assert(Run::graph.count(kata::op_kind::transpose) == 0);
#endif

int main() {
    constexpr std::size_t B = KATA_BENCH_BATCH;
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
    // A checksum of the logits on stderr: variants of the same network must agree.
    {
        auto y = run.output<0>();
        double s = 0;
        for (std::size_t i = 0; i < y.size(); ++i) s += double(y.data()[i]) * double(1 + i % 7);
        std::fprintf(stderr, "checksum %.6e\n", s);
    }
    std::printf("ready\n");
    std::fflush(stdout);
    std::string line;
    while (std::getline(std::cin, line)) {
        int reps = std::max(1, std::stoi(line));
        std::vector<double> ms;
        for (int i = 0; i < reps; ++i) {
            auto t0 = std::chrono::steady_clock::now();
            run(x);
            ms.push_back(
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        }
        std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
        std::printf("%.4f\n", ms[ms.size() / 2]);
        std::fflush(stdout);
    }
}
