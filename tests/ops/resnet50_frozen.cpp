// ResNet-50 through the frozen executor (direct NHWC convolutions on packed weights, bias / residual
// Add2 / ReLU fused into the convolution epilogues by kata::FuseConvolutionEpilogueModifier): the
// BN-folded channel-last fused network that bench/resnet50_cpu.cpp times, against PyTorch's float64 logits of the original network
// (tests/fixtures/resnet50/reference.npz; normwise relative error < 1e-4 and the same top-5), with
// the AVX-512 micro-kernel (where the CPU has it) and with the portable one.
#include <doctest/doctest.h>

#include <kata/converters.hpp>
#include <kata/converters/apply_conversion.hpp>
#include <kata/cpu.hpp>

#include "../../examples/models/resnet50.hpp"
#include "../../examples/models/synthetic_weights.hpp"
#include "../support/resnet50_reference.hpp"

using namespace kata;

using ResNet50 = network<models::resnet50_net<1>>;
using Inference = convert<ResNet50, BatchNormalizationFoldingModifier{}, ChannelLastModifier{},
                          FuseConvolutionEpilogueModifier{}>;
using Frozen = cpu::frozen_executor<Inference>;

// Every convolution takes the fast path; 49 ReLUs and 16 residual Add2s are absorbed (the stem's
// and every bottleneck's ReLUs: 1 + 16 * 3 = 49), so the graph runs 53 convolutions (49 fused, the 4
// last 1x1 convolutions of the down-sampling blocks plain: they are the residual of their block's
// projection shortcut, which runs after them and absorbs the Add2), one max pooling, one average
// pooling and the Affine.
static_assert(Frozen::num_prepared == 53);
static_assert(fused_epilogues(Inference::graph).fused == 49 &&
              Inference::graph.count(op_kind::convolution) == 4);
static_assert(fused_epilogues(Inference::graph).relus == 49 &&
              fused_epilogues(Inference::graph).residuals == 16);
static_assert(Inference::graph.count(op_kind::relu) == 0 && Inference::graph.count(op_kind::add2) == 0);
static_assert(Inference::graph.num_functions() == 53 + 3);

TEST_CASE("ResNet-50 (BN folded, NHWC) in a frozen executor matches PyTorch within 1e-4") {
    auto ref = kata::test::load_fixture("resnet50/reference.npz");
    parameter_store store;
    models::synthetic_parameters<ResNet50>(store);
    apply_conversion<Inference>(store);
    xt::xarray<float> x = xt::zeros<float>({1, 3, 224, 224});
    models::synthetic_input("x", x.data(), x.size());
    xt::xarray<float> x_nhwc = xt::transpose(x, {0, 2, 3, 1});
    for (bool generic : {false, true}) {
        INFO("portable micro-kernel: " << generic);
        cpu::simd::force_generic(generic);
        Frozen run(store);
        auto y = run(x_nhwc);
        kata::test::check_resnet50_logits(y.data(), y.size(), ref);
        run(x_nhwc);  // again: the fused buffers are recomputed, nothing stale
        kata::test::check_resnet50_logits(run.output<0>().data(), y.size(), ref);
    }
    cpu::simd::force_generic(false);
}
