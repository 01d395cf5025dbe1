// examples/models/conv_bn.hpp
//
// The convolution + batch normalization (+ ReLU) unit that the benchmark models (mobilenet_v2.hpp,
// resnext.hpp) are made of, with every convolution option they need (stride, dilation, groups).
//
// Parameter names: the unit opens scope `name` and creates "<name>/conv/W" (no bias: the BN follows)
// and "<name>/bn/{beta,gamma,mean,var}" (shape (1, C, 1, 1)). The PyTorch twins of these models
// (bench/suite_models.py) mirror this tree as modules `<name>.conv` (Conv2d) and `<name>.bn`
// (BatchNorm2d), so that weights move between the two by the mechanical rename described there.
#pragma once

#include <kata/kata.hpp>

namespace kata::models {

struct conv_bn_options {
    std::int64_t stride = 1;
    std::int64_t dilation = 1;
    std::int64_t group = 1;
    bool relu = true;
};

// Convolution k x k (padding dilation * (k - 1) / 2: "same" size at stride 1) + test-mode batch
// normalization over the channel axis 1 (+ ReLU). Channel-first, as written by a user; the deploy
// path converts it (BN folding, channel-last).
constexpr var conv_bn(var x, std::int64_t outmaps, std::int64_t k, std::string_view name,
                      conv_bn_options o = {}) {
    auto s = x.g->scope(name);
    const std::int64_t p = o.dilation * (k - 1) / 2;
    var h = PF::convolution(x, outmaps, {k, k},
                            {.pad = {p, p},
                             .stride = {o.stride, o.stride},
                             .dilation = {o.dilation, o.dilation},
                             .group = o.group,
                             .with_bias = false});
    pf_batch_normalization_args bn{};
    bn.batch_stat = false;
    h = PF::batch_normalization(h, bn);
    return o.relu ? F::relu(h) : h;
}

// Scope names of numbered blocks ("0", "1", ...), as PyTorch's nn.Sequential names its children.
inline constexpr std::string_view index_names[] = {"0",  "1",  "2",  "3",  "4",  "5",  "6",
                                                   "7",  "8",  "9",  "10", "11", "12", "13",
                                                   "14", "15", "16", "17", "18", "19"};

}  // namespace kata::models
