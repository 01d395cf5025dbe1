// bench/train_fashion_mnist_epoch.cpp -- kata's side of the Fashion-MNIST epoch-time benchmark
// (issue #12, point 7): bench/fashion_mnist_vs_torch.py interleaves it with the same network trained by
// PyTorch 1.13.
//
// An epoch of examples/train_fashion_mnist.cpp is 937 training iterations (batch 64) and the evaluation
// of the 10000 test images (100 batches of 100). Timing whole epochs A B A B on a shared 2-core machine
// takes hours, so the worker times the two parts separately, on the real data and through the same code
// as the example:
//   train_fashion_mnist_epoch train STEPS   a pass = STEPS iterations of the NaiveClassificationTrainer's
//                                           Updater (update(i): the data iterator's next batch of the
//                                           shuffled training set, forward + backward, Adam, the
//                                           trainer's loss/error bookkeeping)
//   train_fashion_mnist_epoch eval BATCHES  a pass = BATCHES test batches of 100 through the test-mode
//                                           network on the executor (BN with running statistics)
// Protocol of bench/ab.py: prints "ready", then answers each "<reps>" line on stdin with the median
// milliseconds of <reps> passes. Exit 77 when Debian's dataset-fashion-mnist is not installed.
#include <kata/cpu.hpp>
#include <kata/data.hpp>
#include <kata/parameters.hpp>
#include <kata/train.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "../examples/models/lenet_bn_fashion.hpp"

using namespace kata;

namespace {

constexpr var lenet_train(builder& g) { return models::lenet_bn_fashion<false, 64>(g); }
constexpr var lenet_test(builder& g) { return models::lenet_bn_fashion<true, 100>(g); }

template <class Pass>
void serve(Pass pass) {
    pass();  // warm: buffers, the first batches
    std::printf("ready\n");
    std::fflush(stdout);
    for (std::string line; std::getline(std::cin, line);) {
        const int reps = std::max(1, std::stoi(line));
        std::vector<double> ms;
        for (int r = 0; r < reps; ++r) {
            const auto t0 = std::chrono::steady_clock::now();
            pass();
            ms.push_back(
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        }
        std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
        std::printf("%.4f\n", ms[ms.size() / 2]);
        std::fflush(stdout);
    }
}

}  // namespace

int main(int argc, char** argv) {
    const std::string mode = argc > 1 ? argv[1] : "train";
    const int count = argc > 2 ? std::stoi(argv[2]) : 50;
    const auto dir = data::fashion_mnist_default_dir();
    if (!std::filesystem::exists(dir / "train-images-idx3-ubyte.gz") &&
        !std::filesystem::exists(dir / "train-images-idx3-ubyte")) {
        std::fprintf(stderr, "SKIP: Fashion-MNIST not found in %s\n", dir.string().c_str());
        return 77;
    }
    parameter_store store(313);
    create_parameters<network<lenet_train>>(store);
    if (mode == "train") {
        auto train_it = data::data_iterator_fashion_mnist(64, true, data::RandomState{313}, true, dir);
        train::Adam solver(1e-3f);
        solver.set_parameters(store);
        using namespace kata::train::kw;
        train::NaiveClassificationTrainer<lenet_train, lenet_test> trainer(solver, store, tdata = &train_it);
        std::int64_t i = 0;
        serve([&] {
            for (int s = 0; s < count; ++s) trainer.updater().update(i++);
        });
    } else if (mode == "eval") {
        auto test_it = data::data_iterator_fashion_mnist(100, false, data::RandomState{}, false, dir);
        cpu::executor<network<lenet_test>> net(store);
        std::int64_t correct = 0;
        serve([&] {
            for (int b = 0; b < count; ++b) {
                const auto& [x, t] = test_it.next();
                net.execute(x);
                const float* p = net.output_data<0>();
                for (int n = 0; n < 100; ++n)
                    correct += std::max_element(p + n * 10, p + n * 10 + 10) - (p + n * 10) == t.data()[n];
            }
        });
        std::fprintf(stderr, "%lld correct (untrained network)\n", static_cast<long long>(correct));
    } else {
        std::fprintf(stderr, "usage: train_fashion_mnist_epoch train|eval COUNT\n");
        return 2;
    }
}
