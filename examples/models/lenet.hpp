// examples/models/lenet.hpp: LeNet built with kata's parametric function CLASSES (nnabla
// experimental.parametric_function_class style), used by examples/lenet_save_load.cpp and
// tests/examples/lenet_save_load.cpp.
//
//   x (B, 1, 28, 28) -> conv1 Conv2d(1, 6, 5x5) -> bn1 BatchNorm2d(6, eps 1e-3) -> relu -> maxpool 2
//                    -> conv2 Conv2d(6, 16, 5x5) -> bn2 BatchNorm2d(16) -> relu -> maxpool 2
//                    -> fc1 Linear(256, 120) -> relu -> fc2 Linear(120, 84) -> relu -> fc3 Linear(84, 10)
//
// Parameters (creation order = saved order): conv1/{W,b}, bn1/{beta,gamma,mean,var}, conv2/{W,b},
// bn2/{beta,gamma,mean,var}, fc1/{W,b}, fc2/{W,b}, fc3/{W,b}. Batch norm runs in test mode
// (running statistics), so a forward pass changes no parameter.
#pragma once

#include <kata/kata.hpp>

namespace kata::models {

template <std::int64_t Batch>
constexpr var lenet(builder& g) {
    Conv2d conv1(1, 6, {5, 5}, {.name = "conv1"});
    BatchNorm2d bn1(6, {.name = "bn1", .eps = 1e-3});
    Conv2d conv2(6, 16, {5, 5}, {.name = "conv2"});
    BatchNorm2d bn2(16, {.name = "bn2"});
    Linear fc1(16 * 4 * 4, 120, {.name = "fc1"});
    Linear fc2(120, 84, {.name = "fc2"});
    Linear fc3(84, 10, {.name = "fc3"});

    auto x = g.input("x", {Batch, 1, 28, 28});
    auto h = F::max_pooling(F::relu(bn1(conv1(x), /*test=*/true)), {2, 2});  // (B, 6, 12, 12)
    h = F::max_pooling(F::relu(bn2(conv2(h), /*test=*/true)), {2, 2});       // (B, 16, 4, 4)
    h = F::relu(fc1(h));                                                     // Affine flattens from axis 1
    h = F::relu(fc2(h));
    return fc3(h);  // (B, 10)
}

}  // namespace kata::models
