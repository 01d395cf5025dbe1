// kata/embedded/host/quantize.hpp
//
// HOST-ONLY (allocates, throws): the value side of int8 quantization (issue #14 point 3). The structure
// is kata::Int8QuantizationModifier's (kata/converters/int8_quantization.hpp: Convolution/Affine ->
// QConvolution/QAffine, kata/ops/quantized.hpp states the arithmetic); this header computes what those
// layers read, from the float network's parameters and the activation ranges a calibration run measured:
// int8 weights with one scale per output channel, int32 biases, and a fixed-point requantization
// (multiplier, shift) per output channel. For any network:
//
//     using Calib = kata::convert<kata::network<net<64>>, kata::Int8CalibrationModifier{}>;
//     using Int8  = kata::convert<kata::network<net<1>>, kata::Int8QuantizationModifier{}>;
//     kata::apply_conversion<Calib>(store);                       // step 1
//     auto ranges = kata::embedded::host::calibrate<Calib>(store, images);   // step 2, CPU executor
//     auto q = kata::embedded::host::quantize_int8<Int8, Calib>(store, ranges, 1.0 / 127);  // steps 3-5
//     kata::exec::executor<Int8, kata::embedded::backend, kata::exec::heap_arena,
//                          kata::embedded::host::int8_source> run(kata::embedded::host::int8_source{&q});
//     kata::io::save_npz("int8.npz", q.items());                 // -> kata_weights_header -> firmware
//
// The recipe, step by step (tools/fixtures/make_int8_fixtures.py implements the same recipe
// independently in numpy, and tests/embedded/int8_lenet.cpp compares the two):
//   1. BatchNormalization folding (test mode) into the preceding layer by the BN-folding converter's
//      value rules (kata/converters/batch_normalization_folding_inner.hpp), in double precision:
//        c0 = gamma / sqrt(var + eps);  W' = float(W c0);  b' = float(beta - mean c0 + c0 b)
//   2. activation scales: s = max over the calibration set of |a| / 127 (a: the layer's output after
//      the ReLU that is its only consumer, if any, else its output); input scale given (1/127 for
//      images in [0, 1]) or max |x| / 127 over the calibration inputs;
//   3. weight scales per output channel: s_w[o] = float(max|W'[o]| / 127) (1 for an all-zero channel),
//      int8 codes W_q = FixedPointQuantize(W'[o]; signed, n = 8, delta = s_w[o]) / s_w[o]: the value rule
//      of kata's fixed-point weight converter (kata/converters/legacy/fixed_point_weight_converter.hpp,
//      derivation_kind::fixed_point: float32, round half away from zero, clamp to +-127 delta);
//   4. bias: b_q[o] = round_half_away(b'[o] / (s_x s_w[o])) (double), int32;
//   5. requantization: M[o] = s_x s_w[o] / s_y (double) = f 2^e with f in [0.5, 1) (frexp); multiplier
//      m = round_half_away(f 2^31) (2^31 -> 2^30, e + 1), shift r = 31 - e; requires 1 <= r <= 62.
//   6. inputs: x_q = clamp(round_half_away(x / s_x), -127, 127) (quantize_input).
#pragma once

#include "../../detail/xtensor_fix.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <algorithm>
#include <string_view>
#include <utility>

#include "../../converters/apply_conversion.hpp"
#include "../../converters/int8_quantization.hpp"
#include "../../converters/legacy/fixed_point_weight_converter.hpp"
#include "../../cpu.hpp"
#include "../../exec/binding.hpp"
#include "../../io/npz.hpp"

