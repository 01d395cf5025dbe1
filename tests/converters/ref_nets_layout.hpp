// Reference networks of the layout converters (ChannelLastModifier / ChannelFirstModifier):
// upstream's small_cl_resnet (the channel-last twin of small_bn_resnet, docs/nnabla-semantics.md §8.2) in
// 1-D, 2-D and 3-D, and a "zoo" net with every op the converters must handle correctly
// (docs/nnabla-semantics.md §10.8): grouped and dilated convolutions, a grouped Deconvolution with
// output_padding, BN without scale, Concatenate on the channel axis with a parameter operand, Softmax over
// channels, Mul2 by a per-channel parameter, a depthwise convolution, a Transpose, a Reshape,
// GlobalAveragePooling and two Affines in a row.
#pragma once

#include "ref_nets.hpp"

namespace ref {

template <int Dims>
constexpr shape_t image_shape_cl(std::int64_t c = 3) {
    if constexpr (Dims == 1)
        return {1, 32, c};
    else if constexpr (Dims == 2)
        return {1, 32, 32, c};
    else
        return {1, 8, 8, 8, c};
}

template <int Dims>
constexpr var conv_cl(var h, bool bias, std::string_view name) {
    return PF::convolution(
        h, 16, kdims<Dims>(3),
        {.pad = kdims<Dims>(1), .channel_last = true, .with_bias = bias, .name = pf_name(name, "conv")});
}

// small_bn_resnet written channel-last (upstream's small_cl_resnet, here for any Dims).
template <int Dims = 2, bool Test = true>
constexpr var small_cl_resnet(builder& g) {
    constexpr int cax = Dims + 1;
    var h = g.input("x", image_shape_cl<Dims>(), layout::channel_last) / 255.0;
    h = conv_cl<Dims>(h, false, "first-conv");
    h = F::relu(PF::batch_normalization(h, bn(Test, "first-bn", cax)));
    if constexpr (Dims > 1) h = F::max_pooling(h, kdims<Dims>(2), {.channel_last = true});
    for (std::string_view n : {"cb1", "cb2", "cb3", "cb4"}) {
        auto s = g.scope(n);
        var r = PF::batch_normalization(conv_cl<Dims>(h, false, "conv"), bn(Test, "bn", cax));
        h = F::relu(r + h);
    }
    if constexpr (Dims > 1) h = F::average_pooling(h, kdims<Dims>(2), {.channel_last = true});
    return PF::affine(h, 10, {.name = "fc"});
}

// Every op kind the layout converters treat specially, channel-first, input (2, 6, 9, 11).
constexpr void layout_zoo(builder& g) {
    var x = g.input("x", {2, 6, 9, 11});
    var h = PF::convolution(x, 8, {3, 3}, {.pad = {2, 1}, .dilation = {2, 1}, .group = 2, .name = "c1"});
    h = F::relu(PF::batch_normalization(h, bn(true, "bn1")));
    h = PF::deconvolution(
        h, 6, {3, 3}, {.pad = {1, 1}, .stride = {2, 2}, .group = 2, .output_padding = {1, 0}, .name = "d1"});
    auto nb = bn(true, "bn2");
    nb.no_scale = true;
    h = PF::batch_normalization(h, nb);  // (2, 6, 18, 21)
    // The depthwise convolution has no channel-last form: the converter transposes around it, so
    // `side` reaches Concatenate channel-first and is permuted there.
    var side = PF::depthwise_convolution(PF::convolution(h, 4, {1, 1}, {.name = "side"}), {3, 3},
                                         {.pad = {1, 1}, .name = "dw"});
    side = F::max_pooling(side, {2, 2}, {.ignore_border = false, .pad = {1, 0}});
    h = F::average_pooling(h, {2, 2}, {.ignore_border = false, .pad = {1, 0}, .including_pad = false});
    var p = g.parameter("cat-p", {2, 3, 10, 11});
    h = F::concatenate({h, side, p}, 1);  // (2, 13, 10, 11)
    h = F::softmax(h, 1);
    var a = g.parameter("scale/a", {1, 13, 1, 1});
    h = F::mul2(a, h);
    h = F::tanh(h);
    var t = F::transpose(h, {0, 2, 3, 1});  // to NHWC by hand: the converter composes it away
    var u = F::reshape(t, {2, 110, 13});
    g.output(PF::affine(F::sigmoid(u), 5, {.base_axis = 2, .name = "per-pixel"}));
    var gp = F::global_average_pooling(h);
    var f1 = F::relu(PF::affine(h, 7, {.name = "fc1"}));
    g.output(PF::affine(F::add2(f1, PF::affine(gp, 7, {.name = "fc-gap"})), 3, {.name = "fc2"}));
}

}  // namespace ref
