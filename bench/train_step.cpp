// bench/train_step.cpp -- kata's side of the training-step benchmark (issue #11, point 6).
//
// One training step = zero_grad, forward, backward (the compile-time training graph of
// kata/train/backward.hpp on the one executor) and an Adam update, as nnabla's Updater runs it. A
// long-lived worker in the protocol of bench/resnet50_cpu.cpp: prints "ready", then reads "<reps>" per
// round from stdin and answers with the median milliseconds of <reps> steps, so that
// bench/train_vs_torch.py can interleave it with the same model trained by PyTorch (A B A B ...).
//
// KATA_BENCH_MODEL 0: LeNet-5 with BatchNormalization, 1x28x28, batch 128 (the Fashion-MNIST model)
//                  1: CIFAR ResNet-20 (3 stages x 3 basic blocks, 16/32/64 channels, 1x1 projection
//                     shortcuts with BN where the shape changes), 3x32x32, batch 64
//                  2: ResNet-50 (examples/models/resnet.hpp), 3x224x224, batch 8: the largest training
//                     graph of issue #11 point 7 (its compile time is the budget: bench/compile_time.sh)
// Both in training mode (BatchNormalization with batch statistics), softmax cross-entropy, mean.
#include <kata/cpu.hpp>
#include <kata/parameters.hpp>
#include <kata/pf.hpp>
#include <kata/train/backward.hpp>
#include <kata/train/solvers.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#ifndef KATA_BENCH_MODEL
#define KATA_BENCH_MODEL 0
#endif
#if KATA_BENCH_MODEL == 2
#include "../examples/models/resnet.hpp"
#endif

using namespace kata;

namespace {

constexpr var lenet_bn(builder& g) {
    auto x = g.input("x", {128, 1, 28, 28});
    auto t = g.input("t", {128, 1}, layout::none, dtype::i32);
    auto h = PF::convolution(x, 6, {5, 5}, {.name = "conv1"});
    h = F::max_pooling(F::relu(PF::batch_normalization(h, {.name = "bn1"})), {2, 2});
    h = PF::convolution(h, 16, {5, 5}, {.name = "conv2"});
    h = F::max_pooling(F::relu(PF::batch_normalization(h, {.name = "bn2"})), {2, 2});
    h = F::relu(PF::affine(h, 120, {.name = "fc1"}));
    h = F::relu(PF::affine(h, 84, {.name = "fc2"}));
    h = PF::affine(h, 10, {.name = "fc3"});
    return F::mean(F::softmax_cross_entropy(h, t));
}

constexpr var conv_bn(var x, std::int64_t maps, std::int64_t k, std::int64_t stride, std::string_view name,
                      bool relu) {
    auto s = x.g->scope(name);
    const std::int64_t p = k / 2;
    var h = PF::convolution(x, maps, {k, k}, {.pad = {p, p}, .stride = {stride, stride}, .with_bias = false});
    h = PF::batch_normalization(h);
    return relu ? F::relu(h) : h;
}

constexpr var basic_block(var x, std::int64_t maps, std::int64_t stride) {
    var h = conv_bn(x, maps, 3, stride, "conv1", true);
    h = conv_bn(h, maps, 3, 1, "conv2", false);
    var shortcut = (stride != 1 || x.shape()[1] != maps) ? conv_bn(x, maps, 1, stride, "shortcut", false) : x;
    return F::relu(h + shortcut);
}

constexpr var resnet20(builder& g) {
    auto x = g.input("x", {64, 3, 32, 32});
    auto t = g.input("t", {64, 1}, layout::none, dtype::i32);
    var h = conv_bn(x, 16, 3, 1, "stem", true);
    constexpr std::string_view stages[3] = {"layer1", "layer2", "layer3"};
    constexpr std::string_view blocks[3] = {"0", "1", "2"};
    for (int s = 0; s < 3; ++s) {
        auto ss = g.scope(stages[s]);
        for (int b = 0; b < 3; ++b) {
            auto bs = g.scope(blocks[b]);
            h = basic_block(h, std::int64_t(16) << s, (b == 0 && s > 0) ? 2 : 1);
        }
    }
    h = F::global_average_pooling(h);
    auto fc = g.scope("fc");
    h = PF::affine(h, 10);
    return F::mean(F::softmax_cross_entropy(h, t));
}

#if KATA_BENCH_MODEL == 2
constexpr var resnet50_train(builder& g) {
    auto x = g.input("x", {8, 3, 224, 224});
    auto t = g.input("t", {8, 1}, layout::none, dtype::i32);
    var h = models::resnet50(x, /*test=*/false);
    return F::mean(F::softmax_cross_entropy(h, t));
}
#endif

#if KATA_BENCH_MODEL == 0
using Net = network<lenet_bn>;
constexpr std::size_t B = 128, C = 1, H = 28;
#elif KATA_BENCH_MODEL == 1
using Net = network<resnet20>;
constexpr std::size_t B = 64, C = 3, H = 32;
#else
using Net = network<resnet50_train>;
constexpr std::size_t B = 8, C = 3, H = 224;
#endif
using Train = train::training_graph<Net>;

}  // namespace

int main() {
    parameter_store store;
    create_parameters<Net>(store);
    auto step = std::make_unique<train::cpu_executor<Train>>(store);
    train::Adam adam(train::adam_args{.alpha = 0.001f});
    adam.set_parameters(store);
    xt::xarray<float> x = xt::zeros<float>({B, C, H, H});
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = float((i * 7919) % 255) / 255.0f - 0.5f;
    std::vector<std::int32_t> t(B);
    for (std::size_t i = 0; i < B; ++i) t[i] = std::int32_t((i * 3) % 10);
    auto train_step = [&] {
        adam.zero_grad();
        step->execute(x, t.data());
        adam.update();
    };
    for (int i = 0; i < 3; ++i) train_step();
    std::fprintf(stderr, "loss after 3 steps %.6f\n", double(step->output_data<0>()[0]));
    std::printf("ready\n");
    std::fflush(stdout);
    std::string line;
    while (std::getline(std::cin, line)) {
        int reps = std::max(1, std::stoi(line));
        std::vector<double> ms;
        for (int i = 0; i < reps; ++i) {
            auto t0 = std::chrono::steady_clock::now();
            train_step();
            ms.push_back(
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        }
        std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
        std::printf("%.4f\n", ms[ms.size() / 2]);
        std::fflush(stdout);
    }
}
