// examples/models/lenet_int8.hpp: the int8 LeNet of the embedded back end (issue #14 point 3), DERIVED
// from the float LeNet (examples/models/lenet.hpp) by kata::Int8QuantizationModifier
// (kata/converters/int8_quantization.hpp): bn1/bn2 folded into conv1/conv2, then
//
//   x int8 (B, 1, 28, 28) -> conv1 QConvolution (6, 5x5) -> ReLU -> max-pool 2 -> conv2 QConvolution
//   (16, 5x5) -> ReLU -> max-pool 2 -> fc1 QAffine (256 -> 120) -> ReLU -> fc2 QAffine (120 -> 84) -> ReLU
//   -> fc3 QAffine (84 -> 10)
//
// Every activation is int8 (one byte per element in the memory plan); each layer reads "<layer>/W_q"
// (int8), "<layer>/b_q" (int32) and "<layer>/requant" (int32 (2, O): multipliers, shifts), computed by
// kata::embedded::host::quantize_int8 (examples/models/lenet_quantize.hpp, tools/quantize_lenet.cpp).
#pragma once

#include <kata/converters/int8_quantization.hpp>
#include <kata/kata.hpp>

#include "lenet.hpp"

namespace kata::models {

// Through a class template: g++ 12 rejects kata::convert<network<lenet<Batch>>, ...> written directly in an
// alias template (the dependent function-pointer argument is not resolved there).
template <std::int64_t Batch>
struct lenet_int8_types {
    using int8 = kata::convert<network<lenet<Batch>>, Int8QuantizationModifier{}>;
    using calibration = kata::convert<network<lenet<Batch>>, Int8CalibrationModifier{}>;
};

template <std::int64_t Batch>
using lenet_int8 = typename lenet_int8_types<Batch>::int8;

// The calibration twin (same BN folding, one output per layer's scale point, then the logits).
template <std::int64_t Batch>
using lenet_calibration = typename lenet_int8_types<Batch>::calibration;

}  // namespace kata::models
