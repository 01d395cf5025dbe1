// ResNet-50 on the CPU with kata: the README's demo.
//
//   resnet50_demo [weights.npz]
//
// Builds ResNet-50 (torchvision layout) as a compile-time graph at batch 1, fills it with the
// synthetic weights of examples/models/synthetic_weights.hpp (or loads an .npz whose names follow
// examples/models/resnet50.hpp), runs it, and prints the latency (median of 20 runs after warm-up)
// and the top-5 classes of a synthetic image.
#include <kata/cpu.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <numeric>
#include <vector>

#include "models/resnet50.hpp"
#include "models/synthetic_weights.hpp"

using ResNet50 = kata::network<kata::models::resnet50_net<1>>;

int main(int argc, char** argv) {
    kata::parameter_store store;
    if (argc > 1) {
        store.load(argv[1]);
        std::printf("loaded %zu parameters from %s\n", store.size(), argv[1]);
    } else {
        kata::models::synthetic_parameters<ResNet50>(store);
    }
    constexpr const auto& g = ResNet50::graph;
    std::printf("ResNet-50: %d functions (%d convolutions, %d batch normalizations), %zu parameter tensors\n",
                g.num_functions(), g.count(kata::op_kind::convolution), g.count(kata::op_kind::batch_normalization),
                store.size());
    kata::cpu::executor<ResNet50> run(store);
    std::printf("activation memory planned at compile time: %.1f MiB (%.1f MiB without reuse), scratch %.1f MiB\n",
                double(run.arena_bytes) / (1 << 20), double(run.plan.naive_bytes) / (1 << 20),
                double(run.workspace_bytes) / (1 << 20));

    xt::xarray<float> x = xt::zeros<float>({1, 3, 224, 224});
    kata::models::synthetic_input("x", x.data(), x.size());
    for (int i = 0; i < 3; ++i) run(x);  // warm-up: first touch of the arena and BLAS buffers
    std::vector<double> ms;
    for (int i = 0; i < 20; ++i) {
        auto t0 = std::chrono::steady_clock::now();
        run(x);
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    std::printf("batch-1 latency: median %.2f ms, min %.2f ms (20 runs)\n", ms[ms.size() / 2], ms.front());

    auto y = run(x);
    std::vector<int> idx(1000);
    std::iota(idx.begin(), idx.end(), 0);
    std::partial_sort(idx.begin(), idx.begin() + 5, idx.end(), [&](int a, int b) { return y(0, a) > y(0, b); });
    std::printf("top-5:");
    for (int k = 0; k < 5; ++k) std::printf("  class %d (%.4f)", idx[std::size_t(k)], double(y(0, idx[std::size_t(k)])));
    std::printf("\n");
    return 0;
}
