// Gradients of kata's compile-time training graphs (kata/train/backward.hpp) against PyTorch autograd
// (float64), fixtures by tools/fixtures/make_backward_fixtures.py. Each case's network is the script's,
// op for op; the case's "x" is a parameter, so the gradient of each chain's input is checked too. The
// upstream gradient is made non-trivial by a random input r (loss = sum or mean of y * r).
// TopNError (a metric, no gradient, ties included) and SigmoidCrossEntropy with float targets (read as
// integers) against nnabla 1.39's own outputs (tools/fixtures/make_nnabla_loss_fixtures.py); BatchNormalization
// and FusedBatchNormalization over several axes against nnabla 1.39 (tools/fixtures/make_bn_axes_fixtures.py); Dropout against its closed form (kept values x / (1 - p), zeros within a binomial bound,
// backward with the forward's mask, fixed-seed determinism, test mode = TestModeModifier).
#include "backward_support.hpp"

#include <kata/cpu.hpp>
#include <kata/parameters.hpp>
#include <kata/pf.hpp>
#include <kata/train/backward.hpp>
#include <kata/train/solvers.hpp>
#include <kata/converters/graph_converter.hpp>
#include <kata/converters/test_mode.hpp>
#include <kata/viewer/simple_graph.hpp>

#include <cmath>

using namespace kata;
using kata::test::backward_fixture;
using kata::test::check_close;
using kata::test::check_step_against_fixture;

