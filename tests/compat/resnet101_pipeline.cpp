// ResNet-101's whole compile-time pipeline, for ctest clang_resnet101_default_steps (issue 16 point 1):
// the 867-node graph lifted, converted (BN folding + channel-last) and instantiated on the live and the
// frozen executor, compiled with -fsyntax-only at clang's default constant-evaluation budget. The same
// pipeline runs, and is checked against the unconverted graph, for ResNet-152 (ctest consumer_resnet152)
// and chain-400 (test_converters_scaling).
#include <kata/converters.hpp>
#include <kata/cpu_executor.hpp>

#include "../../examples/models/resnet.hpp"

using Net = kata::network<kata::models::resnet101_net<1>>;
using Inference = kata::convert<Net, kata::BatchNormalizationFoldingModifier{}, kata::ChannelLastModifier{}>;
static_assert(Net::graph.size() == 867);
static_assert(Inference::graph.count(kata::op_kind::batch_normalization) == 0);
static_assert(Inference::graph.count(kata::op_kind::transpose) == 0);

xt::xarray<float> run_live(kata::parameter_store& store, const xt::xarray<float>& x_nhwc) {
    kata::cpu::executor<Inference> run(store);
    return run(x_nhwc);
}
xt::xarray<float> run_frozen(kata::parameter_store& store, const xt::xarray<float>& x_nhwc) {
    kata::cpu::frozen_executor<Inference> run(store);
    return run(x_nhwc);
}
