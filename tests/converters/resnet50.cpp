// ResNet-50 end to end through the converters (issue 4, point 5): BN folding + channel-last on the
// full-size network, checked against the PyTorch float64 reference logits of the original network
// (tools/fixtures/resnet50_reference.py; the same fixture as tests/examples/resnet50.cpp), and the
// channel-last conversion alone against the hand-written NHWC ResNet-50 of examples/models.
#include <doctest/doctest.h>

#include <kata/converters.hpp>
#include <kata/converters/apply_conversion.hpp>
#include <kata/cpu.hpp>

#include "../../examples/models/resnet50.hpp"
#include "../../examples/models/synthetic_weights.hpp"
#include "../support/resnet50_reference.hpp"
#include "converter_test_support.hpp"

using namespace kata;

using ResNet50 = network<models::resnet50_net<1>>;
using Inference = convert<ResNet50, BatchNormalizationFoldingModifier{}, ChannelLastModifier{}>;

static_assert(Inference::graph.count(op_kind::batch_normalization) == 0);
static_assert(Inference::graph.count(op_kind::transpose) == 0);
static_assert(Inference::graph.count(op_kind::convolution) == 53);
static_assert(Inference::graph.nodes[std::size_t(Inference::graph.find(op_kind::input, "x"))].shape ==
              shape_t{1, 224, 224, 3});
// 53 convolutions: AddBias b, w-folded, b-folded, w-folded_cl; the Affine: W_cl.
static_assert(Inference::derivations.size() == 53 * 4 + 1);

// The channel-last conversion of the NCHW network is, function for function, the NHWC network
// written by hand (examples/models/resnet50.hpp with ChannelLast = true).
static_assert(::test::same_structure(convert<ResNet50, ChannelLastModifier{}>::graph,
                                     network<models::resnet50_net<1, true>>::graph));

TEST_CASE("ResNet-50 with BN folded and in NHWC matches PyTorch within 1e-4 relative error") {
    auto ref = kata::test::load_fixture("resnet50/reference.npz");
    parameter_store store;
    models::synthetic_parameters<ResNet50>(store);  // non-trivial BN statistics
    apply_conversion<Inference>(store);
    xt::xarray<float> x = xt::zeros<float>({1, 3, 224, 224});
    models::synthetic_input("x", x.data(), x.size());
    xt::xarray<float> x_nhwc = xt::transpose(x, {0, 2, 3, 1});

    cpu::executor<Inference> run(store);
    auto y = run(x_nhwc);
    kata::test::check_resnet50_logits(y.data(), y.size(), ref);
}
