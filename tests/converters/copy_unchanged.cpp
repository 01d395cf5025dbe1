// A graph pass copies a function that its modifier keeps on unchanged inputs instead of rebuilding it
// (kata/converters/graph_converter.hpp: inputs_unchanged, copy_function; issue 16: rebuilding costs
// hundreds of constant-evaluation steps per function). The copy must give exactly the graph that
// rebuilding gives: here every conversion is run both ways (detail::run_conversion's copy_unchanged
// switch) and the two results compared node by node (kind, inputs, shape, dtype, layout, arguments,
// name, parameter data), edge by edge, output by output and derivation by derivation, on networks with
// residual additions, depthwise and grouped/dilated convolutions, deconvolutions (1-D to 3-D), Affine
// layers, several inputs and outputs, channel-last layers and training-mode BNs, under every modifier
// that keeps functions: BN folding both ways, AddBias, self-folding, fused/unfused BN, batch-stat,
// test mode, channel-last/first, identity (batch change and renaming: every input changes), no-grad,
// epilogue fusion and pruning, alone and in pipelines.
#include <doctest/doctest.h>

#include <kata/converters.hpp>

#include "../../examples/models/chain.hpp"
#include "../../examples/models/lenet.hpp"
#include "../../examples/models/mobilenet_v2.hpp"
#include "../../examples/models/resnet50.hpp"
#include "../../examples/models/resnext.hpp"
#include "ref_nets.hpp"
#include "ref_nets_folding.hpp"
#include "ref_nets_layout.hpp"

using namespace kata;

namespace {

// Both ways in one constant evaluation; 0 = the same graph, otherwise which part differs (1 failure
// or sizes, 2 nodes, 3 edges, 4 outputs, 5 derivations), or 7 when both conversions failed alike (a
// broken case, not a comparison).
template <class Net, auto... Mods>
constexpr int copy_vs_rebuild() {
    auto a = detail::run_conversion<Net, Mods...>(true);
    auto b = detail::run_conversion<Net, Mods...>(false);
    if (a.g.failed != b.g.failed || a.g.nodes.size() != b.g.nodes.size() ||
        a.g.edges.size() != b.g.edges.size() || a.g.outputs.size() != b.g.outputs.size() ||
        a.derivations.size() != b.derivations.size())
        return 1;
    for (std::size_t i = 0; i < a.g.nodes.size(); ++i)
        if (!(a.g.nodes[i] == b.g.nodes[i])) return 2;
    for (std::size_t i = 0; i < a.g.edges.size(); ++i)
        if (a.g.edges[i] != b.g.edges[i]) return 3;
    for (std::size_t i = 0; i < a.g.outputs.size(); ++i)
        if (a.g.outputs[i] != b.g.outputs[i]) return 4;
    for (std::size_t i = 0; i < a.derivations.size(); ++i)
        if (!(a.derivations[i] == b.derivations[i])) return 5;
    return a.g.failed ? 7 : 0;
}

using LeNet = network<models::lenet<3>>;
using ResNet50 = network<models::resnet50_net<1>>;
using MobileNet = network<models::mobilenet_v2_net<1>>;
using ResNeXt = network<models::resnext_dilated_net<1>>;
using Chain = network<models::chain_net<12>>;
using SmallBn = network<ref::small_bn_resnet<2, true, false>>;
using SmallTrain = network<ref::small_bn_resnet<2, false, false>>;
using SmallFbn = network<ref::small_fbn_resnet<>>;
using MultiIo = network<ref::small_multiple_inputs_outputs_resnet<>>;
using Dcn1 = network<ref::small_bn_dcn<1, false, false>>;
using Dcn3Cl = network<ref::small_bn_dcn<3, true, true>>;
using Zoo = network<ref::layout_zoo>;

constexpr BatchNormalizationFoldingModifier fold{};
constexpr BatchNormalizationFoldingModifier fold_opp{.opposite = true};
constexpr ChannelLastModifier to_nhwc{};
constexpr IdentityModifier batch4{.inputs = {{"x", {4, 3, 32, 32}}}};
constexpr IdentityModifier renamed{.inputs = {{"x", {1, 3, 32, 32}, "image"}}};

TEST_CASE("copying unchanged functions gives the graphs that rebuilding gives") {
    // Inference pipelines on the example networks.
    static_assert(copy_vs_rebuild<LeNet, fold, to_nhwc>() == 0);
    static_assert(copy_vs_rebuild<ResNet50, fold, to_nhwc>() == 0);
    static_assert(copy_vs_rebuild<ResNet50, fold, to_nhwc, FuseConvolutionEpilogueModifier{}>() == 0);
    static_assert(copy_vs_rebuild<MobileNet, fold, to_nhwc, FuseConvolutionEpilogueModifier{}>() == 0);
    static_assert(copy_vs_rebuild<ResNeXt, fold, to_nhwc>() == 0);
    static_assert(copy_vs_rebuild<Chain, fold_opp>() == 0);
    static_assert(
        copy_vs_rebuild<Chain, AddBiasModifier{}, ChannelLastModifier{}, ChannelFirstModifier{}>() == 0);
    // The converters' reference networks, one modifier at a time and in pipelines.
    static_assert(copy_vs_rebuild<SmallBn, fold>() == 0);
    static_assert(copy_vs_rebuild<SmallBn, fold_opp>() == 0);
    static_assert(copy_vs_rebuild<SmallBn, BatchNormalizationSelfFoldingModifier{}>() == 0);
    static_assert(copy_vs_rebuild<SmallBn, FusedBatchNormalizationModifier{}>() == 0);
    static_assert(copy_vs_rebuild<SmallFbn, UnfusedBatchNormalizationModifier{}>() == 0);
    static_assert(copy_vs_rebuild<SmallTrain, TestModeModifier{}, fold>() == 0);
    static_assert(copy_vs_rebuild<SmallBn, BatchNormBatchStatModifier{}>() == 0);
    static_assert(copy_vs_rebuild<SmallBn, NoGradModifier{}>() == 0);
    // Every shape changes (a later channel-last pass rebuilds every function anyway: also without it).
    static_assert(copy_vs_rebuild<SmallBn, batch4>() == 0);
    static_assert(copy_vs_rebuild<SmallBn, batch4, fold>() == 0);
    static_assert(copy_vs_rebuild<SmallBn, batch4, fold, to_nhwc>() == 0);
    static_assert(copy_vs_rebuild<SmallBn, renamed>() == 0);  // the input node changes
    static_assert(copy_vs_rebuild<MultiIo, fold, to_nhwc>() == 0);
    static_assert(copy_vs_rebuild<Dcn1, fold>() == 0);
    static_assert(copy_vs_rebuild<Dcn3Cl, fold_opp>() == 0);
    static_assert(copy_vs_rebuild<Zoo, ChannelFirstModifier{}, ChannelLastModifier{}>() == 0);
    static_assert(copy_vs_rebuild<LeNet, PruningModifier{}>() == 0);
    CHECK(copy_vs_rebuild<SmallBn, fold, to_nhwc>() == 0);  // and at run time (the same functions)
}

}  // namespace
