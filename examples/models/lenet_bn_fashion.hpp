// examples/models/lenet_bn_fashion.hpp: the LeNet with BatchNormalization that
// examples/train_fashion_mnist.cpp trains on Fashion-MNIST, in one place so that the epoch-time
// benchmark against PyTorch (bench/train_fashion_mnist_epoch.cpp, bench/fashion_mnist_vs_torch.py) times
// exactly the trained network.
//
//   x (B, 1, 28, 28) -> conv1 5x5, 32 maps, pad 2 -> bn1 -> relu -> maxpool 2   (B, 32, 14, 14)
//                    -> conv2 5x5, 64 maps        -> bn2 -> relu -> maxpool 2   (B, 64, 5, 5)
//                    -> fc1 affine 256 -> relu -> fc2 affine 10                 (B, 10)
//
// Wider than the 1998 LeNet (32 and 64 maps). Test = true: BatchNormalization with its running
// statistics (evaluation); false: batch statistics (training).
#pragma once

#include <kata/pf.hpp>

#include <cstdint>

namespace kata::models {

template <bool Test, std::int64_t Batch>
constexpr var lenet_bn_fashion(builder& g) {
    auto x = g.input("x", {Batch, 1, 28, 28});
    auto h = PF::convolution(x, 32, {5, 5}, {.pad = {2, 2}, .name = "conv1"});
    h = PF::batch_normalization(h, {.batch_stat = !Test, .name = "bn1"});
    h = F::max_pooling(F::relu(h), {2, 2});
    h = PF::convolution(h, 64, {5, 5}, {.name = "conv2"});
    h = PF::batch_normalization(h, {.batch_stat = !Test, .name = "bn2"});
    h = F::max_pooling(F::relu(h), {2, 2});
    h = F::relu(PF::affine(h, 256, {.name = "fc1"}));
    return PF::affine(h, 10, {.name = "fc2"});
}

}  // namespace kata::models
