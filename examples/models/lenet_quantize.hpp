// examples/models/lenet_quantize.hpp: HOST-ONLY quantization of examples/models/lenet.hpp's float
// parameters into those of its int8 twin examples/models/lenet_int8.hpp (issue #14 point 3), with the
// generic value side of kata::Int8QuantizationModifier (kata/embedded/host/quantize.hpp): BN folding
// through the calibration conversion's derivations, calibration on kata's CPU executor over 64-image
// batches, per-channel int8 weights, int32 biases and fixed-point requantization. The only LeNet-specific
// choice is the input scale 1/127 (pixels in [0, 1]).
// Used by the tool tools/quantize_lenet.cpp (lenet_fashion.npz -> lenet_int8.npz at build time, for the
// firmware) and by tests/embedded/int8_lenet.cpp.
#pragma once

#include <kata/detail/xtensor_fix.hpp>

#include <kata/cpu.hpp>
#include <kata/embedded/host/quantize.hpp>
#include <kata/io/npz.hpp>

#include "lenet_int8.hpp"

namespace kata::models {

inline constexpr std::int64_t lenet_calibration_batch = 64;
inline constexpr double lenet_input_scale = 1.0 / 127.0;  // pixels in [0, 1]

struct lenet_int8_parameters {
    embedded::host::int8_values values;
    embedded::host::calibration ranges;
    double input_scale() const { return values.input_scale; }
    double output_scale() const { return values.output_scales.at(0); }
};

// `store`: LeNet's float parameters (the BN-folded ones are added to it); `calibration`: N x 64 images
// (N, 1, 28, 28) with values in [0, 1].
inline lenet_int8_parameters quantize_lenet(parameter_store& store, const xt::xarray<float>& calibration) {
    using Calib = lenet_calibration<lenet_calibration_batch>;
    apply_conversion<Calib>(store);
    lenet_int8_parameters q;
    q.ranges = embedded::host::calibrate<Calib>(store, calibration);
    q.values = embedded::host::quantize_int8<lenet_int8<1>, Calib>(store, q.ranges, lenet_input_scale);
    return q;
}

}  // namespace kata::models
