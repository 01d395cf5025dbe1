// examples/models/resnext.hpp
//
// A ResNeXt-style stack with grouped AND dilated convolutions as a kata graph: the benchmark's
// grouped/dilated workload (bench/suite_worker.cpp). ResNeXt bottlenecks (1x1 reduce, 3x3 grouped with
// 32 groups, 1x1 expand, torchvision v1.5 placement of the stride on the 3x3), and a last stage that
// keeps the resolution with dilation 2 instead of a stride, as segmentation backbones do (DeepLab's
// output stride 8):
//
//   conv1   conv 7x7/2 3 -> 64, BN, ReLU; max pooling 3x3/2 pad 1          (B, 64, 56, 56) at 224x224
//   layer1  2 blocks, width 128 (32 groups of 4), out 256                  (B, 256, 56, 56)
//   layer2  2 blocks, width 256 (32 groups of 8), out 512, first stride 2  (B, 512, 28, 28)
//   layer3  2 blocks, width 256 (32 groups of 8), out 512, dilation 2      (B, 512, 28, 28)
//   global average pooling, fc/affine 512 -> 1000
//
// 3.24 GFLOP per 224x224 image (multiply-add = 2); the grouped 3x3 layers are 5.4 % of them.
// Parameter names as in resnet50.hpp: "conv1/conv/W", "layer2/0/conv2/bn/mean",
// "layer1/0/downsample/conv/W", "fc/affine/W", ... (conv_bn.hpp).
#pragma once

#include "conv_bn.hpp"

namespace kata::models {

constexpr var resnext_block(var x, std::int64_t width, std::int64_t out, std::int64_t stride,
                            std::int64_t dilation) {
    const std::int64_t cin = x.shape()[1];
    var h = conv_bn(x, width, 1, "conv1");
    h = conv_bn(h, width, 3, "conv2", {.stride = stride, .dilation = dilation, .group = 32});
    h = conv_bn(h, out, 1, "conv3", {.relu = false});
    var shortcut = x;
    if (stride != 1 || cin != out)
        shortcut = conv_bn(x, out, 1, "downsample", {.stride = stride, .relu = false});
    return F::relu(h + shortcut);
}

constexpr var resnext_dilated(var x) {
    builder& g = *x.g;
    var h = conv_bn(x, 64, 7, "conv1", {.stride = 2});
    h = F::max_pooling(h, {3, 3}, {.stride = {2, 2}, .pad = {1, 1}});
    struct stage {
        std::string_view name;
        std::int64_t width, out, stride, dilation;
    };
    constexpr stage stages[] = {
        {"layer1", 128, 256, 1, 1}, {"layer2", 256, 512, 2, 1}, {"layer3", 256, 512, 1, 2}};
    for (const stage& st : stages) {
        auto ls = g.scope(st.name);
        for (int b = 0; b < 2; ++b) {
            auto bs = g.scope(index_names[b]);
            h = resnext_block(h, st.width, st.out, b == 0 ? st.stride : 1, st.dilation);
        }
    }
    h = F::global_average_pooling(h);
    auto fc = g.scope("fc");
    return PF::affine(h, 1000);
}

// A complete network definition: kata::network<kata::models::resnext_dilated_net<1>>.
template <int Batch>
constexpr var resnext_dilated_net(builder& g) {
    return resnext_dilated(g.input("x", {Batch, 3, 224, 224}));
}

}  // namespace kata::models
