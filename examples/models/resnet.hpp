// examples/models/resnet.hpp
//
// The bottleneck ResNets (50, 101, 152 layers) as kata graphs, in the layout of nnabla's
// models.imagenet.ResNet / torchvision's resnet50/101/152 (v1.5: the stride of a down-sampling
// bottleneck is on its 3x3 convolution). ResNet-50 is examples/models/resnet50.hpp's network (that
// header includes this one); the deeper ones differ only in their block counts per stage:
//     ResNet-50 {3, 4, 6, 3}, ResNet-101 {3, 4, 23, 3}, ResNet-152 {3, 8, 36, 3}.
// Why they are here: bench/compile_scaling.sh measures how compile time grows with the graph, and
// these are the graphs of that size that users write (ResNet-152: 1,292 nodes).
//
// Parameter names follow torchvision's module tree with nnabla-style parametric scopes, e.g.
// "layer2/0/conv2/conv/W", "layer3/22/downsample/bn/mean", "fc/affine/W", so that weights can be
// moved from a PyTorch state_dict by a mechanical rename (tools/fixtures/resnet50_reference.py).
//
// Template arguments: the block counts, batch size and whether the network is built channel-last (NHWC).
#pragma once

#include <kata/kata.hpp>

namespace kata::models {

namespace detail {

template <bool CL>
constexpr var conv_bn(var x, std::int64_t outmaps, std::int64_t k, std::int64_t stride, std::string_view name,
                      bool relu = true, bool test = true) {
    auto s = x.g->scope(name);
    const std::int64_t p = k / 2;
    var h = CL ? PF::convolution(
                     x, outmaps, {k, k},
                     {.pad = {p, p}, .stride = {stride, stride}, .channel_last = true, .with_bias = false})
               : PF::convolution(x, outmaps, {k, k},
                                 {.pad = {p, p}, .stride = {stride, stride}, .with_bias = false});
    pf_batch_normalization_args bn{};
    bn.axes[0] = CL ? 3 : 1;
    bn.batch_stat = !test;
    h = PF::batch_normalization(h, bn);
    return relu ? F::relu(h) : h;
}

template <bool CL>
constexpr var bottleneck(var x, std::int64_t planes, std::int64_t stride, bool downsample, bool test) {
    var h = conv_bn<CL>(x, planes, 1, 1, "conv1", true, test);
    h = conv_bn<CL>(h, planes, 3, stride, "conv2", true, test);
    h = conv_bn<CL>(h, planes * 4, 1, 1, "conv3", false, test);
    var shortcut = x;
    if (downsample) shortcut = conv_bn<CL>(x, planes * 4, 1, stride, "downsample", false, test);
    return F::relu(h + shortcut);
}

// The scope of block b of a stage: "0", "1", ... (torchvision's Sequential indices).
constexpr name_string block_name(int b) {
    name_string s;
    s.append_int(b);
    return s;
}

}  // namespace detail

// The network body on an existing input (224x224 images; other sizes work if they survive the
// five stride-2 stages). B0..B3: bottleneck blocks of layer1..layer4.
template <int B0, int B1, int B2, int B3, bool ChannelLast = false>
constexpr var resnet(var x, bool test = true) {
    builder& g = *x.g;
    constexpr bool CL = ChannelLast;
    var h = detail::conv_bn<CL>(x, 64, 7, 2, "conv1", true, test);
    h = F::max_pooling(h, {3, 3}, {.stride = {2, 2}, .pad = {1, 1}, .channel_last = CL});
    constexpr std::int64_t planes[4] = {64, 128, 256, 512};
    constexpr int blocks[4] = {B0, B1, B2, B3};
    constexpr std::string_view layer_names[4] = {"layer1", "layer2", "layer3", "layer4"};
    for (int l = 0; l < 4; ++l) {
        auto ls = g.scope(layer_names[l]);
        for (int b = 0; b < blocks[l]; ++b) {
            const name_string block = detail::block_name(b);
            auto bs = g.scope(block.view());
            h = detail::bottleneck<CL>(h, planes[l], (b == 0 && l > 0) ? 2 : 1, b == 0, test);
        }
    }
    if constexpr (CL) {
        // Global average pooling over H, W of an NHWC tensor: average pooling with the full window.
        h = F::average_pooling(h, {h.shape()[1], h.shape()[2]}, {.channel_last = true});
    } else {
        h = F::global_average_pooling(h);
    }
    auto fc = g.scope("fc");
    return PF::affine(h, 1000);  // parameters fc/affine/W (2048, 1000) and fc/affine/b
}

template <bool ChannelLast = false>
constexpr var resnet50(var x, bool test = true) {
    return resnet<3, 4, 6, 3, ChannelLast>(x, test);
}
template <bool ChannelLast = false>
constexpr var resnet101(var x, bool test = true) {
    return resnet<3, 4, 23, 3, ChannelLast>(x, test);
}
template <bool ChannelLast = false>
constexpr var resnet152(var x, bool test = true) {
    return resnet<3, 8, 36, 3, ChannelLast>(x, test);
}

namespace detail {
template <int Batch, bool ChannelLast>
constexpr var image_input(builder& g) {
    return ChannelLast ? g.input("x", {Batch, 224, 224, 3}, layout::channel_last)
                       : g.input("x", {Batch, 3, 224, 224});
}
}  // namespace detail

// Complete network definitions: kata::network<kata::models::resnet50_net<1>>, ...
template <int Batch, bool ChannelLast = false>
constexpr var resnet50_net(builder& g) {
    return resnet50<ChannelLast>(detail::image_input<Batch, ChannelLast>(g));
}
template <int Batch, bool ChannelLast = false>
constexpr var resnet101_net(builder& g) {
    return resnet101<ChannelLast>(detail::image_input<Batch, ChannelLast>(g));
}
template <int Batch, bool ChannelLast = false>
constexpr var resnet152_net(builder& g) {
    return resnet152<ChannelLast>(detail::image_input<Batch, ChannelLast>(g));
}

}  // namespace kata::models
