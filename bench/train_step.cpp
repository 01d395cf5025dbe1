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
//                  3: the LeNet with BN of examples/train_fashion_mnist.cpp (32/64 maps,
//                     examples/models/lenet_bn_fashion.hpp), 1x28x28, batch 64 (issue #12 point 7)
// Both in training mode (BatchNormalization with batch statistics), softmax cross-entropy, mean.
//
// Built with -DKATA_CPU_PROFILE (targets train_profile_*), `train_profile_resnet20_b64 [steps]` instead
// prints where one step's time goes: every kernel node, forward and backward apart, with GFLOP/s of the
// convolutions / Affine and their gradients and GB/s of the rest (bytes = every input + the output,
// read or written once: the least traffic the node can have), totals per kind, and zero_grad / Adam.
// The light headers (no .npz I/O: this TU creates its parameters and reads no files); issue #11 point 7
// times this TU.
#include <kata/cpu_executor.hpp>
#include <kata/create_parameters.hpp>
#include <kata/pf.hpp>
#include <kata/train/backward.hpp>
#include <kata/train/solvers/adam.hpp>  // the solver it uses; no state files (kata/train/solver.hpp)

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#ifdef KATA_CPU_PROFILE
#include <map>
#endif

#ifndef KATA_BENCH_MODEL
#define KATA_BENCH_MODEL 0
#endif
#if KATA_BENCH_MODEL == 2
#include "../examples/models/resnet.hpp"
#endif
#if KATA_BENCH_MODEL == 3
#include "../examples/models/lenet_bn_fashion.hpp"
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

#if KATA_BENCH_MODEL == 3
// The network of examples/train_fashion_mnist.cpp with the loss its NaiveClassificationTrainer adds.
constexpr var fashion_train(builder& g) {
    const var y = models::lenet_bn_fashion<false, 64>(g);
    const var t = g.input("t", {64, 1}, layout::none, dtype::i32);
    return F::mean(F::softmax_cross_entropy(y, t));
}
#endif

#if KATA_BENCH_MODEL == 0
using Net = network<lenet_bn>;
constexpr std::size_t B = 128, C = 1, H = 28;
#elif KATA_BENCH_MODEL == 1
using Net = network<resnet20>;
constexpr std::size_t B = 64, C = 3, H = 32;
#elif KATA_BENCH_MODEL == 3
using Net = network<fashion_train>;
constexpr std::size_t B = 64, C = 1, H = 28;
#else
using Net = network<resnet50_train>;
constexpr std::size_t B = 8, C = 3, H = 224;
#endif
using Train = train::training_graph<Net>;

#ifdef KATA_CPU_PROFILE
// Multiply-adds of a convolution-like or Affine node of the training graph (0 for the others).
template <class G>
double madds_of(const G& g, int id) {
    const auto& n = g.nodes[std::size_t(id)];
    auto numel = [](const shape_t& s) { return double(s.numel()); };
    auto per_out = [&](const shape_t& w) { return numel(w) / double(w.dims[0]); };  // Cg * taps
    switch (n.op) {
    case op_kind::convolution: return numel(n.shape) * per_out(g.input_node(id, 1).shape);
    case op_kind::convolution_data_grad:  // (dy, W) -> dx
        return numel(g.input_node(id, 0).shape) * per_out(g.input_node(id, 1).shape);
    case op_kind::convolution_filter_grad:  // (x, dy) -> dW
        return numel(g.input_node(id, 1).shape) * per_out(n.shape);
    case op_kind::affine: return numel(n.shape) * numel(g.input_node(id, 1).shape) / double(n.shape.dims[1]);
    case op_kind::affine_data_grad:  // (dy, W) -> dx: batch * in * out
        return numel(n.shape) * numel(g.input_node(id, 0).shape) / double(n.shape.dims[0]);
    case op_kind::affine_filter_grad:  // (x, dy) -> dW
        return numel(g.input_node(id, 0).shape) * numel(g.input_node(id, 1).shape) /
               double(g.input_node(id, 0).shape.dims[0]);
    default: return 0;
    }
}

