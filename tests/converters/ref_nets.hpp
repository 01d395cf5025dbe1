// Reference networks of nnabla's graph-converter tests (docs/nnabla-semantics.md §8.2, HEAD ref_graphs/) as
// kata network functions, plus the networks that show upstream's bugs (docs/nnabla-semantics.md §10).
// Shorthand as in the spec: /255 = MulScalar, C = conv 16 maps 3x3 pad 1, BN = batch norm, MP/AP = 2x2
// max/average pooling, FC10 = affine with 10 outputs. Names follow upstream: first-conv, first-bn,
// cb1..cb4/{conv,bn}, fc.
#pragma once

#include <kata/kata.hpp>

namespace ref {

using namespace kata;

template <int Dims>
constexpr shape_t image_shape(std::int64_t c = 3) {
    if constexpr (Dims == 1)
        return {1, c, 32};
    else if constexpr (Dims == 2)
        return {1, c, 32, 32};
    else
        return {1, c, 8, 8, 8};
}
template <int Dims>
constexpr dims kdims(std::int64_t v) {
    if constexpr (Dims == 1)
        return {v};
    else if constexpr (Dims == 2)
        return {v, v};
    else
        return {v, v, v};
}

// The PF name a helper passes: none when the reference names the PF's default scope inside a block's
// scope (nnabla's `with parameter_scope("cb1"): PF.convolution(...)` gives "cb1/conv/W"; an explicit
// name="conv" would give "cb1/conv/conv/W").
constexpr std::string_view pf_name(std::string_view name, std::string_view pf_default) {
    return name == pf_default ? std::string_view{} : name;
}

constexpr pf_batch_normalization_args bn(bool test, std::string_view name, int axis = 1) {
    pf_batch_normalization_args a{};
    a.axes[0] = axis;
    a.batch_stat = !test;
    a.name = pf_name(name, "bn");
    return a;
}

template <int Dims>
constexpr var conv(var h, bool bias, std::string_view name, std::int64_t k = 3, std::int64_t p = 1) {
    return PF::convolution(h, 16, kdims<Dims>(k),
                           {.pad = kdims<Dims>(p), .with_bias = bias, .name = pf_name(name, "conv")});
}

// ---- LeNets (input (1,3,32,32)) -------------------------------------------------------------------
template <bool Test>
constexpr var lenet(builder& g) {
    var h = g.input("x", {1, 3, 32, 32});
    h = PF::convolution(h, 16, {5, 5}, {.with_bias = false, .name = "conv1"});
    h = PF::batch_normalization(h, bn(Test, "conv1-bn"));
    h = F::relu(F::max_pooling(h, {2, 2}));
    h = PF::convolution(h, 16, {5, 5}, {.with_bias = true, .name = "conv2"});
    h = PF::batch_normalization(h, bn(Test, "conv2-bn"));
    h = F::relu(F::max_pooling(h, {2, 2}));
    h = F::relu(PF::affine(h, 10, {.with_bias = false, .name = "fc1"}));
    return PF::affine(h, 10, {.name = "fc2"});
}
constexpr var bsf_lenet(builder& g) { return lenet<true>(g); }  // batch_stat = false everywhere

constexpr var bn_folding_lenet(builder& g) {
    var h = g.input("x", {1, 3, 32, 32});
    h = PF::convolution(h, 16, {5, 5}, {.name = "conv1"});
    h = F::relu(F::max_pooling(h, {2, 2}));
    h = PF::convolution(h, 16, {5, 5}, {.name = "conv2"});
    h = F::relu(F::max_pooling(h, {2, 2}));
    h = F::relu(PF::affine(h, 10, {.name = "fc1"}));
    return PF::affine(h, 10, {.name = "fc2"});
}

// ---- small ResNets ----------------------------------------------------------------------------------
template <int Dims, bool Test, bool WBias>
constexpr var res_block(var x, std::string_view name) {
    auto s = x.g->scope(name);
    var h = conv<Dims>(x, WBias, "conv");
    h = PF::batch_normalization(h, bn(Test, "bn"));
    return F::relu(h + x);
}

template <int Dims, bool Test, bool WBias>
constexpr var small_bn_resnet_body(var x, std::string_view first_bn = "first-bn") {
    var h = x / 255.0;
    h = conv<Dims>(h, WBias, "first-conv");
    h = PF::batch_normalization(h, bn(Test, first_bn));
    h = F::relu(h);
    if constexpr (Dims > 1) h = F::max_pooling(h, kdims<Dims>(2));
    h = res_block<Dims, Test, WBias>(h, "cb1");
    h = res_block<Dims, Test, WBias>(h, "cb2");
    h = res_block<Dims, Test, WBias>(h, "cb3");
    h = res_block<Dims, Test, WBias>(h, "cb4");
    if constexpr (Dims > 1) h = F::average_pooling(h, kdims<Dims>(2));
    return PF::affine(h, 10, {.name = "fc"});
}
template <int Dims = 2, bool Test = true, bool WBias = false>
constexpr var small_bn_resnet(builder& g) {
    return small_bn_resnet_body<Dims, Test, WBias>(g.input("x", image_shape<Dims>()));
}
template <bool WBias = false>
constexpr var small_bsf_resnet(builder& g) {
    return small_bn_resnet_body<2, true, WBias>(g.input("x", image_shape<2>()), "first-bn-bsf");
}

// No /255 and no BNs.
template <bool WBias = false>
constexpr var small_bn_rm_resnet(builder& g) {
    var h = g.input("x", image_shape<2>());
    h = F::relu(conv<2>(h, WBias, "first-conv"));
    h = F::max_pooling(h, {2, 2});
    for (std::string_view n : {"cb1", "cb2", "cb3", "cb4"}) {
        auto s = g.scope(n);
        h = F::relu(conv<2>(h, WBias, "conv") + h);
    }
    h = F::average_pooling(h, {2, 2});
    return PF::affine(h, 10, {.name = "bn-rm-fc"});
}

template <int Dims = 2>
constexpr var small_bn_folding_resnet(builder& g) {
    var h = g.input("x", image_shape<Dims>()) / 255.0;
    h = F::relu(conv<Dims>(h, true, "first-conv"));
    if constexpr (Dims > 1) h = F::max_pooling(h, kdims<Dims>(2));
    for (std::string_view n : {"cb1", "cb2", "cb3", "cb4"}) {
        auto s = g.scope(n);
        h = F::relu(conv<Dims>(h, true, "conv") + h);
    }
    if constexpr (Dims > 1) h = F::average_pooling(h, kdims<Dims>(2));
    return PF::affine(h, 10, {.name = "fc"});
}

// BN -> IP everywhere: /255 -> BN -> C(bias) -> ReLU -> MP -> 4x[z = BN(x); relu(z + C(z))] -> AP -> FC10.
// Pad is a parameter: upstream uses pad 1 (refused by kata, see compile_fail/opposite_fold_pad.cpp);
// Pad = 0 with 1x1 block convolutions (and a 3x3 pad-0 stem) is the exact variant kata folds.
template <int Dims = 2, int Pad = 0>
constexpr var small_bn_opp_resnet(builder& g) {
    constexpr std::int64_t K = Pad == 0 ? 1 : 3;
    var h = g.input("x", image_shape<Dims>()) / 255.0;
    h = PF::batch_normalization(h, bn(true, "first-bn"));
    h = F::relu(conv<Dims>(h, true, "first-conv", 3, Pad));
    if constexpr (Dims > 1) h = F::max_pooling(h, kdims<Dims>(2));
    for (std::string_view n : {"cb1", "cb2", "cb3", "cb4"}) {
        auto s = g.scope(n);
        var z = PF::batch_normalization(h, bn(true, "bn"));
        h = F::relu(z + conv<Dims>(z, true, "conv", K, Pad));
    }
    if constexpr (Dims > 1) h = F::average_pooling(h, kdims<Dims>(2));
    return PF::affine(h, 10, {.name = "fc"});
}

// BN replaced by Mul2(a, .) -> Add2(., b) (structure reference of self folding).
constexpr var small_bn_self_folding_resnet(builder& g) {
    auto affine_bn = [&](var h) {
        shape_t ps{1, 16, 1, 1};
        var a = g.parameter("a", ps);
        var b = g.parameter("b", ps);
        return F::add2(F::mul2(a, h), b);
    };
    var h = g.input("x", image_shape<2>()) / 255.0;
    {
        auto s = g.scope("first");
        h = F::relu(affine_bn(conv<2>(h, false, "conv")));
    }
    h = F::max_pooling(h, {2, 2});
    for (std::string_view n : {"cb1", "cb2", "cb3", "cb4"}) {
        auto s = g.scope(n);
        h = F::relu(affine_bn(conv<2>(h, false, "conv")) + h);
    }
    h = F::average_pooling(h, {2, 2});
    return PF::affine(h, 10, {.name = "fc"});
}

// Fused reference: 4x[C(no bias) -> FusedBN(h, z = block input, relu)]; the stem BN -> ReLU stays a
// BN + ReLU upstream (kata's fuser also fuses it: FuseStem = true is that graph).
// Test = false: every (fused) BN in training mode (upstream's test=False parametrisation).
template <bool FuseStem = false, bool Test = true>
constexpr var small_fbn_resnet(builder& g) {
    var h = g.input("x", image_shape<2>()) / 255.0;
    h = conv<2>(h, false, "first-conv");
    if constexpr (FuseStem)
        h = PF::fused_batch_normalization(h, none, bn(Test, "first-bn"));
    else
        h = F::relu(PF::batch_normalization(h, bn(Test, "first-bn")));
    h = F::max_pooling(h, {2, 2});
    for (std::string_view n : {"cb1", "cb2", "cb3", "cb4"}) {
        auto s = g.scope(n);
        h = PF::fused_batch_normalization(conv<2>(h, false, "conv"), h, bn(Test, "bn"));
    }
    h = F::average_pooling(h, {2, 2});
    return PF::affine(h, 10, {.name = "fc"});
}

// Two inputs, two outputs: two [/255 -> C -> BN -> ReLU -> MP] branches merged by Python's sum
// (AddScalar(0) then Add2), feeding two [C -> BN -> Add2 -> ReLU -> AP -> FC10] heads.
template <bool Test = true, bool WBias = false>
constexpr void small_multiple_inputs_outputs_resnet(builder& g) {
    var xs[2] = {g.input("x", image_shape<2>()), g.input("z", image_shape<2>())};
    var hs[2];
    constexpr std::string_view convs[2] = {"first-conv-0", "first-conv-1"};
    constexpr std::string_view bns[2] = {"first-bn-0", "first-bn-1"};
    for (int i = 0; i < 2; ++i) {
        var h = xs[i] / 255.0;
        h = conv<2>(h, WBias, convs[i]);
        h = F::relu(PF::batch_normalization(h, bn(Test, bns[i])));
        hs[i] = F::max_pooling(h, {2, 2});
    }
    var z = F::add_scalar(hs[0], 0.0) + hs[1];
    constexpr std::string_view cbs[2] = {"cb1", "cb2"};
    constexpr std::string_view fcs[2] = {"fc0", "fc1"};
    for (int i = 0; i < 2; ++i) {
        var h = res_block<2, Test, WBias>(z, cbs[i]);
        h = F::average_pooling(h, {2, 2});
        g.output(PF::affine(h, 10, {.name = fcs[i]}));
    }
}

}  // namespace ref