namespace kata::embedded::host {

class quantize_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// One quantized layer: the parameters of a QConvolution / QAffine (kata/ops/quantized.hpp) and its scales.
struct quantized_layer {
    std::vector<std::int8_t> W;         // the float W's layout
    std::vector<std::int32_t> b;        // (O)
    std::vector<std::int32_t> requant;  // (2, O): multipliers, then shifts
    std::vector<float> weight_scale;    // s_w (O)
    double input_scale = 0, output_scale = 0;
};

inline double round_half_away(double v) { return v < 0 ? -std::floor(-v + 0.5) : std::floor(v + 0.5); }

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

// ---- any network: the value side of kata::Int8QuantizationModifier (kata/converters/int8_quantization.hpp)

// What a calibration run measured: max |value| at each layer's scale point (the first `tap_max.size()`
// outputs of the calibration graph, in its order) and max |x| of graph input 0.
struct calibration {
    std::vector<double> tap_max;
    double input_max = 0;
};

// The int8 network's parameter values (named and typed as the int8 graph reads them), its layers'
// scales, the scale of its input codes and of each output's codes.
struct int8_values {
    struct array {
        std::string name;
        dtype type = dtype::i8;
        std::vector<std::size_t> shape;
        std::vector<std::byte> bytes;
    };
    std::vector<array> arrays;
    std::vector<std::string> layer_scopes;  // int8 graph order
    std::vector<quantized_layer> layers;
    std::vector<double> layer_max;  // the calibrated max |output| of each layer
    double input_scale = 0;
    std::vector<double> output_scales;

    const array* find(std::string_view name) const {
        for (const array& a : arrays)
            if (a.name == name) return &a;
        return nullptr;
    }
    // As .npz items (int8 "|i1", int32 "<i4"), viewing this object.
    std::vector<io::npz_item> items() const {
        std::vector<io::npz_item> v;
        for (const array& a : arrays)
            v.push_back({a.name, a.type == dtype::i8 ? io::npy_dtype::i1 : io::npy_dtype::i4, a.shape,
                         std::span<const std::byte>(a.bytes)});
        return v;
    }
};

// A parameter source (kata/exec/binding.hpp) over int8_values: the int8 graph on the host executors
// (exec::executor<Int8, embedded::backend, exec::heap_arena, int8_source>).
struct int8_source {
    const int8_values* values = nullptr;
    using handle = const int8_values::array*;
    static constexpr std::string_view description = "the int8 values (kata::embedded::host::quantize_int8)";
    handle find(std::string_view name) const { return values->find(name); }
    static exec::parameter_view view(handle h) {
        shape_t s;
        for (std::size_t d : h->shape) s.push_back(std::int64_t(d));
        return {const_cast<std::byte*>(h->bytes.data()), h->type, s, s.rank};
    }
    static void* data(handle h) { return const_cast<std::byte*>(h->bytes.data()); }
};

namespace detail {

// The number of Convolution/Affine layers of a calibration graph (= its tap outputs).
template <class G>
constexpr std::size_t layer_count(const G& g) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < g.nodes.size(); ++i)
        n += kata::detail::int8_layer_kind(g.nodes[i].op) ? 1 : 0;
    return n;
}

template <class G>
constexpr int input_of(const G& g, int node, int k) {
    return g.edges[std::size_t(g.nodes[std::size_t(node)].first_input + k)];
}

inline std::string scope_of(std::string_view key) {
    const auto p = key.rfind('/');
    return std::string(p == std::string_view::npos ? std::string_view{} : key.substr(0, p));
}

inline std::vector<float> store_values(const parameter_store& store, const std::string& name) {
    const parameter* p = store.find(name);
    if (!p)
        throw quantize_error("kata::embedded::host::quantize_int8: parameter '" + name +
                             "' missing (apply_conversion<Calib>(store) derives the BN-folded weights)");
    return std::vector<float>(p->data.data(), p->data.data() + p->data.size());
}

template <class T>
std::vector<std::byte> bytes_of(const std::vector<T>& v) {
    std::vector<std::byte> b(v.size() * sizeof(T));
    if (!v.empty()) std::memcpy(b.data(), v.data(), b.size());
    return b;
}

}  // namespace detail

