// examples/models/lenet_quantize.hpp: HOST-ONLY quantization of examples/models/lenet.hpp's float
// parameters into those of its int8 twin examples/models/lenet_int8.hpp (issue #14 point 3), with the
// recipe of kata/embedded/host/quantize.hpp:
//   * calibration: lenet_taps (LeNet with an output after each layer's ReLU, and the logits) runs on
//     kata's CPU executor over the calibration images; each tap's largest |value| gives that layer's
//     output scale; the input scale is 1/127 (pixels in [0, 1]);
//   * bn1/bn2 folded into conv1/conv2 (double precision), then per-channel int8 weights, int32 biases
//     and fixed-point requantization per layer.
// Used by the tool tools/quantize_lenet.cpp (lenet_fashion.npz -> lenet_int8.npz at build time, for the
// firmware) and by tests/embedded/int8_lenet.cpp.
#pragma once

#include <kata/detail/xtensor_fix.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <kata/cpu.hpp>
#include <kata/embedded/host/quantize.hpp>
#include <kata/io/npz.hpp>

#include "lenet.hpp"

namespace kata::models {

// LeNet (same parameters as lenet<Batch>) with outputs: relu1 (pre-pool), relu2 (pre-pool), relu(fc1),
// relu(fc2), fc3: the ranges the int8 layers' outputs must cover.
template <std::int64_t Batch>
constexpr void lenet_taps(builder& g) {
    Conv2d conv1(1, 6, {5, 5}, {.name = "conv1"});
    BatchNorm2d bn1(6, {.name = "bn1", .eps = 1e-3});
    Conv2d conv2(6, 16, {5, 5}, {.name = "conv2"});
    BatchNorm2d bn2(16, {.name = "bn2"});
    Linear fc1(16 * 4 * 4, 120, {.name = "fc1"});
    Linear fc2(120, 84, {.name = "fc2"});
    Linear fc3(84, 10, {.name = "fc3"});
    auto x = g.input("x", {Batch, 1, 28, 28});
    auto r1 = F::relu(bn1(conv1(x), true));
    auto r2 = F::relu(bn2(conv2(F::max_pooling(r1, {2, 2})), true));
    auto r3 = F::relu(fc1(F::max_pooling(r2, {2, 2})));
    auto r4 = F::relu(fc2(r3));
    auto y = fc3(r4);
    g.output(r1);
    g.output(r2);
    g.output(r3);
    g.output(r4);
    g.output(y);
}

inline constexpr std::int64_t lenet_calibration_batch = 64;
inline constexpr double lenet_input_scale = 1.0 / 127.0;  // pixels in [0, 1]
inline constexpr const char* lenet_int8_layers[5] = {"conv1", "conv2", "fc1", "fc2", "fc3"};

struct lenet_int8_parameters {
    std::array<embedded::host::quantized_layer, 5> layers;  // conv1, conv2, fc1, fc2, fc3
    std::array<double, 5> tap_max{};                        // calibration maxima of |activation|
    double input_scale = lenet_input_scale;
    double output_scale() const { return layers[4].output_scale; }
};

namespace lenet_quantize_detail {

inline std::vector<float> values(const parameter_store& store, const std::string& name) {
    const parameter* p = store.find(name);
    if (!p) throw embedded::host::quantize_error("quantize_lenet: parameter '" + name + "' missing");
    return std::vector<float>(p->data.data(), p->data.data() + p->data.size());
}

}  // namespace lenet_quantize_detail

// `store`: LeNet's float parameters; `calibration`: (64, 1, 28, 28) images with values in [0, 1].
inline lenet_int8_parameters quantize_lenet(parameter_store& store, const xt::xarray<float>& calibration) {
    using namespace lenet_quantize_detail;
    namespace eh = embedded::host;
    lenet_int8_parameters q;
    {
        cpu::executor<network<lenet_taps<lenet_calibration_batch>>> taps(store);
        taps.execute(calibration);
        auto amax = [](const auto& a) {
            double m = 0;
            for (float v : a) m = std::max(m, std::fabs(double(v)));
            return m;
        };
        q.tap_max = {amax(taps.output<0>()), amax(taps.output<1>()), amax(taps.output<2>()),
                     amax(taps.output<3>()), amax(taps.output<4>())};
    }
    double s_in = q.input_scale;
    for (int l = 0; l < 5; ++l) {
        const std::string name = lenet_int8_layers[l];
        std::vector<float> W = values(store, name + "/W"), b = values(store, name + "/b");
        const bool conv = l < 2;
        if (conv) {
            const std::string bn = l == 0 ? "bn1" : "bn2";
            eh::fold_batch_normalization(W, b, values(store, bn + "/beta"), values(store, bn + "/gamma"),
                                         values(store, bn + "/mean"), values(store, bn + "/var"),
                                         l == 0 ? 1e-3 : 1e-5);
        }
        const double s_out = eh::activation_scale(q.tap_max[std::size_t(l)]);
        q.layers[std::size_t(l)] = eh::quantize_layer(W, b, b.size(), conv, s_in, s_out);
        s_in = s_out;
    }
    return q;
}

// The int8 parameters as .npz items (names and dtypes of lenet_int8<B>: "<layer>/W" int8, "/b" int32,
// "/requant" int32 (2, O)); the items view `q`, which must outlive them.
inline std::vector<io::npz_item> lenet_int8_items(const lenet_int8_parameters& q) {
    static constexpr std::array<std::array<std::size_t, 4>, 2> conv_shapes{{{6, 1, 5, 5}, {16, 6, 5, 5}}};
    static constexpr std::array<std::array<std::size_t, 2>, 3> fc_shapes{{{256, 120}, {120, 84}, {84, 10}}};
    std::vector<io::npz_item> items;
    for (std::size_t l = 0; l < 5; ++l) {
        const auto& L = q.layers[l];
        const std::string name = lenet_int8_layers[l];
        std::vector<std::size_t> ws =
            l < 2 ? std::vector<std::size_t>(conv_shapes[l].begin(), conv_shapes[l].end())
                  : std::vector<std::size_t>(fc_shapes[l - 2].begin(), fc_shapes[l - 2].end());
        items.push_back({name + "/W", io::npy_dtype::i1, ws, std::as_bytes(std::span(L.W))});
        items.push_back({name + "/b", io::npy_dtype::i4, {L.b.size()}, std::as_bytes(std::span(L.b))});
        items.push_back(
            {name + "/requant", io::npy_dtype::i4, {2, L.b.size()}, std::as_bytes(std::span(L.requant))});
    }
    return items;
}

}  // namespace kata::models
