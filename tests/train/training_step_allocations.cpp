// KATA_TEST_ENV: OPENBLAS_CORETYPE=Haswell
// A training step allocates nothing in steady state (issue 11, point 2): forward, backward (the compile-
// time training graph of kata/train/backward.hpp on the one executor, gradients accumulated into the
// store's grad() buffers), solver update and zero_grad, for Sgd and Adam, on LeNet with
// BatchNormalization in training mode (running statistics updated every step) and Dropout (a fresh mask
// every step, the same one in its backward: no buffer kept for it, kata/cpu/kernels/dropout.hpp).
//
// tests/support/allocation_counter.hpp replaces every allocation entry point of the process (OpenBLAS and
// kata's pool threads included). After construction, set_parameters (states and gradient buffers) and two
// warm-up steps (OpenBLAS and the pool set themselves up once), three more steps must not allocate.
//
// Why OPENBLAS_CORETYPE=Haswell (first line; tests/CMakeLists.txt puts it in the process environment):
// on AVX-512 CPUs, Debian's OpenBLAS 0.3.21 picks its SkylakeX/Cooperlake kernels, whose "small matrix"
// sgemm path (M*N*K <= 1e6) mallocs a packing buffer on *every* call when the column-major M leaves a
// remainder of 1-8 after its 16-row blocks and K >= 32 (kernel/x86_64/sgemm_small_kernel_nn_skylakex.c):
// 33 calls of 12,800 B per step of this network, measured on a Zen 4. That allocation is OpenBLAS's,
// not kata's plan; with the Haswell kernels (what an AVX2 CPU runs anyway) OpenBLAS's single-threaded
// path allocates nothing after warm-up, and this test checks kata's own code. kata/cpu/gemm.hpp says the
// same for users.
#include <doctest/doctest.h>

#include <kata/cpu.hpp>
#include <kata/parameters.hpp>
#include <kata/pf.hpp>
#include <kata/train/backward.hpp>
#include <kata/train/solvers.hpp>

#include <cstdint>
#include <memory>

#include "../support/allocation_counter.hpp"

using namespace kata;

namespace {

constexpr var lenet_bn(builder& g) {
    auto x = g.input("x", {16, 1, 28, 28});
    auto t = g.input("t", {16, 1}, layout::none, dtype::i32);
    auto h = PF::convolution(x, 6, {5, 5}, {.name = "conv1"});
    h = F::max_pooling(F::relu(PF::batch_normalization(h, {.name = "bn1"})), {2, 2});
    h = PF::convolution(h, 16, {5, 5}, {.name = "conv2"});
    h = F::max_pooling(F::relu(PF::batch_normalization(h, {.name = "bn2"})), {2, 2});
    h = F::dropout(F::relu(PF::affine(h, 120, {.name = "fc1"})), 0.2, 5);
    h = PF::affine(h, 10, {.name = "fc2"});
    return F::mean(F::softmax_cross_entropy(h, t));
}
using Train = train::training_graph<network<lenet_bn>>;

template <class Solver>
void check_steps_allocate_nothing(Solver& solver) {
    parameter_store store;
    create_parameters<network<lenet_bn>>(store);
    auto step = std::make_unique<train::cpu_executor<Train>>(store);
    solver.set_parameters(store);
    xt::xarray<float> x = xt::zeros<float>({16, 1, 28, 28});
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = float((i * 7919) % 255) / 255.0f - 0.5f;
    std::int32_t t[16];
    for (int i = 0; i < 16; ++i) t[i] = (i * 3) % 10;
    const xt::xarray<float> w0 = store.find("conv1/conv/W")->data;
    float first_loss = 0, last_loss = 0;
    auto train_step = [&] {
        solver.zero_grad();
        step->execute(x, t);
        solver.update();
        return step->template output_data<0>()[0];
    };
    first_loss = train_step();
    train_step();
    const counts before = counts::now();
    for (int i = 0; i < 3; ++i) last_loss = train_step();
    const counts after = counts::now();
    CHECK_MESSAGE(after.total() == before.total(), "allocations per 3 steps: " << describe(before, after));
    // The steps did train: the weights moved, and 5 steps on one batch lower its loss.
    CHECK(store.find("conv1/conv/W")->data != w0);
    CHECK(last_loss < first_loss);
}

TEST_CASE("training step allocates nothing in steady state: Sgd") {
    train::Sgd sgd(0.05f);
    check_steps_allocate_nothing(sgd);
}

TEST_CASE("training step allocates nothing in steady state: Adam") {
    train::Adam adam(0.001f);
    check_steps_allocate_nothing(adam);
}

// 3x3 stride-1 convolutions of >= 8 channels at batch 4: the Winograd kernels (forward, data and filter
// gradients; kata/cpu/kernels/conv_cf_winograd.hpp) take their transformed weights, padded copies and
// tile blocks from the planned workspace.
constexpr var conv3x3(builder& g) {
    auto x = g.input("x", {4, 3, 12, 12});
    auto t = g.input("t", {4, 1}, layout::none, dtype::i32);
    auto h = F::relu(PF::batch_normalization(PF::convolution(x, 8, {3, 3}, {.pad = {1, 1}, .name = "c1"}),
                                             {.name = "bn1"}));
    h = F::relu(PF::batch_normalization(PF::convolution(h, 12, {3, 3}, {.pad = {1, 1}, .name = "c2"}),
                                        {.name = "bn2"}));
    h = F::relu(PF::convolution(h, 10, {3, 3}, {.name = "c3"}));
    h = PF::affine(h, 10, {.name = "fc"});
    return F::mean(F::softmax_cross_entropy(h, t));
}

TEST_CASE("training step allocates nothing in steady state: Adam on Winograd convolutions") {
    using TrainConv = train::training_graph<network<conv3x3>>;
    train::Adam adam(0.001f);
    parameter_store store;
    create_parameters<network<conv3x3>>(store);
    auto step = std::make_unique<train::cpu_executor<TrainConv>>(store);
    adam.set_parameters(store);
    xt::xarray<float> x = xt::zeros<float>({4, 3, 12, 12});
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = float((i * 7919) % 255) / 255.0f - 0.5f;
    std::int32_t t[4] = {1, 4, 7, 2};
    auto train_step = [&] {
        adam.zero_grad();
        step->execute(x, t);
        adam.update();
        return step->template output_data<0>()[0];
    };
    const float first_loss = train_step();
    train_step();
    const counts before = counts::now();
    float last_loss = 0;
    for (int i = 0; i < 3; ++i) last_loss = train_step();
    const counts after = counts::now();
    CHECK_MESSAGE(after.total() == before.total(), "allocations per 3 steps: " << describe(before, after));
    CHECK(last_loss < first_loss);
}

}  // namespace
