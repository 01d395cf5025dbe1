// The pieces of BatchNormalizationFoldingModifier on their own (docs/nnabla-semantics.md §2.1-2.3):
// AddBiasModifier, BatchNormalizationFoldingModifierInner, and the list itself being exactly
// convert<Net, AddBiasModifier{}, BatchNormalizationFoldingModifierInner{}> (same graph type, same
// derivations, same values). Structure at compile time against the upstream reference networks, values
// against the original network and the closed form. (The opposite analogue:
// bn_folding_modifiers_opposite.cpp.)
#include <doctest/doctest.h>

#include "bn_folding_support.hpp"
#include "ref_nets_folding.hpp"

using namespace kata;
using test::same_structure;

namespace {

constexpr double tol = 1e-5;

using BnNet = network<ref::small_bn_resnet<2, true, false>>;     // no conv bias
using BnNetBias = network<ref::small_bn_resnet<2, true, true>>;  // upstream's w_bias=True
using FoldRef = network<ref::small_bn_folding_resnet<2>>;

// ---- AddBiasModifier -----------------------------------------------------------------------------------
// Every convolution next to a BN gets a zero bias `<scope of W>/b`: the result is upstream's
// small_bn_resnet(w_bias=True). The BNs stay.
constexpr AddBiasModifier add_bias{};  // one value, used for several conversions below (reusable)
using WithBias = convert<BnNet, add_bias>;
static_assert(same_structure(WithBias::graph, BnNetBias::graph));
static_assert(WithBias::graph.count(op_kind::batch_normalization) == 5);
static_assert(WithBias::derivations.size() == 5);
static_assert(WithBias::derivations[0].kind == derivation_kind::constant &&
              WithBias::derivations[0].value == 0);
static_assert(WithBias::derivations[0].target == std::string_view("first-conv/conv/b"));
static_assert(WithBias::derivations[4].target == std::string_view("cb4/conv/b"));
static_assert(WithBias::derivations[4].shape == shape_t{16});
// Already biased: nothing to add, the same graph.
static_assert(convert<BnNetBias, add_bias>::derivations.size() == 0);
static_assert(test::equivalent(convert<BnNetBias, add_bias>::graph, BnNetBias::graph));
// A BN BEFORE the IP counts too (bn_opp_lenet's conv1), and Deconvolution biases have the OUTPUT
// channel count (small_bn_dcn's deconv1 is 3 -> 16; upstream: W.shape[0] = 3).
static_assert(same_structure(convert<network<ref::bn_opp_lenet<false, false>>, add_bias>::graph,
                             network<ref::bn_opp_lenet<false, true>>::graph));
using DcnWithBias = convert<network<ref::small_bn_dcn<2, false, false>>, add_bias>;
static_assert(same_structure(DcnWithBias::graph, network<ref::small_bn_dcn<2, false, true>>::graph));
static_assert(DcnWithBias::derivations[0].shape == shape_t{16});
// An IP with no BN neighbour is left without a bias (small_bn_opp_dcn's deconv1 feeds a ReLU).
static_assert(convert<network<ref::small_bn_opp_dcn<2, false, 1, 0, false>>, add_bias>::graph.find(
                  op_kind::parameter, "dcn-deconv1/deconv1/deconv/b") < 0);

TEST_CASE("AddBiasModifier alone: zero biases, same values") {
    auto store = test::prepare<BnNet, WithBias>();
    CHECK(store.at("first-conv/conv/b").data == xt::zeros<float>({16}));
    CHECK(store.at("cb3/conv/b").data == xt::zeros<float>({16}));
    CHECK(test::compare<BnNet, WithBias>(store) < tol);
    // The reference network (biased convolutions) with these values is the original network.
    CHECK(test::compare_with_reference<BnNet, WithBias, BnNetBias>(store) < tol);
    // A trained value in the bias would show: the check is not vacuous.
    store.at("cb3/conv/b").data(5) = 0.01f;
    CHECK(test::compare<BnNet, WithBias>(store) > tol);
}

// ---- BatchNormalizationFoldingModifierInner --------------------------------------------------------------
// On the biased network: w-folded = c0 W, b-folded = c1 + c0 b; the result is small_bn_folding_resnet.
using Inner = convert<BnNetBias, BatchNormalizationFoldingModifierInner{}>;
static_assert(same_structure(Inner::graph, FoldRef::graph));
static_assert(Inner::graph.count(op_kind::batch_normalization) == 0);
static_assert(Inner::derivations.size() == 10);
static_assert(Inner::derivations[0].kind == derivation_kind::bn_scale_weight);
static_assert(Inner::derivations[1].kind == derivation_kind::bn_fold_bias_inner);
static_assert(Inner::derivations[1].sources[src_b] == std::string_view("first-conv/conv/b"));
// Without AddBias first, a bias-less IP still folds: b-folded = c1 (no bias source) and the graph is
// the same as the full list's (whose zero `b` is then unused).
using InnerNoBias = convert<BnNet, BatchNormalizationFoldingModifierInner{}>;
static_assert(InnerNoBias::derivations.size() == 10);
static_assert(InnerNoBias::derivations[1].sources[src_b].empty());
static_assert(test::equivalent(InnerNoBias::graph,
                               convert<BnNet, BatchNormalizationFoldingModifier{}>::graph));

TEST_CASE("BatchNormalizationFoldingModifierInner alone: closed form, values, reference") {
    auto store = test::prepare<BnNetBias, Inner>();
    const auto bn = test::bn_c0_c1(store, "cb1/bn");
    const auto& W = store.at("cb1/conv/W").data;  // (16, 16, 3, 3)
    const auto& b = store.at("cb1/conv/b").data;
    std::vector<double> w(W.size()), bb(16);
    for (std::size_t t = 0; t < W.size(); ++t) w[t] = double(W.data()[t]) * bn.c0[t / 144];
    for (std::size_t o = 0; o < 16; ++o) bb[o] = bn.c1[o] + bn.c0[o] * double(b(o));
    CHECK(test::rel_err(store.at("cb1/conv/w-folded").data, w) < 1e-6);
    CHECK(test::rel_err(store.at("cb1/conv/b-folded").data, bb) < 1e-6);
    CHECK(test::compare<BnNetBias, Inner>(store) < tol);
    CHECK(test::compare_with_reference<BnNetBias, Inner, FoldRef>(store) < tol);
}

TEST_CASE("BatchNormalizationFoldingModifierInner alone on bias-less convolutions") {
    auto store = test::prepare<BnNet, InnerNoBias>();
    CHECK(test::rel_err(store.at("cb2/conv/b-folded").data, test::bn_c0_c1(store, "cb2/bn").c1) < 1e-6);
    CHECK(!store.contains("cb2/conv/b"));  // nothing else was created
    CHECK(test::compare<BnNet, InnerNoBias>(store) < tol);
}

// ---- the list == AddBias then Inner
// ------------------------------------------------------------------------
using Folded = convert<BnNet, BatchNormalizationFoldingModifier{}>;
using ByHand = convert<BnNet, AddBiasModifier{}, BatchNormalizationFoldingModifierInner{}>;
using ByHandChained = convert<WithBias, BatchNormalizationFoldingModifierInner{}>;
static_assert(test::identical(Folded::graph, ByHand::graph));  // same graph<N, E, O> type and value
static_assert(test::identical(Folded::graph, ByHandChained::graph));
static_assert(Folded::derivations.size() == ByHand::derivations.size());
static_assert(same_structure(Folded::graph, FoldRef::graph));

TEST_CASE("BatchNormalizationFoldingModifier{} is AddBias + Inner: same derivations, same values") {
    CHECK(test::same_derivations(Folded::derivations, ByHand::derivations));
    CHECK(test::same_derivations(Folded::derivations, ByHandChained::derivations));
    auto store = test::prepare<BnNet, Folded>();
    parameter_store by_hand(313);
    models::synthetic_parameters<BnNet>(by_hand);
    apply_conversion<ByHand>(by_hand);
    const auto a = test::snapshot(store);
    CHECK(test::unchanged(by_hand, a));  // every parameter, derived or not, identical
    CHECK(by_hand.size() == store.size());
    CHECK(test::compare<BnNet, Folded>(store) < tol);
    CHECK(test::compare_with_reference<BnNet, Folded, FoldRef>(store) < tol);
}

}  // namespace