template <class Exec>
void print_train_profile(const Exec& run, int steps, double zero_ms, double adam_ms, double step_ms) {
    constexpr const auto& g = Train::graph;
    constexpr int forward_nodes = int(Net::graph.nodes.size());
    struct acc {
        double ms = 0, flops = 0, bytes = 0;
        int n = 0;
    };
    std::map<std::string, acc> kinds;
    double total[2]{};
    std::printf("%-4s %-30s %-26s %-16s %9s %9s\n", "pass", "node", "kind", "output", "ms", "rate");
    for (int t = 0; t < g.num_order; ++t) {
        const int id = g.order[t];
        const auto& n = g.nodes[std::size_t(id)];
        const double ms = run.profile_ns_[std::size_t(id)] / steps / 1e6;
        if (ms <= 0) continue;
        const bool fwd = id < forward_nodes;
        std::string kind(type_name(n.op));
        if (n.op == op_kind::convolution || n.op == op_kind::convolution_data_grad ||
            n.op == op_kind::convolution_filter_grad) {
            const auto& w = n.op == op_kind::convolution_filter_grad ? n.shape : g.input_node(id, 1).shape;
            kind += " k" + std::to_string(w.dims[w.rank - 1]) + "s" + std::to_string(n.attr.stride[0]);
        }
        const double flops = 2 * madds_of(g, id);
        double bytes = double(n.shape.numel()) * 4;
        for (int k = 0; k < n.num_inputs; ++k) bytes += double(g.input_node(id, k).shape.numel()) * 4;
        std::string shape;
        for (int d = 0; d < n.shape.rank; ++d) shape += (d ? "," : "") + std::to_string(n.shape.dims[d]);
        std::printf("%-4s %-30.30s %-26s %-16s %9.4f ", fwd ? "fwd" : "bwd",
                    std::string(n.name.view()).c_str(), kind.c_str(), shape.c_str(), ms);
        if (flops > 0)
            std::printf("%6.1f GFLOP/s\n", flops / (ms * 1e6));
        else
            std::printf("%6.1f GB/s\n", bytes / (ms * 1e6));
        acc& a = kinds[std::string(fwd ? "fwd " : "bwd ") + kind];
        a.ms += ms;
        a.flops += flops;
        a.bytes += bytes;
        ++a.n;
        total[fwd ? 0 : 1] += ms;
    }
    const double sum = total[0] + total[1];
    std::printf("\nper kind (ms per step, share of the kernels' sum):\n");
    for (auto& [k, a] : kinds) {
        std::printf("  %-34s %3d nodes %8.3f ms %5.1f %%", k.c_str(), a.n, a.ms, 100 * a.ms / sum);
        if (a.flops > 0)
            std::printf("  %6.1f GFLOP/s\n", a.flops / (a.ms * 1e6));
        else
            std::printf("  %6.1f GB/s\n", a.bytes / (a.ms * 1e6));
    }
    std::printf("forward kernels %.3f ms, backward kernels %.3f ms, zero_grad %.3f ms, Adam %.3f ms; "
                "step %.3f ms (median)\n",
                total[0], total[1], zero_ms, adam_ms, step_ms);
}
#endif

}  // namespace

int main(int argc, char** argv) {
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
#ifdef KATA_CPU_PROFILE
    {
        const int steps = argc > 1 ? std::max(1, std::atoi(argv[1])) : 20;
        step->profile_ns_.fill(0);
        double zero_ms = 0, adam_ms = 0;
        std::vector<double> ms;
        using clk = std::chrono::steady_clock;
        auto since = [](clk::time_point t0) {
            return std::chrono::duration<double, std::milli>(clk::now() - t0).count();
        };
        for (int i = 0; i < steps; ++i) {
            const auto t0 = clk::now();
            adam.zero_grad();
            zero_ms += since(t0);
            step->execute(x, t.data());
            const auto t1 = clk::now();
            adam.update();
            adam_ms += since(t1);
            ms.push_back(since(t0));
        }
        std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
        print_train_profile(*step, steps, zero_ms / steps, adam_ms / steps, ms[ms.size() / 2]);
        return 0;
    }
#else
    (void)argc;
    (void)argv;
#endif
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
