// The converted half of the ResNet-50 demo: see resnet50_demo_inference.hpp.
#include "resnet50_demo_inference.hpp"

#include <kata/converters.hpp>
#include <kata/converters/apply_conversion.hpp>
#include <kata/cpu_executor.hpp>  // executors only: the weights are loaded in resnet50_demo.cpp

#include "models/resnet50.hpp"

namespace demo {
namespace {

using ResNet50 = kata::network<kata::models::resnet50_net<1>>;
using Inference = kata::convert<ResNet50, kata::BatchNormalizationFoldingModifier{},
                                kata::ChannelLastModifier{}, kata::FuseConvolutionEpilogueModifier{}>;

static_assert(Inference::graph.count(kata::op_kind::batch_normalization) == 0, "every BN is folded");
static_assert(Inference::graph.count(kata::op_kind::transpose) == 0, "the whole network runs NHWC");
static_assert(Inference::graph.count(kata::op_kind::relu) == 0,
              "every ReLU runs in a convolution's epilogue");

}  // namespace

struct inference_resnet50::impl {
    explicit impl(kata::parameter_store& store) : run((kata::apply_conversion<Inference>(store), store)) {}
    kata::cpu::frozen_executor<Inference> run;
};

inference_resnet50::inference_resnet50(kata::parameter_store& store) : impl_(std::make_unique<impl>(store)) {}
inference_resnet50::~inference_resnet50() = default;

const float* inference_resnet50::operator()(const float* x_nhwc) {
    auto x = xt::adapt(x_nhwc, std::size_t(224 * 224 * 3), xt::no_ownership(),
                       std::array<std::size_t, 4>{1, 224, 224, 3});
    return impl_->run(x).data();
}

std::size_t inference_resnet50::keep_one_copy(kata::parameter_store& store) {
    const std::size_t dropped = kata::drop_replaced_parameters<Inference>(store);
    return dropped + std::size_t(impl_->run.release_prepared_parameters(store));
}

inference_resnet50::census inference_resnet50::describe() {
    constexpr const auto& g = Inference::graph;
    int cl = 0;
    for (std::size_t i = 0; i < g.size(); ++i) cl += g.nodes[i].attr.channel_last ? 1 : 0;
    return {g.num_functions(),
            g.count(kata::op_kind::convolution) + g.count(kata::op_kind::fused_convolution),
            kata::fused_epilogues(g).fused,
            g.count(kata::op_kind::batch_normalization),
            cl,
            g.count(kata::op_kind::transpose),
            Inference::derivations.size()};
}

}  // namespace demo
