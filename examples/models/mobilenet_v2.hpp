// examples/models/mobilenet_v2.hpp
//
// A MobileNetV2-like network (torchvision's mobilenet_v2, width 1.0, 224x224) as a kata graph: the
// benchmark's depthwise-convolution workload (bench/suite_worker.cpp).
//
//   stem   conv 3x3/2 3 -> 32, BN, act
//   17 inverted residual blocks "blocks/<i>" (expansion t, output c, repeats n, first stride s):
//          (1,16,1,1) (6,24,2,2) (6,32,3,2) (6,64,4,2) (6,96,3,1) (6,160,3,2) (6,320,1,1)
//          each: [expand 1x1 -> t*cin, BN, act] (absent when t = 1), dw 3x3/s depthwise
//          (a Convolution with group = channels), BN, act, project 1x1 -> c, BN (linear); + input
//          when stride 1 and cin == c
//   head   conv 1x1 320 -> 1280, BN, act; global average pooling; fc/affine 1280 -> 1000 (dropout omitted:
//          inference)
//
// The activation is ReLU, not torchvision's ReLU6: kata has no ReLU6 (clip) yet (issue #17).
// >>> ReLU6 SWITCH: once kata has ReLU6, implement it in `act` below, instantiate mobilenet_v2_net
// >>> with Relu6 = true (bench/suite_worker.cpp does so when built with -DKATA_SUITE_RELU6=1, i.e.
// >>> KATA_BENCH_RELU6=1 bash tools/bench_suite.sh) and export the PyTorch twin with --relu6
// >>> (bench/suite_export.py; the same environment variable does it).
//
// Parameter names: "stem/conv/W", "blocks/3/expand/bn/gamma", "blocks/3/dw/conv/W",
// "blocks/3/project/conv/W", "head/bn/var", "fc/affine/W" (1280, 1000), ... (conv_bn.hpp).
#pragma once

#include "conv_bn.hpp"

namespace kata::models {

template <bool Relu6>
constexpr var mobilenet_v2_act(var x) {
    static_assert(!Relu6, "mobilenet_v2: kata has no ReLU6 yet (issue #17); build the benchmark with ReLU");
    return F::relu(x);
}

template <bool Relu6 = false>
constexpr var mobilenet_v2(var x) {
    builder& g = *x.g;
    const conv_bn_options linear{.relu = false};
    var h = mobilenet_v2_act<Relu6>(conv_bn(x, 32, 3, "stem", {.stride = 2, .relu = false}));
    struct stage {
        std::int64_t t, c, n, s;
    };
    constexpr stage stages[] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                                {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
    std::int64_t cin = 32;
    int block = 0;
    {
        auto bs = g.scope("blocks");
        for (const stage& st : stages) {
            for (std::int64_t r = 0; r < st.n; ++r, ++block) {
                auto s = g.scope(index_names[block]);
                const std::int64_t stride = r == 0 ? st.s : 1;
                const std::int64_t hidden = cin * st.t;
                var y = h;
                if (st.t != 1) y = mobilenet_v2_act<Relu6>(conv_bn(y, hidden, 1, "expand", linear));
                y = mobilenet_v2_act<Relu6>(
                    conv_bn(y, hidden, 3, "dw", {.stride = stride, .group = hidden, .relu = false}));
                y = conv_bn(y, st.c, 1, "project", linear);
                h = (stride == 1 && cin == st.c) ? y + h : y;
                cin = st.c;
            }
        }
    }
    h = mobilenet_v2_act<Relu6>(conv_bn(h, 1280, 1, "head", linear));
    h = F::global_average_pooling(h);
    auto fc = g.scope("fc");
    return PF::affine(h, 1000);
}

// A complete network definition: kata::network<kata::models::mobilenet_v2_net<1>>.
template <int Batch, bool Relu6 = false>
constexpr var mobilenet_v2_net(builder& g) {
    return mobilenet_v2<Relu6>(g.input("x", {Batch, 3, 224, 224}));
}

}  // namespace kata::models