// Runs the calibration graph Calib (kata::convert<Float, kata::Int8CalibrationModifier{}>) on kata's CPU
// executor over `inputs` (N x the graph input's shape along axis 0, N whole batches) and returns the
// ranges. `store` holds the float parameters with the BN-folded ones derived (apply_conversion<Calib>).
template <graph_type Calib>
calibration calibrate(parameter_store& store, const xt::xarray<float>& inputs) {
    constexpr auto& g = Calib::graph;
    constexpr std::size_t taps = detail::layer_count(g);
    static_assert(taps > 0 && taps <= g.outputs.size(),
                  "kata::embedded::host::calibrate: Calib must be converted with Int8CalibrationModifier");
    constexpr shape_t in_shape = [] {
        for (std::size_t i = 0; i < g.nodes.size(); ++i)
            if (g.nodes[i].op == op_kind::input) return g.nodes[i].shape;
        return shape_t{};
    }();
    static_assert(in_shape.rank > 0, "kata::embedded::host::calibrate: the graph has no input");
    const std::size_t per_batch = std::size_t(in_shape.numel());
    if (inputs.size() == 0 || inputs.size() % per_batch != 0)
        throw quantize_error("kata::embedded::host::calibrate: " + std::to_string(inputs.size()) +
                             " input values are not a whole number of batches of " +
                             std::to_string(per_batch));
    std::vector<std::size_t> shape;
    for (int i = 0; i < in_shape.rank; ++i) shape.push_back(std::size_t(in_shape.dims[i]));
    calibration c;
    c.tap_max.assign(taps, 0.0);
    kata::cpu::executor<Calib> run(store);
    xt::xarray<float> chunk = xt::zeros<float>(shape);
    auto amax = [](const float* p, std::size_t n, double& m) {
        for (std::size_t i = 0; i < n; ++i) m = std::max(m, std::fabs(double(p[i])));
    };
    for (std::size_t at = 0; at < inputs.size(); at += per_batch) {
        std::copy(inputs.data() + at, inputs.data() + at + per_batch, chunk.data());
        amax(chunk.data(), per_batch, c.input_max);
        run.execute(chunk);
        [&]<std::size_t... T>(std::index_sequence<T...>) {
            (amax(run.template output_data<T>(),
                  std::size_t(g.nodes[std::size_t(g.outputs[T])].shape.numel()), c.tap_max[T]),
             ...);
        }
        (std::make_index_sequence<taps>{});
    }
    return c;
}

