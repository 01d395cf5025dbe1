// kata/embedded/host/quantize.hpp
//
// HOST-ONLY (allocates, throws): the quantization step of the int8 embedded path (issue #14 point 3).
// From a float network's parameters and activation ranges measured on sample inputs (calibration) it
// produces what a quantized layer of kata/embedded/quantized.hpp reads: int8 weights with one scale per
// output channel, int32 biases, and a fixed-point requantization (multiplier, shift) per output
// channel. The recipe, step by step (tools/fixtures/make_int8_fixtures.py implements the same recipe
// independently in numpy, and the tests compare the two):
//
//   1. BatchNormalization folding (test mode) into the preceding convolution, in double precision:
//        k[o] = gamma[o] / sqrt(var[o] + eps);  W'[o] = float(W[o] k[o]);  b'[o] = float((b[o] - mean[o]) k[o] + beta[o])
//   2. activation scales: s = max over the calibration set of |a| / 127 (a: the layer's output after
//      the ReLU that follows it, if any), input scale given (1/127 for images in [0, 1]);
//   3. weight scales per output channel: s_w[o] = float(max|W'[o]| / 127) (1 for an all-zero channel),
//      int8 codes W_q = FixedPointQuantize(W'[o]; signed, n = 8, delta = s_w[o]) / s_w[o]: the value rule
//      of kata's fixed-point weight converter (kata/converters/legacy/fixed_point_weight_converter.hpp,
//      derivation_kind::fixed_point: float32, round half away from zero, clamp to +-127 delta);
//   4. bias: b_q[o] = round_half_away(b'[o] / (s_x s_w[o])) (double), int32;
//   5. requantization: M[o] = s_x s_w[o] / s_y (double) = f 2^e with f in [0.5, 1) (frexp); multiplier
//      m = round_half_away(f 2^31) (2^31 -> 2^30, e + 1), shift r = 31 - e; requires 1 <= r <= 62.
//   6. inputs: x_q = clamp(round_half_away(x / s_x), -127, 127).
#pragma once

#include "../../detail/xtensor_fix.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "../../converters/legacy/fixed_point_weight_converter.hpp"

