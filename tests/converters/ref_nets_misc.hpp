// More reference networks of nnabla's graph-converter tests (docs/nnabla-semantics.md §8.2, HEAD ref_graphs/)
// for the non-folding modifiers, and the networks that exercise what upstream's layout converters get wrong
// (docs/nnabla-semantics.md §10.8):
//   id_lenet, small_id_resnet   lenet / small_bn_resnet with `id-` names (IdentityModifier's references),
//                               here with the batch size as a parameter (upstream substitutes batch 128)
//   cl_lenet                    lenet written channel-last (upstream's unused cl_lenet, with the BN axis
//                               and the pooling layout that the channel-last graph really needs)
//   small_clbn_resnet           upstream's channel-last resnet whose blocks add the conv output to its own
//                               BN (relu(BN(h) + h): a forked conv output), with or without biases; and
//                               small_cfbn_resnet, its channel-first twin (kata's, not upstream's)
//   cl_bn_resnet                small_bn_resnet written channel-last with the same names, with biases too
//   cl_axes_net, cf_axes_net    Concatenate and Softmax along NON-channel axes (batch, height, width);
//                               a graph input read by six functions, the first one a Convolution
//                               (multi-input), plus a parameter operand broadcast along the height
#pragma once

#include "ref_nets.hpp"