namespace {

// dense: Affine (with and without bias), LeakyReLU, Sigmoid, Tanh, ReLU, Mul2, Add2 broadcasting (1,6),
// Sub2 broadcasting (6,), AddScalar, MulScalar, Reshape, Sum. FrozenC: "c" has need_grad=false.
template <bool FrozenC>
constexpr var dense(builder& g) {
    auto r = g.input("r", {6, 3});
    auto x = g.parameter("x", {3, 2, 5});
    auto a = F::affine(x, g.parameter("fc/W", {10, 6}), g.parameter("fc/b", {6}));
    auto l = F::leaky_relu(a, 0.2);
    auto s = F::sigmoid(a);
    auto t = F::tanh(F::affine(x, g.parameter("fc2/W", {10, 6})));
    auto m = s * t + g.parameter("c", {1, 6}, {}, !FrozenC);
    m = m - g.parameter("d", {6});
    m = (F::relu(m + l) + 0.3) * 1.7;
    return F::sum(F::reshape(m, {6, 3}) * r);
}

TEST_CASE("backward: dense ops (Affine, activations, broadcasting arithmetic, scalars, Reshape, Sum)") {
    using Train = train::training_graph<network<dense<false>>>;
    static_assert(Train::num_gradients == 6);
    backward_fixture f("dense");
    parameter_store store;
    f.load_parameters(store);
    train::cpu_executor<Train> step(store);
    const xt::xarray<float> r = f.f32("input:r");
    step.execute(r);
    check_step_against_fixture(step, store, f, "dense");

    SUBCASE("gradients accumulate until zero_grad, as in nnabla") {
        step.execute(r);
        for (const std::string& p : f.gradient_names())
            check_close(store.find(p)->grad(), f.f32("grad:" + p), "twice d/d" + p, 2.0f);
        train::Sgd sgd(0.0f);
        sgd.set_parameters(store);
        sgd.zero_grad();
        step.execute(r);
        check_step_against_fixture(step, store, f, "after zero_grad");
    }
}

TEST_CASE("backward: a need_grad=false parameter gets no gradient node and no gradient") {
    using Train = train::training_graph<network<dense<true>>>;
    static_assert(Train::num_gradients == 5);
    static_assert(Train::graph.find(op_kind::parameter, "c@grad") < 0);
    // Add2's rule builds no Sum for the broadcast operand "c" (the only (1,6)-shaped reduction).
    static_assert(Train::graph.count(op_kind::sum) ==
                  train::training_graph<network<dense<false>>>::graph.count(op_kind::sum) - 1);
    backward_fixture f("dense");
    parameter_store store;
    f.load_parameters(store);
    train::cpu_executor<Train> step(store);
    step.execute(f.f32("input:r"));
    CHECK_FALSE(store.find("c")->has_grad());
    for (const std::string& p : f.gradient_names())
        if (p != "c") check_close(store.find(p)->grad(), f.f32("grad:" + p), "frozen c: d/d" + p);
}

// conv_cf: Convolution NCHW (group 2, pad (1,2), stride (2,1), dilation (1,2)), MaxPooling (2x2, stride
// (1,2), pad (1,0)), ReLU, AveragePooling (3x2, pad 1) including and excluding the padding,
// GlobalAveragePooling.
constexpr var conv_cf(builder& g) {
    auto x = g.parameter("x", {2, 4, 9, 8});
    auto h = F::convolution(x, g.parameter("conv/W", {6, 2, 3, 3}), g.parameter("conv/b", {6}),
                            {.pad = {1, 2}, .stride = {2, 1}, .dilation = {1, 2}, .group = 2});
    h = F::relu(F::max_pooling(h, {2, 2}, {.stride = {1, 2}, .pad = {1, 0}}));
    auto p1 = F::average_pooling(h, {3, 2}, {.pad = {1, 1}});
    auto p2 = F::average_pooling(h, {3, 2}, {.pad = {1, 1}, .including_pad = false});
    auto gap = F::global_average_pooling(p1 + p2);
    return F::sum(gap * g.input("r", {2, 6, 1, 1}));
}

TEST_CASE("backward: channel-first convolution with groups, dilation, padding, stride, and pooling") {
    using Train = train::training_graph<network<conv_cf>>;
    backward_fixture f("conv_cf");
    parameter_store store;
    f.load_parameters(store);
    train::cpu_executor<Train> step(store);
    step.execute(f.f32("input:r"));
    check_step_against_fixture(step, store, f, "conv_cf");
}

// conv_cl: Convolution NHWC (group 3, pad 1, stride 2), MaxPooling NHWC, BatchNormalization test mode over
// axis 3 (eps 1e-3), Mean.
constexpr var conv_cl(builder& g) {
    auto x = g.parameter("x", {2, 7, 6, 6});
    auto h = F::convolution(x, g.parameter("conv/W", {9, 3, 3, 2}), g.parameter("conv/b", {9}),
                            {.pad = {1, 1}, .stride = {2, 2}, .group = 3, .channel_last = true});
    h = F::max_pooling(h, {2, 2}, {.channel_last = true});
    h = F::batch_normalization(h, g.parameter("bn/beta", {1, 1, 1, 9}), g.parameter("bn/gamma", {1, 1, 1, 9}),
                               g.parameter("bn/mean", {1, 1, 1, 9}, {}, false),
                               g.parameter("bn/var", {1, 1, 1, 9}, {}, false),
                               {.axes = {3}, .naxes = 1, .eps = 1e-3, .batch_stat = false});
    return F::mean(h * g.input("r", {2, 2, 1, 9}, layout::channel_last));
}

TEST_CASE("backward: channel-last convolution and pooling, BatchNormalization in test mode") {
    using Train = train::training_graph<network<conv_cl>>;
    backward_fixture f("conv_cl");
    parameter_store store;
    f.load_parameters(store);
    train::cpu_executor<Train> step(store);
    step.execute(f.f32("input:r"));
    check_step_against_fixture(step, store, f, "conv_cl");
}

// bn_train: BatchNormalization with batch statistics (decay 0.8, eps 1e-3), Tanh.
constexpr var bn_train(builder& g) {
    auto x = g.parameter("x", {4, 3, 5, 5});
    auto h = F::batch_normalization(
        x, g.parameter("bn/beta", {1, 3, 1, 1}), g.parameter("bn/gamma", {1, 3, 1, 1}),
        g.parameter("bn/mean", {1, 3, 1, 1}, {}, false), g.parameter("bn/var", {1, 3, 1, 1}, {}, false),
        {.axes = {1}, .naxes = 1, .decay_rate = 0.8, .eps = 1e-3, .batch_stat = true});
    return F::sum(F::tanh(h) * g.input("r", {4, 3, 5, 5}));
}

TEST_CASE("backward: BatchNormalization in training mode (batch statistics, running statistics)") {
    using Train = train::training_graph<network<bn_train>>;
    backward_fixture f("bn_train");
    parameter_store store;
    f.load_parameters(store);
    train::cpu_executor<Train> step(store);
    step.execute(f.f32("input:r"));
    check_step_against_fixture(step, store, f, "bn_train");
    check_close(store.find("bn/mean")->data, f.f32("running:bn/mean"), "running mean");
    check_close(store.find("bn/var")->data, f.f32("running:bn/var"), "running var");
}

// conv_paths: channel-first convolutions at batch 5, which the batch-parallel gradient kernels split into
// uneven item ranges: grouped (group 2, kernel (3, 2), pad (2, 1), dilation (2, 1), stride 1: its data
// gradient runs as a convolution of dy with flipped weights), 1x1 (pointwise: no im2col), 1x1 with pad 1
// (stride 1 but pad > dil (k - 1): col2im); BatchNormalization in training mode over 9x9 maps.
constexpr var conv_paths(builder& g) {
    auto x = g.parameter("x", {5, 4, 7, 6});
    auto h = F::convolution(x, g.parameter("c1/W", {6, 2, 3, 2}), none,
                            {.pad = {2, 1}, .dilation = {2, 1}, .group = 2});
    h = F::convolution(F::tanh(h), g.parameter("c2/W", {5, 6, 1, 1}));
    h = F::convolution(h, g.parameter("c3/W", {3, 5, 1, 1}), none, {.pad = {1, 1}});
    h = F::batch_normalization(h, g.parameter("bn/beta", {1, 3, 1, 1}), g.parameter("bn/gamma", {1, 3, 1, 1}),
                               g.parameter("bn/mean", {1, 3, 1, 1}, {}, false),
                               g.parameter("bn/var", {1, 3, 1, 1}, {}, false),
                               {.axes = {1}, .naxes = 1, .eps = 1e-5, .batch_stat = true});
    return F::sum(F::tanh(h) * g.input("r", {5, 3, 9, 9}));
}

TEST_CASE(
    "backward: channel-first convolution gradients at batch 5 (grouped stride 1, pointwise, padded 1x1)") {
    using Train = train::training_graph<network<conv_paths>>;
    static_assert(Train::graph.count(op_kind::convolution_data_grad) == 3);
    backward_fixture f("conv_paths");
    parameter_store store;
    f.load_parameters(store);
    train::cpu_executor<Train> step(store);
    step.execute(f.f32("input:r"));
    check_step_against_fixture(step, store, f, "conv_paths");
}

// conv_direct: channel-first 2-D stride-1 convolutions with whole vectors of 8 per output row (the direct
// AVX2 kernels of kata/cpu/kernels/conv_cf_direct.hpp: forward, data gradient as a forward of dy, filter
// gradient) at batch 5, odd channel counts (3, 5, 7), 7 rows, a bias, pad 2 + dilation 2 in W, an 8-wide
// map (one vector per row), and a stride-2 convolution (the GEMM path) between them.
constexpr var conv_direct(builder& g) {
    auto x = g.parameter("x", {5, 3, 7, 16});
    auto h = F::tanh(
        F::convolution(x, g.parameter("c1/W", {5, 3, 3, 3}), g.parameter("c1/b", {5}), {.pad = {1, 1}}));
    h = F::tanh(
        F::convolution(h, g.parameter("c2/W", {6, 5, 3, 3}), none, {.pad = {1, 2}, .dilation = {1, 2}}));
    h = F::tanh(
        F::convolution(h, g.parameter("c3/W", {4, 6, 3, 3}), none, {.pad = {1, 1}, .stride = {2, 2}}));
    h = F::tanh(F::convolution(h, g.parameter("c4/W", {7, 4, 3, 3}), none, {.pad = {1, 1}}));
    return F::sum(h * g.input("r", {5, 7, 4, 8}));
}

TEST_CASE(
    "backward: direct channel-first convolutions at batch 5 (odd channels, bias, dilation, 8-wide rows)") {
    using Train = train::training_graph<network<conv_direct>>;
    static_assert(Train::graph.count(op_kind::convolution_filter_grad) == 4);
    backward_fixture f("conv_direct");
    parameter_store store;
    f.load_parameters(store);
    train::cpu_executor<Train> step(store);
    step.execute(f.f32("input:r"));
    check_step_against_fixture(step, store, f, "conv_direct");
}

// conv_direct_wide: the direct filter gradient on 48-wide rows read in place (one item per chunk).
constexpr var conv_direct_wide(builder& g) {
    auto x = g.parameter("x", {5, 2, 24, 48});
    auto h = F::tanh(
        F::convolution(x, g.parameter("c/W", {3, 2, 3, 3}), g.parameter("c/b", {3}), {.pad = {1, 1}}));
    return F::sum(h * g.input("r", {5, 3, 24, 48}));
}

TEST_CASE("backward: direct channel-first convolution on wide rows at batch 5") {
    using Train = train::training_graph<network<conv_direct_wide>>;
    backward_fixture f("conv_direct_wide");
    parameter_store store;
    f.load_parameters(store);
    train::cpu_executor<Train> step(store);
    step.execute(f.f32("input:r"));
    check_step_against_fixture(step, store, f, "conv_direct_wide");
}

// losses: mean(SoftmaxCrossEntropy(x, t)) + mean(sum(SquaredError(y, z), axes {1}, keep_dims)).
constexpr var losses(builder& g) {
    auto t = g.input("t", {5, 1}, layout::none, dtype::i32);
    auto z = g.input("z", {5, 7});
    auto x = g.parameter("x", {5, 7});
    auto y = g.parameter("y", {5, 7});
    return F::mean(F::softmax_cross_entropy(x, t)) + F::mean(F::sum(F::squared_error(y, z), {1}, true));
}

TEST_CASE("backward: losses (SoftmaxCrossEntropy, SquaredError) and reductions (Sum with keep_dims, Mean)") {
    using Train = train::training_graph<network<losses>>;
    static_assert(Train::graph.nodes[Train::graph.outputs[0]].shape.rank == 0);  // a scalar loss
    backward_fixture f("losses");
    parameter_store store;
    f.load_parameters(store);
    train::cpu_executor<Train> step(store);
    const xt::xarray<std::int32_t> t = f.i32("input:t");
    step.execute(t, f.f32("input:z"));
    check_step_against_fixture(step, store, f, "losses");
}

// ranks: Convolution 1-D (pad 2, dilation 2), Affine with base_axis 2, BatchNormalization training mode over
// the last axis of a rank-3 tensor without gamma; Convolution 3-D (group 2, stride (1,2,1), pad (1,0,1)),
// MaxPooling 3-D; a residual Add2 whose two inputs both depend on z.
constexpr var ranks(builder& g) {
    auto r1 = g.input("r1", {2, 4, 3});
    auto r2 = g.input("r2", {1, 6, 3, 1, 3});
    auto x = g.parameter("x", {2, 5, 7});
    auto h = F::convolution(x, g.parameter("c1/W", {4, 5, 3}), {.pad = {2}, .dilation = {2}});
    h = F::affine(h, g.parameter("fc/W", {7, 3}), g.parameter("fc/b", {3}), {.base_axis = 2});
    h = F::batch_normalization(h, g.parameter("bn/beta", {1, 1, 3}), none,
                               g.parameter("bn/mean", {1, 1, 3}, {}, false),
                               g.parameter("bn/var", {1, 1, 3}, {}, false), {.axes = {2}, .naxes = 1});
    auto y1 = F::relu(h);
    auto z = g.parameter("z", {1, 4, 5, 6, 5});
    auto h3 = F::tanh(F::convolution(z, g.parameter("c3/W", {6, 2, 2, 3, 2}), g.parameter("c3/b", {6}),
                                     {.pad = {1, 0, 1}, .stride = {1, 2, 1}, .group = 2}));
    h3 = h3 + F::sigmoid(h3);
    auto y2 = F::max_pooling(h3, {2, 2, 2});
    return F::sum(y1 * r1) + F::sum(y2 * r2);
}

TEST_CASE(
    "backward: 1-D and 3-D convolutions, Affine base_axis 2, BN over the last axis without gamma, residual") {
    using Train = train::training_graph<network<ranks>>;
    backward_fixture f("ranks");
    parameter_store store;
    f.load_parameters(store);
    train::cpu_executor<Train> step(store);
    step.execute(f.f32("input:r1"), f.f32("input:r2"));
    check_step_against_fixture(step, store, f, "ranks");
}

// composite: Softmax (axis 1), Transpose (2, 0, 1), Div2 by a broadcast parameter and by an x-dependent
// denominator (sigmoid + 0.5).
constexpr var composite(builder& g) {
    auto r = g.input("r", {5, 3, 4});
    auto x = g.parameter("x", {3, 4, 5});
    auto z = F::transpose(F::softmax(x, 1), {2, 0, 1}) / g.parameter("d", {5, 1, 1});
    return F::sum(z / (F::sigmoid(z) + 0.5) * r);
}

TEST_CASE("backward: Softmax, Transpose and Div2 (rules made of forward ops)") {
    using Train = train::training_graph<network<composite>>;
    backward_fixture f("composite");
    parameter_store store;
    f.load_parameters(store);
    train::cpu_executor<Train> step(store);
    step.execute(f.f32("input:r"));
    check_step_against_fixture(step, store, f, "composite");
}

// more_ops: DepthwiseConvolution (multiplier 2, pad 1, stride (2,1)), Deconvolution (group 3, stride 2, pad 1,
// output_padding 1), Unpooling 2x2, FusedBatchNormalization (training mode) with a residual, SumPooling
// (2,3), HardSwish, FusedConvolution (pad 1, bias, residual parameter, ReLU); Embed.
constexpr var more_ops(builder& g) {
    auto r1 = g.input("r1", {2, 4, 4, 4});
    auto idx = g.input("idx", {5}, layout::none, dtype::i32);
    auto r2 = g.input("r2", {5, 3});
    auto x = g.parameter("x", {2, 3, 7, 6});
    auto hd = F::depthwise_convolution(x, g.parameter("dw/W", {6, 3, 3}), g.parameter("dw/b", {6}),
                                       {.pad = {1, 1}, .stride = {2, 1}, .multiplier = 2});
    auto h2 = F::deconvolution(hd, g.parameter("dc/W", {6, 2, 3, 3}), g.parameter("dc/b", {6}),
                               {.pad = {1, 1}, .stride = {2, 2}, .group = 3, .output_padding = {1, 1}});
    auto h = F::fused_batch_normalization(
        h2, g.parameter("bn/beta", {1, 6, 1, 1}), g.parameter("bn/gamma", {1, 6, 1, 1}),
        g.parameter("bn/mean", {1, 6, 1, 1}, {}, false), g.parameter("bn/var", {1, 6, 1, 1}, {}, false),
        F::unpooling(hd, {2, 2}));
    h = F::hard_swish(F::sum_pooling(h, {2, 3}));
    h = F::fused_convolution(h, g.parameter("fc/W", {4, 6, 3, 3}), g.parameter("fc/b", {4}),
                             g.parameter("zf", {2, 4, 4, 4}), {.pad = {1, 1}});
    auto e = F::embed(idx, g.parameter("E", {7, 3}));
    return F::sum(h * r1) + F::sum(e * r2);
}

TEST_CASE(
    "backward: depthwise and transposed convolutions, fused BN and convolution, pooling, HardSwish, Embed") {
    using Train = train::training_graph<network<more_ops>>;
    backward_fixture f("more_ops");
    parameter_store store;
    f.load_parameters(store);
    train::cpu_executor<Train> step(store);
    const xt::xarray<std::int32_t> idx = f.i32("input:idx");
    step.execute(f.f32("input:r1"), idx, f.f32("input:r2"));
    check_step_against_fixture(step, store, f, "more_ops");
}

// concat: Concatenate along axis 1 of (x, y, x), Tanh.
constexpr var concat(builder& g) {
    auto r = g.input("r", {2, 8, 4});
    auto x = g.parameter("x", {2, 3, 4});
    return F::sum(F::tanh(F::concatenate({x, g.parameter("y", {2, 2, 4}), x}, 1)) * r);
}

TEST_CASE("backward: Concatenate (one input twice)") {
    using Train = train::training_graph<network<concat>>;
    backward_fixture f("concat");
    parameter_store store;
    f.load_parameters(store);
    train::cpu_executor<Train> step(store);
    step.execute(f.f32("input:r"));
    check_step_against_fixture(step, store, f, "concat");
}

// lenet_bn: LeNet with BatchNormalization (training mode) written with PF::, end to end.
constexpr var lenet_bn(builder& g) {
    auto x = g.input("x", {8, 1, 28, 28});
    auto t = g.input("t", {8, 1}, layout::none, dtype::i32);
    auto h = PF::convolution(x, 6, {5, 5}, {.name = "conv1"});
    h = F::max_pooling(F::relu(PF::batch_normalization(h, {.name = "bn1"})), {2, 2});
    h = PF::convolution(h, 16, {5, 5}, {.name = "conv2"});
    h = F::max_pooling(F::relu(PF::batch_normalization(h, {.name = "bn2"})), {2, 2});
    h = F::relu(PF::affine(h, 120, {.name = "fc1"}));
    h = PF::affine(h, 10, {.name = "fc2"});
    return F::mean(F::softmax_cross_entropy(h, t));
}

TEST_CASE("backward: LeNet with BatchNormalization end to end, and SimpleGraph draws the training graph") {
    using Net = network<lenet_bn>;
    using Train = train::training_graph<Net>;
    static_assert(Train::num_gradients == 12);  // conv W, b x2, BN beta, gamma x2, fc W, b x2
    static_assert(Train::graph.count(op_kind::convolution_filter_grad) == 2);
    // The first convolution's input is a graph input: no ConvolutionDataGrad for it (no work).
    static_assert(Train::graph.count(op_kind::convolution_data_grad) == 1);
    backward_fixture f("lenet_bn");
    parameter_store store;
    f.load_parameters(store);
    train::cpu_executor<Train> step(store);
    const xt::xarray<std::int32_t> t = f.i32("input:t");
    step.execute(f.f32("input:x"), t);
    check_step_against_fixture(step, store, f, "lenet_bn");

    SimpleGraph viewer;
    const std::string dot = viewer.create_graphviz_digraph(Train::graph);
    CHECK(dot.find("ConvolutionFilterGrad") != std::string::npos);
    CHECK(dot.find("AccumulateGrad") != std::string::npos);
}

// new_losses: mean(SigmoidCrossEntropy(x, t)) (logits up to +-40, int32 0/1 targets), LogSoftmax over axis
// 1 and over the default (last) axis; a TopNError off the loss path (output 1) is ignored by the derivation.
constexpr void new_losses(builder& g) {
    auto t = g.input("t", {4, 5}, layout::none, dtype::i32);
    auto r1 = g.input("r1", {3, 6, 2});
    auto r2 = g.input("r2", {5, 7});
    auto tw = g.input("tw", {5, 1}, layout::none, dtype::i32);
    auto x = g.parameter("x", {4, 5});
    auto z = g.parameter("z", {3, 6, 2});
    auto w = g.parameter("w", {5, 7});
    g.output(F::mean(F::sigmoid_cross_entropy(x, t)) + F::sum(F::log_softmax(z, 1) * r1) +
             F::sum(F::log_softmax(w) * r2));
    g.output(F::top_n_error(w, tw, -1, 2));
}

TEST_CASE("backward: SigmoidCrossEntropy, LogSoftmax, and a TopNError off the loss path") {
    using Train = train::training_graph<network<new_losses>>;
    static_assert(Train::num_forward_outputs == 2 && Train::num_gradients == 3);
    static_assert(Train::graph.count(op_kind::log_softmax_grad) == 2);
    backward_fixture f("new_losses");
    parameter_store store;
    f.load_parameters(store);
    train::cpu_executor<Train> step(store);
    const std::int32_t tw[5] = {0, 6, 3, 3, 1};
    const xt::xarray<std::int32_t> t = f.i32("input:t");
    step.execute(t, f.f32("input:r1"), f.f32("input:r2"), tw);
    check_step_against_fixture(step, store, f, "new_losses");
    const float* err = step.output_data<1>();
    for (int i = 0; i < 5; ++i) CHECK((err[i] == 0.0f || err[i] == 1.0f));
}

// fpq_dwdeconv: DepthwiseDeconvolution (divisor 2, stride (2,1), pad (1,0), dilation (1,2), bias), then
// FixedPointQuantize with the straight-through estimator, ste_fine_grained true and false.
constexpr var fpq_dwdeconv(builder& g) {
    auto r1 = g.input("r1", {2, 3, 9, 6});
    auto r2 = g.input("r2", {2, 3, 9, 6});
    auto x = g.parameter("x", {2, 6, 5, 4});
    auto h = F::depthwise_deconvolution(x, g.parameter("dd/W", {6, 3, 2}), g.parameter("dd/b", {3}),
                                        {.pad = {1, 0}, .stride = {2, 1}, .dilation = {1, 2}, .divisor = 2});
    auto q1 = F::fixed_point_quantize(h, {.sign = true, .n = 4, .delta = 0.25, .ste_fine_grained = true});
    auto q2 = F::fixed_point_quantize(h, {.sign = false, .n = 3, .delta = 0.5, .ste_fine_grained = false});
    return F::sum(q1 * r1) + F::sum(q2 * r2);
}

TEST_CASE("backward: DepthwiseDeconvolution, FixedPointQuantize straight-through (fine-grained or not)") {
    using Train = train::training_graph<network<fpq_dwdeconv>>;
    // Only the fine-grained estimator needs a node; the other passes dy through.
    static_assert(Train::graph.count(op_kind::fixed_point_quantize_grad) == 1);
    backward_fixture f("fpq_dwdeconv");
    parameter_store store;
    f.load_parameters(store);
    train::cpu_executor<Train> step(store);
    step.execute(f.f32("input:r1"), f.f32("input:r2"));
    check_step_against_fixture(step, store, f, "fpq_dwdeconv");
}

// deconv_cl: channel-last Deconvolution (group 2, stride 2, pad 1, output_padding 1), channel-last
// FusedBatchNormalization (training mode) with a residual from a channel-last Unpooling, channel-last
// AveragePooling excluding the padding; channel-last SumPooling of u too (u read twice).
constexpr var deconv_cl(builder& g) {
    auto r = g.input("r", {2, 4, 4, 4}, layout::channel_last);
    auto r2 = g.input("r2", {2, 2, 2, 4}, layout::channel_last);
    auto u = g.parameter("u", {2, 5, 4, 4});
    auto x = g.parameter("x", {2, 5, 4, 6});
    auto h = F::deconvolution(
        x, g.parameter("dc/W", {6, 3, 3, 2}), g.parameter("dc/b", {4}),
        {.pad = {1, 1}, .stride = {2, 2}, .group = 2, .channel_last = true, .output_padding = {1, 1}});
    h = F::fused_batch_normalization(
        h, g.parameter("bn/beta", {1, 1, 1, 4}), g.parameter("bn/gamma", {1, 1, 1, 4}),
        g.parameter("bn/mean", {1, 1, 1, 4}, {}, false), g.parameter("bn/var", {1, 1, 1, 4}, {}, false),
        F::unpooling(u, {2, 2}, true), {.axes = {3}, .naxes = 1});
    h = F::average_pooling(h, {3, 2}, {.pad = {1, 0}, .channel_last = true, .including_pad = false});
    return F::sum(h * r) + F::sum(F::sum_pooling(u, {2, 2}, {.channel_last = true}) * r2);
}

TEST_CASE("backward: channel-last Deconvolution, FusedBatchNormalization, Unpooling, Average/SumPooling") {
    using Train = train::training_graph<network<deconv_cl>>;
    backward_fixture f("deconv_cl");
    parameter_store store;
    f.load_parameters(store);
    train::cpu_executor<Train> step(store);
    step.execute(f.f32("input:r"), f.f32("input:r2"));
    check_step_against_fixture(step, store, f, "deconv_cl");
}

// bn_axes: BatchNormalization and FusedBatchNormalization over SEVERAL axes (nnabla's axes=[...]) against
// nnabla 1.39 itself (tools/fixtures/make_bn_axes_fixtures.py, same network): bn1 axes [1,2] batch_stat
// (decay 0.7, eps 1e-3), Tanh, bn2 axes [3,-3] test mode without beta; bn3 axes [0,2,4] on 5-D
// batch_stat without gamma; relu(BN(u) + w) axes [1,3] batch_stat. nnabla updates the running statistics
// of a several-axes BN in a transposed copy only (its parameters never change, an upstream bug); kata
// updates the parameters with the values nnabla's kernel computed. nnabla's FusedBatchNormalization
// rejects several axes, so fbn's reference is nnabla's relu(BN(u) + w) (docs/training.md).
constexpr var bn_axes(builder& g) {
    auto r1 = g.input("r1", {3, 4, 5, 3});
    auto r2 = g.input("r2", {2, 3, 4, 3, 5});
    auto r3 = g.input("r3", {2, 5, 3, 4});
    auto stat = [&](const char* name, shape_t s) { return g.parameter(name, s, {}, false); };
    auto x = g.parameter("x", {3, 4, 5, 3});
    auto h = F::batch_normalization(
        x, g.parameter("bn1/beta", {1, 4, 5, 1}), g.parameter("bn1/gamma", {1, 4, 5, 1}),
        stat("bn1/mean", {1, 4, 5, 1}), stat("bn1/var", {1, 4, 5, 1}),
        {.axes = {1, 2}, .naxes = 2, .decay_rate = 0.7, .eps = 1e-3, .batch_stat = true});
    auto h2 = F::batch_normalization(F::tanh(h), none, g.parameter("bn2/gamma", {1, 4, 1, 3}),
                                     stat("bn2/mean", {1, 4, 1, 3}), stat("bn2/var", {1, 4, 1, 3}),
                                     {.axes = {3, -3}, .naxes = 2, .eps = 1e-4, .batch_stat = false});
    auto z = g.parameter("z", {2, 3, 4, 3, 5});
    auto h3 = F::batch_normalization(z, g.parameter("bn3/beta", {2, 1, 4, 1, 5}), none,
                                     stat("bn3/mean", {2, 1, 4, 1, 5}), stat("bn3/var", {2, 1, 4, 1, 5}),
                                     {.axes = {0, 2, 4}, .naxes = 3, .decay_rate = 0.6, .batch_stat = true});
    auto u = g.parameter("u", {2, 5, 3, 4});
    auto w = g.parameter("w", {2, 5, 3, 4});
    auto h4 = F::fused_batch_normalization(
        u, g.parameter("fbn/beta", {1, 5, 1, 4}), g.parameter("fbn/gamma", {1, 5, 1, 4}),
        stat("fbn/mean", {1, 5, 1, 4}), stat("fbn/var", {1, 5, 1, 4}), w,
        {.axes = {1, 3}, .naxes = 2, .decay_rate = 0.8, .batch_stat = true});
    return F::sum(h2 * r1) + F::sum(h3 * r2) + F::sum(h4 * r3);
}

TEST_CASE("backward: BatchNormalization and FusedBatchNormalization over several axes vs nnabla 1.39") {
    using Train = train::training_graph<network<bn_axes>>;
    static_assert(Train::num_gradients ==
                  10);  // x, z, u, w, bn1 beta/gamma, bn2 gamma, bn3 beta, fbn beta/gamma
    backward_fixture f("bn_axes");
    parameter_store store;
    f.load_parameters(store);
    train::cpu_executor<Train> step(store);
    step.execute(f.f32("input:r1"), f.f32("input:r2"), f.f32("input:r3"));
    check_step_against_fixture(step, store, f, "bn_axes");
    for (const std::string s : {"bn1", "bn3", "fbn"})
        for (const std::string k : {"/mean", "/var"})
            check_close(store.find(s + k)->data, f.f32("running:" + s + k), "running " + s + k);
    // Test mode leaves bn2's running statistics alone.
    CHECK(store.find("bn2/mean")->data == f.f32("param:bn2/mean"));
    CHECK(store.find("bn2/var")->data == f.f32("param:bn2/var"));
}

// TopNError against nnabla 1.39 (ties: the scores >= the target's, the target included, must not exceed n).
constexpr void top_n_2d(builder& g) {
    auto x = g.input("x", {6, 5});
    auto t = g.input("t", {6, 1}, layout::none, dtype::i32);
    for (int n = 1; n <= 3; ++n) g.output(F::top_n_error(x, t, -1, n));
}
constexpr var top_n_3d(builder& g) {
    return F::top_n_error(g.input("x", {3, 4, 2}), g.input("t", {3, 1, 2}, layout::none, dtype::i32), 1, 2);
}

TEST_CASE("top_n_error: nnabla 1.39's values, ties at the n-th place are errors, default axis the last") {
    backward_fixture f("nnabla_losses");
    parameter_store none_needed;
    const xt::xarray<float> x2 = f.f32("x2");
    const xt::xarray<std::int32_t> t2 = f.i32("t2");
    cpu::executor<network<top_n_2d>> m2(none_needed);
    m2.execute(x2, t2);
    check_close(xt::xarray<float>(m2.output<0>()), f.f32("y2_n1"), "n=1");
    check_close(xt::xarray<float>(m2.output<1>()), f.f32("y2_n2"), "n=2");
    check_close(xt::xarray<float>(m2.output<2>()), f.f32("y2_n3"), "n=3");
    const xt::xarray<float> x3 = f.f32("x3");
    const xt::xarray<std::int32_t> t3 = f.i32("t3");
    cpu::executor<network<top_n_3d>> m3(none_needed);
    m3.execute(x3, t3);
    check_close(xt::xarray<float>(m3.output<0>()), f.f32("y3_axis1_n2"), "axis 1");
}

// SigmoidCrossEntropy with float targets against nnabla 1.39: the target is read as an int (truncated toward
// zero: 0.7 -> 0, 1.9 -> 1, -0.6 -> 0), forward and backward; logits up to +-40.
constexpr void sce_float_targets(builder& g) {
    auto t = g.input("t", {3, 5});
    auto r = g.input("r", {3, 5});
    auto y = F::sigmoid_cross_entropy(g.parameter("x", {3, 5}), t);
    g.output(F::sum(y * r));
    g.output(y);
}

TEST_CASE("sigmoid_cross_entropy: float targets read as integers, as nnabla 1.39 (forward and gradient)") {
    using Train = train::training_graph<network<sce_float_targets>>;
    backward_fixture f("nnabla_losses");
    parameter_store store;
    store.get_or_create("x", {3, 5}).data = f.f32("sce_x");
    train::cpu_executor<Train> step(store);
    step.execute(f.f32("sce_t"), f.f32("sce_r"));
    check_close(xt::xarray<float>(step.output<1>()), f.f32("sce_y"), "SigmoidCrossEntropy");
    check_close(store.find("x")->grad(), f.f32("sce_gx"), "d/dx");
}

// Dropout: forward statistics, fresh masks per call, fixed-seed determinism, one stream per seed.
constexpr void drop_fwd(builder& g) {
    auto x = g.input("x", {200, 500});
    g.output(F::dropout(x, 0.3, 7));
    g.output(F::dropout(x, 0.3, 7));  // same seed: same masks as output 0
    g.output(F::dropout(x, 0.3));     // seed -1: its own stream
    g.output(F::dropout(x, 0.3));     // seed -1: another stream
}

TEST_CASE("dropout: scale 1/(1-p), zeros within a binomial bound, a fresh mask per call, seeded streams") {
    constexpr std::size_t N = 200 * 500;
    constexpr double p = 0.3;
    std::vector<float> x(N);
    for (std::size_t i = 0; i < N; ++i) x[i] = 1.0f + float(i % 7) * 0.25f;  // never 0
    const float scale = float(1.0 / (1.0 - p));
    parameter_store none_needed;
    cpu::executor<network<drop_fwd>> a(none_needed), b(none_needed);
    std::vector<float> first(N);
    for (int call = 0; call < 2; ++call) {
        a.execute(x.data());
        b.execute(x.data());
        const float* y = a.output_data<0>();
        std::size_t zeros = 0, same_as_first = 0, differ_m1 = 0;
        for (std::size_t i = 0; i < N; ++i) {
            if (y[i] == 0.0f)
                ++zeros;
            else
                REQUIRE(y[i] == x[i] * scale);
            if (call == 1) same_as_first += (y[i] == 0.0f) == (first[i] == 0.0f);
            differ_m1 += (a.output_data<2>()[i] == 0.0f) != (a.output_data<3>()[i] == 0.0f);
            REQUIRE(a.output_data<1>()[i] == y[i]);  // one seed, one stream
            REQUIRE(b.output_data<0>()[i] == y[i]);  // another executor, same seed: same masks
            REQUIRE(b.output_data<2>()[i] == a.output_data<2>()[i]);
        }
        // zeros ~ Binomial(N, p): within 5 standard deviations.
        const double sd = std::sqrt(double(N) * p * (1 - p));
        CHECK(std::fabs(double(zeros) - double(N) * p) < 5 * sd);
        // Two independent masks disagree on a fraction 2 p (1 - p) of the elements.
        const double agree_sd = std::sqrt(double(N) * 0.42 * 0.58);
        CHECK(std::fabs(double(differ_m1) - double(N) * 2 * p * (1 - p)) < 5 * agree_sd);
        if (call == 1)
            CHECK(std::fabs(double(N - same_as_first) - double(N) * 2 * p * (1 - p)) < 5 * agree_sd);
        std::copy(y, y + N, first.begin());
    }
}

// Dropout's backward: dx = dy mask / (1 - p) with the forward's mask (output 1 shows it); test mode.
constexpr void drop_train(builder& g) {
    auto r = g.input("r", {37, 41});
    auto x = g.parameter("x", {37, 41});
    auto y = F::dropout(F::tanh(x), 0.4);
    g.output(F::sum(y * r));
    g.output(y);
}

TEST_CASE("dropout: backward with the forward's mask, every step, and test mode (TestModeModifier) is x") {
    using Net = network<drop_train>;
    using Train = train::training_graph<Net>;
    constexpr std::size_t N = 37 * 41;
    parameter_store store;
    xt::xarray<float> xv = xt::zeros<float>({37, 41}), r = xt::zeros<float>({37, 41});
    for (std::size_t i = 0; i < N; ++i) {
        xv.data()[i] = 0.1f + float(i % 13) * 0.07f;
        r.data()[i] = float(int(i % 5) - 2) + 0.5f;
    }
    store.get_or_create("x", {37, 41}).data = xv;
    train::cpu_executor<Train> step(store);
    train::Sgd sgd(0.0f);
    sgd.set_parameters(store);
    std::vector<float> prev(N);
    const float scale = float(1.0 / (1.0 - 0.4));
    for (int call = 0; call < 3; ++call) {
        sgd.zero_grad();
        step.execute(r);
        const float* y = step.output_data<1>();
        const xt::xarray<float>& gx = store.find("x")->grad();
        std::size_t zeros = 0, changed = 0;
        double loss = 0;
        for (std::size_t i = 0; i < N; ++i) {
            const double th = std::tanh(double(xv.data()[i]));
            const bool kept = y[i] != 0.0f;
            zeros += !kept;
            changed += kept != (prev[i] != 0.0f);
            prev[i] = y[i];
            const double want = kept ? double(r.data()[i]) * double(scale) * (1 - th * th) : 0.0;
            REQUIRE_MESSAGE(std::fabs(double(gx.data()[i]) - want) <= 1e-5 * (1 + std::fabs(want)),
                            "element " << i << " call " << call);
            loss += double(y[i]) * double(r.data()[i]);
        }
        CHECK(std::fabs(double(step.output_data<0>()[0]) - loss) <= 1e-4 * (1 + std::fabs(loss)));
        CHECK(zeros > N / 4);
        CHECK(zeros < N / 2 + N / 20);
        if (call > 0) CHECK(changed > N / 4);  // a new mask each step
    }

    using Test = convert<Net, TestModeModifier{op_kind::dropout}>;
    static_assert(Test::graph.count(op_kind::dropout) == 0);
    cpu::executor<Test> test(store);
    test.execute(r);
    const float* y = test.output_data<1>();
    for (std::size_t i = 0; i < N; ++i) REQUIRE(y[i] == std::tanh(xv.data()[i]));
}

}  // namespace
