// kata/embedded/quantized.hpp
//
// int8 networks for the embedded back end (issue #14 point 3): per-channel weight scales, int8
// activations, int32 accumulation, a fixed-point requantization per output channel.
//
// A quantized network is an ordinary kata graph whose activations are int8 (dtype::i8 flows from the
// int8 graph input through every function, kata/core/builder.hpp), so the memory plan, the
// live-activation bound and the static arena count one byte per activation. Its inner-product layers
// are built by the two functions below; ReLU and pooling are the ordinary F:: ops on int8 tensors:
//
//     auto x = g.input("x", {1, 1, 28, 28}, layout::none, kata::dtype::i8);
//     auto h = F::max_pooling(F::relu(kata::embedded::quantized::convolution(x, "conv1", 6, {5, 5})), {2, 2});
//     ...
//     return kata::embedded::quantized::affine(h, "fc3", 10);
//
// A quantized Convolution / Affine node reads four inputs:
//   x       int8 (B, C, H, W) / (B, K...)      real value = s_x * x
//   W       int8 "<scope>/W", nnabla layout     real value = s_w[o] * W (symmetric, per output channel)
//   b       int32 "<scope>/b" (O)               real value = s_x * s_w[o] * b
//   requant int32 "<scope>/requant" (2, O)      row 0: multiplier m[o] in [2^30, 2^31), row 1: shift r[o]
// and computes acc[o] = b[o] + sum x * W (int32), y[o] = requantize(acc[o], m[o], r[o]) (int8), where
// m[o] 2^-r[o] approximates s_x s_w[o] / s_y. Why an integer multiplier and shift instead of a float
// scale: the result is exact integer arithmetic, identical on every target (host, Cortex-M4, M55) and
// in the independent numpy reference (tools/fixtures/make_int8_fixtures.py), so they are compared bit
// for bit; it is also what int8 hardware paths (CMSIS-NN, TFLite Micro) do. Zero points are 0
// (symmetric activations): ReLU is max(x, 0) and max pooling is a max on the int8 codes, both
// scale-preserving. Where a ReLU follows the layer, the calibration picks s_y from the ReLU's output
// range (negative values saturate at -128 and the ReLU zeroes them anyway).
//
// The values (int8 weights, int32 biases, multipliers, shifts, scales) come from the quantization step
// kata/embedded/host/quantize.hpp (host only: calibration on sample inputs, per-channel weight
// quantization with the fixed-point converter's value rule).
#pragma once

#include <cstdint>
#include <string_view>

#include "../core/builder.hpp"
#include "../ops/affine.hpp"
#include "../ops/convolution.hpp"
#include "kernel.hpp"

namespace kata::embedded::quantized {

// Parameter names of a quantized layer under `scope`.
inline constexpr std::string_view weight_leaf = "W", bias_leaf = "b", requant_leaf = "requant";

namespace detail {

// Appends the requantization table as the fourth input of the node `y` just built (its edges are the
// last ones of the builder: the parameters were created before it).
constexpr var with_requant(var y, var rq) {
    builder& g = *y.g;
    node& n = g.nodes[std::size_t(y.id)];
    if (n.first_input + n.num_inputs != int(g.edges.size())) {
        g.fail(message_string("kata::embedded::quantized: internal error: the layer's edges are not last"));
        return y;
    }
    g.edges.push_back(rq.id);
    n.num_inputs += 1;
    return y;
}

constexpr void set_type(var v, dtype t) { v.g->nodes[std::size_t(v.id)].type = t; }

}  // namespace detail

// int8 Convolution (2-D, channel-first, no padding, stride 1: what the embedded int8 kernel runs) with
// `outmaps` output channels and kernel `kernel`, parameters under `scope`.
constexpr var convolution(var x, std::string_view scope, std::int64_t outmaps, shape_t kernel) {
    builder& g = *x.g;
    auto guard = g.scope(scope);
    shape_t ws{outmaps, x.shape().dims[1]};
    for (int i = 0; i < kernel.rank; ++i) ws.push_back(kernel.dims[i]);
    const var w = g.parameter(weight_leaf, ws, {}, false);
    const var b = g.parameter(bias_leaf, {outmaps}, {}, false);
    const var rq = g.parameter(requant_leaf, {2, outmaps}, {}, false);
    detail::set_type(w, dtype::i8);
    detail::set_type(b, dtype::i32);
    detail::set_type(rq, dtype::i32);
    return detail::with_requant(F::convolution(x, w, b), rq);
}

// int8 Affine (x flattened from axis 1) with `outputs` outputs, parameters under `scope`.
constexpr var affine(var x, std::string_view scope, std::int64_t outputs) {
    builder& g = *x.g;
    auto guard = g.scope(scope);
    const var w = g.parameter(weight_leaf, {x.shape().prod_from(1), outputs}, {}, false);
    const var b = g.parameter(bias_leaf, {outputs}, {}, false);
    const var rq = g.parameter(requant_leaf, {2, outputs}, {}, false);
    detail::set_type(w, dtype::i8);
    detail::set_type(b, dtype::i32);
    detail::set_type(rq, dtype::i32);
    return detail::with_requant(F::affine(x, w, b), rq);
}

// y = clamp(round(acc * m 2^-r), -128, 127) with round half up: (acc m + 2^(r-1)) >> r in 64-bit
// arithmetic (C++20: >> of a negative value is an arithmetic shift). r in [1, 62]. The kernels'
// function (kata/embedded/kernel.hpp).
using embedded::detail::requantize;

}  // namespace kata::embedded::quantized
