// docs/nnabla-semantics.md §0.1 / 10.5: upstream's new-style folders ignore batch_stat and fold a
// training-mode BN with its running statistics, which changes the network's outputs (a batch-stat BN
// normalises with the batch's own statistics, not an affine map known in advance). kata folds only test-mode
// BNs (documented in docs/converters.md and the folders' headers): a batch_stat=true BN is KEPT, in both
// directions, and the values are unchanged; AddBias still adds its zero bias (as upstream; harmless). The
// documented remedy, TestModeModifier first, folds them all.
#include <doctest/doctest.h>

#include "bn_folding_support.hpp"
#include "ref_nets_folding.hpp"

using namespace kata;
using test::same_structure;

namespace {

constexpr double tol = 1e-5;

// ---- IP -> BN
// ----------------------------------------------------------------------------------------------
using TrainNet = network<ref::small_bn_resnet<2, false, false>>;
using TrainFolded = convert<TrainNet, BatchNormalizationFoldingModifier{}>;
static_assert(TrainFolded::graph.count(op_kind::batch_normalization) == 5);  // none folded
static_assert(same_structure(TrainFolded::graph, network<ref::small_bn_resnet<2, false, true>>::graph));
static_assert(TrainFolded::derivations.size() == 5);  // AddBias's zero biases only
static_assert(TrainFolded::derivations[4].kind == derivation_kind::constant);
static_assert(TrainFolded::graph.find(op_kind::parameter, "cb1/conv/w-folded") < 0);
static_assert(TrainFolded::graph.find(op_kind::parameter, "cb1/bn/mean") >= 0);
// The Inner folder alone changes nothing.
static_assert(test::equivalent(convert<TrainNet, BatchNormalizationFoldingModifierInner{}>::graph,
                               TrainNet::graph));
static_assert(convert<TrainNet, BatchNormalizationFoldingModifierInner{}>::derivations.size() == 0);
// Remedy: test mode first, then everything folds into upstream's reference.
using TestThenFold = convert<TrainNet, TestModeModifier{}, BatchNormalizationFoldingModifier{}>;
static_assert(TestThenFold::graph.count(op_kind::batch_normalization) == 0);
static_assert(same_structure(TestThenFold::graph, network<ref::small_bn_folding_resnet<2>>::graph));

TEST_CASE("BN folding keeps training-mode BNs (IP -> BN) and the values") {
    auto store = test::prepare<TrainNet, TrainFolded>();
    CHECK(test::compare<TrainNet, TrainFolded>(store) < tol);
    // Folding this BN with its running statistics (upstream) would change the output.
    using AsTest = convert<TrainNet, TestModeModifier{}>;
    CHECK(test::compare<TrainNet, AsTest>(store) > 1e-2);
}

// ---- BN -> IP
// ----------------------------------------------------------------------------------------------
using TrainOpp = network<ref::bn_opp_lenet<false, false, false>>;
using TrainOppFolded = convert<TrainOpp, BatchNormalizationFoldingModifier{.opposite = true}>;
static_assert(TrainOppFolded::graph.count(op_kind::batch_normalization) == 3);
static_assert(TrainOppFolded::derivations.size() == 1);  // conv1/b (AddBias) only
static_assert(same_structure(TrainOppFolded::graph, network<ref::bn_opp_lenet<false, true, false>>::graph));

// ---- mixed: only the test-mode BN of a pair folds ---------------------------------------------------------
constexpr var mixed(builder& g) {
    var h = g.input("x", {2, 3, 12, 10}) / 255.0;
    h = PF::batch_normalization(PF::convolution(h, 8, {3, 3}, {.pad = {1, 1}, .name = "c1"}),
                                ref::bn(true, "bn1"));
    h = PF::convolution(F::relu(h), 8, {3, 3}, {.pad = {1, 1}, .name = "c2"});
    h = PF::batch_normalization(h, ref::bn(false, "bn2"));  // batch_stat = true
    var z = PF::batch_normalization(F::relu(h), ref::bn(false, "bn3"));
    return PF::convolution(z, 4, {1, 1}, {.name = "c3"});  // BN -> IP, training mode
}
using Mixed = network<mixed>;
using MixedFolded =
    convert<Mixed, BatchNormalizationFoldingModifier{}, BatchNormalizationFoldingModifier{.opposite = true}>;
static_assert(Mixed::graph.count(op_kind::batch_normalization) == 3);
static_assert(MixedFolded::graph.count(op_kind::batch_normalization) == 2);
static_assert(MixedFolded::graph.find(op_kind::parameter, "c1/conv/w-folded") >= 0);
static_assert(MixedFolded::graph.find(op_kind::parameter, "bn1/bn/mean") < 0);
static_assert(MixedFolded::graph.find(op_kind::parameter, "c2/conv/w-folded") < 0);
static_assert(MixedFolded::graph.find(op_kind::parameter, "c3/conv/w-opp-folded") < 0);

TEST_CASE("BN -> IP folding keeps training-mode BNs, and a mixed network folds only its test-mode BN") {
    {
        auto store = test::prepare<TrainOpp, TrainOppFolded>();
        CHECK(store.at("conv1/conv/b").data == xt::zeros<float>({16}));
        CHECK(test::compare<TrainOpp, TrainOppFolded>(store) < tol);
    }
    {
        auto store = test::prepare<Mixed, MixedFolded>();
        CHECK(test::compare<Mixed, MixedFolded>(store) < tol);
    }
}

}  // namespace
