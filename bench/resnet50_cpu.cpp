// bench/resnet50_cpu.cpp -- kata's side of the ResNet-50 CPU benchmark.
//
// A long-lived worker driven by bench/resnet50_vs_torch.py: it reads one line per round from stdin
// ("<reps>") and answers with the median milliseconds of <reps> forward passes, so that the driver
// can interleave kata and PyTorch rounds (A B A B ...) in one invocation.
// Built for batch 1 and batch 8 (targets resnet50_cpu_b1, resnet50_cpu_b8).
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

using Net = kata::network<kata::models::resnet50_net<KATA_BENCH_BATCH>>;

int main() {
    kata::parameter_store store;
    kata::models::synthetic_parameters<Net>(store);
    kata::cpu::executor<Net> run(store);
    xt::xarray<float> x = xt::zeros<float>({std::size_t(KATA_BENCH_BATCH), std::size_t(3), std::size_t(224), std::size_t(224)});
    kata::models::synthetic_input("x", x.data(), x.size());
    for (int i = 0; i < 3; ++i) run(x);
    std::printf("ready\n");
    std::fflush(stdout);
    std::string line;
    while (std::getline(std::cin, line)) {
        int reps = std::max(1, std::stoi(line));
        std::vector<double> ms;
        for (int i = 0; i < reps; ++i) {
            auto t0 = std::chrono::steady_clock::now();
            run(x);
            ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        }
        std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
        std::printf("%.4f\n", ms[ms.size() / 2]);
        std::fflush(stdout);
    }
}
