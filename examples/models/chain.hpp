// examples/models/chain.hpp
//
// chain<Blocks>: the simplest deep network, Blocks blocks of 3x3 convolution (no bias) + test-mode
// batch normalization + ReLU on a small (1, 16, 8, 8) input, written as examples/models/resnet.hpp
// writes its layers (scopes "block<i>/conv", "block<i>/bn"). 8 Blocks + 1 nodes: per block the
// convolution, its weight, the batch norm, its four statistics and the ReLU.
//
// Why: it isolates how compile time grows with the number of nodes (bench/compile_scaling.sh fits
// the exponent over chain-50 .. chain-400, i.e. 401 .. 3,201 nodes); the arithmetic is tiny, so the
// executors' kernels add little beyond the per-node cost.
#pragma once

#include "resnet.hpp"

namespace kata::models {

template <int Blocks, bool ChannelLast = false>
constexpr var chain_net(builder& g) {
    var h = ChannelLast ? g.input("x", {1, 8, 8, 16}, layout::channel_last) : g.input("x", {1, 16, 8, 8});
    for (int b = 0; b < Blocks; ++b) {
        name_string scope("block");
        scope.append_int(b);
        h = detail::conv_bn<ChannelLast>(h, 16, 3, 1, scope.view());
    }
    return h;
}

}  // namespace kata::models
