// ResNet-101 (867 nodes) through the whole pipeline with the compiler's default constant-evaluation
// limits (issue 16 point 1): lifted, converted (BN folding + channel-last) and run on the live and the
// frozen executor, built with the flags this target gets from kata::kata (no -fconstexpr-ops-limit or
// -fconstexpr-steps). g++ builds and runs it here; ctest consumer_scaling_clang builds and runs this
// file with clang at its default budget and the flags of find_package(kata). (ResNet-152: ctest
// consumer_resnet152 and consumer_resnet152_clang; 3,201 nodes: scaling.cpp.)
// Checked: the converted graph's structure (no BN, no transpose, 104 NHWC convolutions), and its outputs on
// both executors against the unconverted NCHW graph with batch normalization on the live executor (other
// kernels, unfolded parameters), with the deterministic non-trivial weights and BN statistics of
// examples/models/synthetic_weights.hpp. A 64 x 64 input keeps the run short (the same graph but for the
// spatial sizes).
#include <doctest/doctest.h>

#include <kata/converters.hpp>
#include <kata/converters/apply_conversion.hpp>
#include <kata/cpu.hpp>

#include "../../examples/models/resnet.hpp"
#include "../../examples/models/synthetic_weights.hpp"

#include <cmath>
#include <cstddef>

using namespace kata;

namespace {

constexpr var resnet101_64(builder& g) { return models::resnet101(g.input("x", {1, 3, 64, 64})); }

using Net = network<resnet101_64>;
using Inference = convert<Net, BatchNormalizationFoldingModifier{}, ChannelLastModifier{}>;
static_assert(Net::graph.size() == 867);
static_assert(Net::graph.count(op_kind::batch_normalization) == 104);
static_assert(Inference::graph.count(op_kind::batch_normalization) == 0);
static_assert(Inference::graph.count(op_kind::transpose) == 0);
static_assert(Inference::graph.count(op_kind::convolution) == 104);
static_assert(Inference::derivations.size() == 104 * 4 + 1);  // per conv: zero bias, W and b folded, W NHWC

}  // namespace

TEST_CASE("ResNet-101 converts with default constexpr limits and runs as the unconverted graph does") {
    parameter_store store;
    models::synthetic_parameters<Net>(store);
    apply_conversion<Inference>(store);
    xt::xarray<float> x = xt::zeros<float>({1, 3, 64, 64});
    models::synthetic_input("x", x.data(), x.size());
    xt::xarray<float> x_nhwc = xt::transpose(x, {0, 2, 3, 1});

    cpu::executor<Net> reference(store);
    const xt::xarray<float> want = reference(x);
    cpu::executor<Inference> live(store);
    const xt::xarray<float> got_live = live(x_nhwc);
    cpu::frozen_executor<Inference> frozen(store);
    const xt::xarray<float> got_frozen = frozen(x_nhwc);

    REQUIRE(want.size() == 1000);
    REQUIRE(got_live.size() == 1000);
    REQUIRE(got_frozen.size() == 1000);
    double scale = 0, err_live = 0, err_frozen = 0;
    for (std::size_t i = 0; i < want.size(); ++i) {
        scale = std::fmax(scale, std::fabs(double(want[i])));
        err_live = std::fmax(err_live, std::fabs(double(got_live[i]) - double(want[i])));
        err_frozen = std::fmax(err_frozen, std::fabs(double(got_frozen[i]) - double(want[i])));
    }
    INFO("max |logit| ", scale, ", max error live ", err_live, ", frozen ", err_frozen);
    CHECK(std::isfinite(scale));
    CHECK(scale > 1e-3);
    // float32 through 101 layers, folded vs unfolded: relative to the logits' scale.
    CHECK(err_live <= 1e-3 * scale);
    CHECK(err_frozen <= 1e-3 * scale);
}