// The int8 parameter values of Int8 (kata::convert<Float', kata::Int8QuantizationModifier{}>) from the
// BN-folded float parameters in `store` and the ranges `cal` measured with Calib (the calibration
// conversion of the same float network, any batch size): per layer the recipe of steps 2-5 above, with
// s_y = tap max / 127 and s_x the scale of the tensor the layer reads (the graph input's, or the output
// scale of the layer it comes from through ReLU / Max- or AveragePooling / Reshape / Identity). `input_scale` > 0
// fixes the input scale (1/127 for pixels in [0, 1]); 0 takes max |x| / 127 from the calibration.
template <graph_type Int8, graph_type Calib>
int8_values quantize_int8(const parameter_store& store, const calibration& cal, double input_scale = 0) {
    constexpr auto& cg = Calib::graph;
    constexpr auto& qg = Int8::graph;
    struct float_layer {
        std::string w, b;
        double max = 0, out_scale = 0;
    };
    std::vector<std::pair<std::string, float_layer>> by_scope;
    auto find_layer = [&](const std::string& scope) -> const float_layer& {
        for (const auto& [s, l] : by_scope)
            if (s == scope) return l;
        throw quantize_error("kata::embedded::host::quantize_int8: no float layer with parameter scope '" +
                             scope + "' in the calibration graph (not the same network?)");
    };
    if (cal.tap_max.size() != detail::layer_count(cg))
        throw quantize_error("kata::embedded::host::quantize_int8: " + std::to_string(cal.tap_max.size()) +
                             " calibration ranges for " + std::to_string(detail::layer_count(cg)) +
                             " layers");
    for (std::size_t t = 0; t < cal.tap_max.size(); ++t) {
        int n = cg.outputs[t];
        if (cg.nodes[std::size_t(n)].op == op_kind::relu) n = detail::input_of(cg, n, 0);
        const node& L = cg.nodes[std::size_t(n)];
        if (!kata::detail::int8_layer_kind(L.op))
            throw quantize_error("kata::embedded::host::quantize_int8: calibration output " +
                                 std::to_string(t) + " is not a layer's scale point");
        float_layer fl;
        fl.w = std::string(cg.nodes[std::size_t(detail::input_of(cg, n, 1))].name.view());
        if (L.num_inputs > 2)
            fl.b = std::string(cg.nodes[std::size_t(detail::input_of(cg, n, 2))].name.view());
        fl.max = cal.tap_max[t];
        fl.out_scale = activation_scale(fl.max);
        by_scope.emplace_back(detail::scope_of(fl.w), fl);
    }
    int8_values q;
    q.input_scale = input_scale > 0 ? input_scale : activation_scale(cal.input_max);
    // The scale of the codes of node n of the int8 graph.
    auto scale_of = [&](int n) {
        while (true) {
            const node& x = qg.nodes[std::size_t(n)];
            if (x.op == op_kind::input) return q.input_scale;
            if (x.op == op_kind::qconvolution || x.op == op_kind::qaffine)
                return find_layer(
                           detail::scope_of(qg.nodes[std::size_t(detail::input_of(qg, n, 1))].name.view()))
                    .out_scale;
            if (x.op != op_kind::relu && x.op != op_kind::max_pooling && x.op != op_kind::average_pooling &&
                x.op != op_kind::reshape && x.op != op_kind::identity)
                throw quantize_error("kata::embedded::host::quantize_int8: " + std::string(type_name(x.op)) +
                                     " does not keep the int8 scale");
            n = detail::input_of(qg, n, 0);
        }
    };
    for (int t = 0; t < qg.num_order; ++t) {
        const int n = qg.order[t];
        const node& L = qg.nodes[std::size_t(n)];
        if (L.op != op_kind::qconvolution && L.op != op_kind::qaffine) continue;
        const node& wq = qg.nodes[std::size_t(detail::input_of(qg, n, 1))];
        const std::string scope = detail::scope_of(wq.name.view());
        const float_layer& fl = find_layer(scope);
        const std::vector<float> W = detail::store_values(store, fl.w);
        const bool conv = L.op == op_kind::qconvolution;
        const std::size_t O = std::size_t(conv ? wq.shape.dims[0] : wq.shape.prod_from(1));
        const std::vector<float> b =
            fl.b.empty() ? std::vector<float>(O, 0.0f) : detail::store_values(store, fl.b);
        if (W.size() != std::size_t(wq.shape.numel()))
            throw quantize_error("kata::embedded::host::quantize_int8: '" + fl.w + "' has " +
                                 std::to_string(W.size()) + " values, the int8 layer " +
                                 std::to_string(wq.shape.numel()));
        quantized_layer ql =
            quantize_layer(W, b, O, conv, scale_of(detail::input_of(qg, n, 0)), fl.out_scale);
        for (int k = 1; k < 4; ++k) {
            const node& p = qg.nodes[std::size_t(detail::input_of(qg, n, k))];
            int8_values::array a;
            a.name = std::string(p.name.view());
            a.type = p.type;
            for (int i = 0; i < p.shape.rank; ++i) a.shape.push_back(std::size_t(p.shape.dims[i]));
            a.bytes = k == 1 ? detail::bytes_of(ql.W)
                             : (k == 2 ? detail::bytes_of(ql.b) : detail::bytes_of(ql.requant));
            q.arrays.push_back(std::move(a));
        }
        q.layer_scopes.push_back(scope);
        q.layer_max.push_back(fl.max);
        q.layers.push_back(std::move(ql));
    }
    for (std::size_t o = 0; o < qg.outputs.size(); ++o) q.output_scales.push_back(scale_of(qg.outputs[o]));
    return q;
}

}  // namespace kata::embedded::host
