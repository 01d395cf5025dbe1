// examples/models/lenet_int8.hpp: the int8 twin of examples/models/lenet.hpp for the embedded back end
// (issue #14 point 3; kata/embedded/quantized.hpp states the arithmetic).
//
//   x int8 (B, 1, 28, 28) -> conv1 (6, 5x5; BN folded in) -> ReLU -> max-pool 2 -> conv2 (16, 5x5; BN
//   folded in) -> ReLU -> max-pool 2 -> fc1 (256 -> 120) -> ReLU -> fc2 (120 -> 84) -> ReLU -> fc3 (84 -> 10)
//
// Every activation is int8 (one byte per element in the memory plan); each quantized layer reads
// "<layer>/W" (int8), "<layer>/b" (int32) and "<layer>/requant" (int32 (2, O): multipliers, shifts). The
// values come from kata::embedded::host::quantize_lenet (kata/embedded/host/quantize.hpp), which folds
// the float network's BatchNormalization into conv1/conv2 and calibrates the scales.
#pragma once

#include <kata/embedded/quantized.hpp>
#include <kata/kata.hpp>

namespace kata::models {

template <std::int64_t Batch>
constexpr var lenet_int8(builder& g) {
    namespace Q = kata::embedded::quantized;
    auto x = g.input("x", {Batch, 1, 28, 28}, layout::none, dtype::i8);
    auto h = F::max_pooling(F::relu(Q::convolution(x, "conv1", 6, {5, 5})), {2, 2});  // (B, 6, 12, 12)
    h = F::max_pooling(F::relu(Q::convolution(h, "conv2", 16, {5, 5})), {2, 2});      // (B, 16, 4, 4)
    h = F::relu(Q::affine(h, "fc1", 120));
    h = F::relu(Q::affine(h, "fc2", 84));
    return Q::affine(h, "fc3", 10);  // int8 logits (scale: the quantizer's output scale)
}

}  // namespace kata::models