namespace kata::embedded::host {

class quantize_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// One quantized inner-product layer: the parameters of kata::embedded::quantized::{convolution,affine}.
struct quantized_layer {
    std::vector<std::int8_t> W;         // the float W's layout
    std::vector<std::int32_t> b;        // (O)
    std::vector<std::int32_t> requant;  // (2, O): multipliers, then shifts
    std::vector<float> weight_scale;    // s_w (O)
    double input_scale = 0, output_scale = 0;
};

inline double round_half_away(double v) { return v < 0 ? -std::floor(-v + 0.5) : std::floor(v + 0.5); }

// Step 1: W (O, ...) and b (O) of a convolution followed by a test-mode BatchNormalization over axis 1.
inline void fold_batch_normalization(std::span<float> W, std::span<float> b, std::span<const float> beta,
                                     std::span<const float> gamma, std::span<const float> mean,
                                     std::span<const float> var, double eps) {
    const std::size_t O = b.size();
    if (beta.size() != O || gamma.size() != O || mean.size() != O || var.size() != O || W.size() % O != 0)
        throw quantize_error("kata::embedded::host::fold_batch_normalization: " + std::to_string(O) +
                             " output channels, but BN statistics of other sizes");
    const std::size_t per = W.size() / O;
    for (std::size_t o = 0; o < O; ++o) {
        const double k = double(gamma[o]) / std::sqrt(double(var[o]) + eps);
        for (std::size_t i = 0; i < per; ++i) W[o * per + i] = float(double(W[o * per + i]) * k);
        b[o] = float((double(b[o]) - double(mean[o])) * k + double(beta[o]));
    }
}

namespace detail {

// The fixed-point converter's value rule needs a source table; here the source is one array.
class one_source final : public derivation_sources {
public:
    explicit one_source(std::span<const float> v) : v_(v) {}
    derivation_source find(std::string_view) const override { return {v_.data(), v_.size(), shape_t{}}; }
    [[noreturn]] void fail(const std::string& message) const override { throw quantize_error(message); }

private:
    std::span<const float> v_;
};

// FixedPointQuantize(values; signed, n = 8, delta) through the converter's value rule.
inline std::vector<float> fixed_point(std::span<const float> values, double delta) {
    derivation d;
    d.kind = derivation_kind::fixed_point;
    d.target = name_string("quantized");
    d.shape = shape_t{std::int64_t(values.size())};
    d.sources[src_w] = name_string("W");
    d.fp_sign = true;
    d.fp_n = 8;
    d.fp_delta = delta;
    std::vector<float> out(values.size());
    derivation_rule<derivation_kind::fixed_point>::compute(d, one_source(values), out);
    return out;
}

}  // namespace detail

// Step 5: M = m 2^-r.
inline void requantization(double M, std::int32_t& m, std::int32_t& r) {
    if (!(M > 0) || !std::isfinite(M))
        throw quantize_error("kata::embedded::host::requantization: scale ratio " + std::to_string(M) +
                             " is not a positive finite number");
    int e = 0;
    const double f = std::frexp(M, &e);
    double q = round_half_away(std::ldexp(f, 31));
    if (q >= 2147483648.0) {
        q /= 2;
        ++e;
    }
    m = std::int32_t(q);
    r = 31 - e;
    if (r < 1 || r > 62)
        throw quantize_error("kata::embedded::host::requantization: scale ratio " + std::to_string(M) +
                             " needs a shift outside [1, 62]");
}

// Steps 3-5 for one layer. `W` holds O output channels; `out_stride`/`in_stride`: element strides of the
// output channel and of the rest (Convolution (O, C, k, k): O = W.size()/per, stride per, 1; Affine
// (K, O): stride 1, O).
inline quantized_layer quantize_layer(std::span<const float> W, std::span<const float> b, std::size_t O,
                                      bool output_axis_first, double input_scale, double output_scale) {
    if (O == 0 || W.size() % O != 0 || b.size() != O)
        throw quantize_error("kata::embedded::host::quantize_layer: W of " + std::to_string(W.size()) +
                             " values and b of " + std::to_string(b.size()) + " for " + std::to_string(O) +
                             " outputs");
    const std::size_t per = W.size() / O;
    auto at = [&](std::size_t o, std::size_t i) { return output_axis_first ? o * per + i : i * O + o; };
    quantized_layer q;
    q.input_scale = input_scale;
    q.output_scale = output_scale;
    q.W.resize(W.size());
    q.b.resize(O);
    q.requant.resize(2 * O);
    q.weight_scale.resize(O);
    std::vector<float> channel(per);
    for (std::size_t o = 0; o < O; ++o) {
        double mx = 0;
        for (std::size_t i = 0; i < per; ++i) {
            channel[i] = W[at(o, i)];
            mx = std::max(mx, std::fabs(double(channel[i])));
        }
        const float sw = mx > 0 ? float(mx / 127.0) : 1.0f;
        q.weight_scale[o] = sw;
        const std::vector<float> fq = detail::fixed_point(channel, double(sw));
        for (std::size_t i = 0; i < per; ++i)
            q.W[at(o, i)] = std::int8_t(std::lround(double(fq[i]) / double(sw)));
        const double acc_scale = input_scale * double(sw);
        const double bq = round_half_away(double(b[o]) / acc_scale);
        if (std::fabs(bq) > 2147483647.0)
            throw quantize_error("kata::embedded::host::quantize_layer: bias " + std::to_string(b[o]) +
                                 " does not fit int32 at scale " + std::to_string(acc_scale));
        q.b[o] = std::int32_t(bq);
        requantization(acc_scale / output_scale, q.requant[o], q.requant[O + o]);
    }
    return q;
}

// Step 6.
inline std::int8_t quantize_input(float x, double scale) {
    const double v = round_half_away(double(x) / scale);
    return std::int8_t(v > 127 ? 127 : (v < -127 ? -127 : v));
}

// Step 2: s = max |a| / 127 (1 when all activations are 0).
inline double activation_scale(double max_abs) { return max_abs > 0 ? max_abs / 127.0 : 1.0; }

}  // namespace kata::embedded::host