namespace ref {

// ---- id_lenet, small_id_resnet (test_identity's references) -------------------------------------------
template <bool Test, std::int64_t Batch = 1>
constexpr var id_lenet(builder& g) {
    var h = g.input("x", {Batch, 3, 32, 32});
    h = PF::convolution(h, 16, {5, 5}, {.with_bias = false, .name = "id-conv1"});
    h = PF::batch_normalization(h, bn(Test, "id-conv1-bn"));
    h = F::relu(F::max_pooling(h, {2, 2}));
    h = PF::convolution(h, 16, {5, 5}, {.with_bias = true, .name = "id-conv2"});
    h = PF::batch_normalization(h, bn(Test, "id-conv2-bn"));
    h = F::relu(F::max_pooling(h, {2, 2}));
    h = F::relu(PF::affine(h, 10, {.with_bias = false, .name = "id-fc1"}));
    return PF::affine(h, 10, {.name = "id-fc2"});
}

template <bool Test, std::int64_t Batch = 1>
constexpr var small_id_resnet(builder& g) {
    var h = g.input("x", {Batch, 3, 32, 32}) / 255.0;
    h = conv<2>(h, false, "first-id-conv");
    h = F::relu(PF::batch_normalization(h, bn(Test, "first-id-bn")));
    h = F::max_pooling(h, {2, 2});
    for (std::string_view n : {"id-cb1", "id-cb2", "id-cb3", "id-cb4"}) {
        auto s = g.scope(n);
        h = F::relu(PF::batch_normalization(conv<2>(h, false, "conv"), bn(Test, "bn")) + h);
    }
    h = F::average_pooling(h, {2, 2});
    return PF::affine(h, 10, {.name = "id-fc"});
}

// ---- channel-last nets -----------------------------------------------------------------------------------
constexpr var conv_nhwc(var h, bool bias, std::string_view name, std::int64_t k = 3, std::int64_t p = 1) {
    return PF::convolution(
        h, 16, {k, k},
        {.pad = {p, p}, .channel_last = true, .with_bias = bias, .name = pf_name(name, "conv")});
}

// lenet, channel-last: input (1, 32, 32, 3), BN over axis 3, pooling channel_last; fc1 reads the NHWC
// tensor (kata's ChannelLast re-orders fc1/W accordingly).
template <bool Test>
constexpr var cl_lenet(builder& g) {
    var h = g.input("x", {1, 32, 32, 3}, layout::channel_last);
    h = conv_nhwc(h, false, "conv1", 5, 0);
    h = PF::batch_normalization(h, bn(Test, "conv1-bn", 3));
    h = F::relu(F::max_pooling(h, {2, 2}, {.channel_last = true}));
    h = conv_nhwc(h, true, "conv2", 5, 0);
    h = PF::batch_normalization(h, bn(Test, "conv2-bn", 3));
    h = F::relu(F::max_pooling(h, {2, 2}, {.channel_last = true}));
    h = F::relu(PF::affine(h, 10, {.with_bias = false, .name = "fc1"}));
    return PF::affine(h, 10, {.name = "fc2"});
}

// upstream's small_clbn_resnet: /255 -> C -> BN -> ReLU -> MP -> 4x[h = C(x); relu(BN(h) + h)] -> AP -> FC10,
// channel-last (NHWC input (1, 32, 32, 3)); ChannelLast = true. With ChannelLast = false the same
// network channel-first (small_cfbn_resnet below), with the same names.
template <bool ChannelLast, bool Test, bool WBias>
constexpr var clbn_resnet_body(builder& g) {
    constexpr int cax = ChannelLast ? 3 : 1;
    auto c = [](var v, bool bias, std::string_view name) {
        return ChannelLast ? conv_nhwc(v, bias, name) : conv<2>(v, bias, name);
    };
    var h = ChannelLast ? g.input("x", {1, 32, 32, 3}, layout::channel_last) : g.input("x", {1, 3, 32, 32});
    h = c(h / 255.0, WBias, "first-clbn-conv");
    h = F::relu(PF::batch_normalization(h, bn(Test, "first-clbn-bn", cax)));
    h = F::max_pooling(h, {2, 2}, {.channel_last = ChannelLast});
    for (std::string_view n : {"clbn-cb1", "clbn-cb2", "clbn-cb3", "clbn-cb4"}) {
        auto s = g.scope(n);
        var z = c(h, WBias, "conv");
        h = F::relu(PF::batch_normalization(z, bn(Test, "bn", cax)) + z);
    }
    h = F::average_pooling(h, {2, 2}, {.channel_last = ChannelLast});
    return PF::affine(h, 10, {.name = "clbn-fc"});
}
template <bool Test = true, bool WBias = false>
constexpr var small_clbn_resnet(builder& g) {
    return clbn_resnet_body<true, Test, WBias>(g);
}
template <bool Test = true, bool WBias = false>
constexpr var small_cfbn_resnet(builder& g) {
    return clbn_resnet_body<false, Test, WBias>(g);
}

// small_bn_resnet<2, Test, WBias> written channel-last (same names as small_bn_resnet).
template <bool Test = true, bool WBias = false>
constexpr var cl_bn_resnet(builder& g) {
    var h = g.input("x", {1, 32, 32, 3}, layout::channel_last) / 255.0;
    h = conv_nhwc(h, WBias, "first-conv");
    h = F::relu(PF::batch_normalization(h, bn(Test, "first-bn", 3)));
    h = F::max_pooling(h, {2, 2}, {.channel_last = true});
    for (std::string_view n : {"cb1", "cb2", "cb3", "cb4"}) {
        auto s = g.scope(n);
        h = F::relu(PF::batch_normalization(conv_nhwc(h, WBias, "conv"), bn(Test, "bn", 3)) + h);
    }
    h = F::average_pooling(h, {2, 2}, {.channel_last = true});
    return PF::affine(h, 10, {.name = "fc"});
}

// ---- Concatenate / Softmax along non-channel axes, a widely read input --------------------------------
// Channel-first, x (2, 5, 6, 7): batch, channel, height and width all differ, so a wrongly mapped axis
// changes a shape or (for Softmax) the values. x is read by six functions: a Convolution (its FIRST
// consumer, three inputs: upstream would crash), three Concatenates (channel, width and batch axes),
// a Mul2 and a Tanh. The Add2 adds a parameter broadcast along the height.
constexpr void cl_axes_net(builder& g) {
    var x = g.input("x", {2, 5, 6, 7});
    var a = PF::convolution(x, 4, {3, 3}, {.pad = {1, 1}, .name = "c1"});  // (2, 4, 6, 7)
    var h = F::concatenate({a, x}, 1);                                     // channels: (2, 9, 6, 7)
    var p = g.parameter("cat-h", {2, 9, 3, 7});
    var v = F::concatenate({h, p, F::relu(h)}, 2);  // height, with a parameter: (2, 9, 15, 7)
    v = F::softmax(v, 3);                           // over the width
    g.output(v);
    var s = F::mul2(x, g.parameter("scale", {1, 5, 1, 1}));
    var w = F::concatenate({x, s}, 3);                            // width: (2, 5, 6, 14)
    w = F::add2(w, g.parameter("shift-h", {1, 1, 6, 1}));         // broadcast along the height
    g.output(F::softmax(w, 2));                                   // over the height
    g.output(F::softmax(F::concatenate({x, F::tanh(x)}, 0), 0));  // batch: (4, 5, 6, 7), over the batch
    g.output(PF::affine(v, 3, {.name = "fc"}));                   // flattens the height-concatenated tensor
}

// Channel-last, x (2, 6, 7, 5): the same kinds of axes for ChannelFirst.
constexpr void cf_axes_net(builder& g) {
    var x = g.input("x", {2, 6, 7, 5}, layout::channel_last);
    var a =
        PF::convolution(x, 4, {3, 3}, {.pad = {1, 1}, .channel_last = true, .name = "c1"});  // (2, 6, 7, 4)
    var p = g.parameter("cat-h", {2, 3, 7, 4});
    var v = F::concatenate({a, p}, 1);                   // height: (2, 9, 7, 4)
    g.output(F::softmax(v, 2));                          // over the width
    var w = F::concatenate({x, F::sigmoid(x)}, 2);       // width: (2, 6, 14, 5)
    g.output(F::softmax(F::concatenate({w, w}, 3), 1));  // channels (2, 6, 14, 10), softmax over the height
    g.output(PF::affine(v, 3, {.name = "fc"}));
}

}  // namespace ref
