// ResNet-152 through kata's whole compile-time pipeline with the flags of find_package(kata) only
// (ctest consumer_resnet152, issue 16): the 1,292-node graph is lifted, converted (BN folding +
// channel-last) and run on the live and the frozen executor. Before issue 16 the conversion stopped at
// g++'s default constexpr operation limit.
// Checked: the converted graph's structure (no BN, no transpose, 155 NHWC convolutions), and its
// outputs on both executors against the unconverted NCHW graph with batch normalization on the live
// executor (different kernels: BN, channel-first convolutions, no folded parameters), with the
// deterministic non-trivial weights and BN statistics of examples/models/synthetic_weights.hpp. A
// 64 x 64 input keeps the run short (the graph is the same but for the spatial sizes).
#include <kata/converters.hpp>
#include <kata/converters/apply_conversion.hpp>
#include <kata/cpu.hpp>

#include "../../../examples/models/resnet.hpp"
#include "../../../examples/models/synthetic_weights.hpp"

#include <cmath>
#include <cstdio>

constexpr kata::var resnet152_64(kata::builder& g) {
    return kata::models::resnet152(g.input("x", {1, 3, 64, 64}));
}

using Net = kata::network<resnet152_64>;
using Inference = kata::convert<Net, kata::BatchNormalizationFoldingModifier{}, kata::ChannelLastModifier{}>;
static_assert(Net::graph.size() == 1292);
static_assert(Net::graph.count(kata::op_kind::batch_normalization) == 155);
static_assert(Inference::graph.count(kata::op_kind::batch_normalization) == 0);
static_assert(Inference::graph.count(kata::op_kind::transpose) == 0);
static_assert(Inference::graph.count(kata::op_kind::convolution) == 155);
static_assert(Inference::derivations.size() == 155 * 4 + 1);  // per conv: zero bias, W and b folded, W NHWC

int main() {
    kata::parameter_store store;
    kata::models::synthetic_parameters<Net>(store);
    kata::apply_conversion<Inference>(store);
    xt::xarray<float> x = xt::zeros<float>({1, 3, 64, 64});
    kata::models::synthetic_input("x", x.data(), x.size());
    xt::xarray<float> x_nhwc = xt::transpose(x, {0, 2, 3, 1});

    kata::cpu::executor<Net> reference(store);
    const xt::xarray<float> want = reference(x);
    kata::cpu::executor<Inference> live(store);
    const xt::xarray<float> got_live = live(x_nhwc);
    kata::cpu::frozen_executor<Inference> frozen(store);
    const xt::xarray<float> got_frozen = frozen(x_nhwc);

    // float32 through 152 layers: relative to the logits' scale.
    double scale = 0, err_live = 0, err_frozen = 0;
    for (std::size_t i = 0; i < want.size(); ++i) scale = std::fmax(scale, std::fabs(double(want[i])));
    for (std::size_t i = 0; i < want.size(); ++i) {
        err_live = std::fmax(err_live, std::fabs(double(got_live[i]) - double(want[i])));
        err_frozen = std::fmax(err_frozen, std::fabs(double(got_frozen[i]) - double(want[i])));
    }
    std::printf("ResNet-152 (64x64): %zu logits, max |logit| %g, max error live %g, frozen %g\n", want.size(),
                scale, err_live, err_frozen);
    const bool ok = want.size() == 1000 && got_live.size() == 1000 && got_frozen.size() == 1000 &&
                    scale > 1e-3 && std::isfinite(scale) && err_live <= 1e-3 * scale &&
                    err_frozen <= 1e-3 * scale;
    return ok ? 0 : 1;
}
