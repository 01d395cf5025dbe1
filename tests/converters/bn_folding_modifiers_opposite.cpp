// BatchNormalizationFoldingOppositeModifierInner on its own (docs/nnabla-semantics.md §2.4), and
// BatchNormalizationFoldingModifier{.opposite = true} being exactly
// convert<Net, AddBiasModifier{}, BatchNormalizationFoldingOppositeModifierInner{}>.
#include <doctest/doctest.h>

#include "bn_folding_support.hpp"
#include "ref_nets_folding.hpp"

using namespace kata;
using test::same_structure;

namespace {

constexpr double tol = 1e-5;

// ---- small_bn_opp_resnet (pad 0; every convolution biased) ----------------------------------------------
using OppNet = network<ref::small_bn_opp_resnet<2, 0>>;
using OppInner = convert<OppNet, BatchNormalizationFoldingOppositeModifierInner{}>;
using OppList = convert<OppNet, BatchNormalizationFoldingModifier{.opposite = true}>;
using OppRef = network<ref::small_bn_opp_folded_resnet<2, false, 0>>;
static_assert(same_structure(OppInner::graph, OppRef::graph));
static_assert(test::identical(OppInner::graph, OppList::graph));  // AddBias has nothing to add here
static_assert(OppInner::derivations.size() == 10);
static_assert(OppInner::derivations[1].kind == derivation_kind::bn_fold_bias_opposite);
static_assert(OppInner::derivations[3].target == std::string_view("cb1/conv/b-opp-folded"));

TEST_CASE("BatchNormalizationFoldingOppositeModifierInner alone: closed form, values, reference") {
    CHECK(test::same_derivations(OppInner::derivations, OppList::derivations));
    auto store = test::prepare<OppNet, OppInner>();
    // cb1/conv: W (16, 16, 1, 1) reads cb1/bn: W'[o, i] = W c0[i], b'[o] = b[o] + sum_i W[o, i] c1[i].
    const auto bn = test::bn_c0_c1(store, "cb1/bn");
    const auto& W = store.at("cb1/conv/W").data;
    std::vector<double> w(W.size()), b(16);
    for (std::size_t o = 0; o < 16; ++o) b[o] = store.at("cb1/conv/b").data(o);
    for (std::size_t t = 0; t < W.size(); ++t) {
        w[t] = double(W.data()[t]) * bn.c0[t % 16];
        b[t / 16] += double(W.data()[t]) * bn.c1[t % 16];
    }
    CHECK(test::rel_err(store.at("cb1/conv/w-opp-folded").data, w) < 1e-6);
    CHECK(test::rel_err(store.at("cb1/conv/b-opp-folded").data, b) < 1e-6);
    CHECK(test::compare<OppNet, OppInner>(store) < tol);
    CHECK(test::compare_with_reference<OppNet, OppInner, OppRef>(store) < tol);
}

// ---- bn_opp_lenet with a bias-less conv1 ----------------------------------------------------------------
// Alone, the opposite folder gives conv1 the bias sum W c1 itself (no bias source); the graph equals the
// list's (whose AddBias zero `conv1/b` is then unused), and so do the values.
using LeNet = network<ref::bn_opp_lenet<false, false>>;
using LeNetInner = convert<LeNet, BatchNormalizationFoldingOppositeModifierInner{}>;
using LeNetList = convert<LeNet, BatchNormalizationFoldingModifier{.opposite = true}>;
using LeNetByHand = convert<LeNet, AddBiasModifier{}, BatchNormalizationFoldingOppositeModifierInner{}>;
static_assert(LeNetInner::graph.count(op_kind::batch_normalization) == 0);
static_assert(same_structure(LeNetInner::graph, network<ref::bn_folding_lenet_layout<false>>::graph));
static_assert(LeNetInner::derivations.size() == 6);
static_assert(LeNetInner::derivations[1].sources[src_b].empty());
static_assert(test::equivalent(LeNetInner::graph, LeNetList::graph));
// The list is AddBias + OppositeInner: same graph type and value, same derivations.
static_assert(test::identical(LeNetList::graph, LeNetByHand::graph));
static_assert(LeNetList::derivations.size() == 7 && LeNetByHand::derivations.size() == 7);

TEST_CASE("BatchNormalizationFoldingOppositeModifierInner alone on a bias-less convolution") {
    CHECK(test::same_derivations(LeNetList::derivations, LeNetByHand::derivations));
    auto store = test::prepare<LeNet, LeNetInner>();
    CHECK(!store.contains("conv1/conv/b"));
    CHECK(test::compare<LeNet, LeNetInner>(store) < tol);
    // The list's values (through AddBias's zero bias) are the same numbers.
    parameter_store list(313);
    models::synthetic_parameters<LeNet>(list);
    apply_conversion<LeNetList>(list);
    for (const char* name : {"conv1/conv/w-opp-folded", "conv1/conv/b-opp-folded", "conv2/conv/b-opp-folded",
                             "fc1/affine/w-opp-folded", "fc1/affine/b-opp-folded"})
        CHECK_MESSAGE(list.at(name).data == store.at(name).data, name);
}

// ---- one BN read by two IPs (and nothing else): folded into both, then removed -------------------------
constexpr void two_readers(builder& g) {
    var z = PF::batch_normalization(g.input("x", {2, 5, 7, 6}) / 255.0, ref::bn(true, "bn"));
    g.output(PF::convolution(z, 4, {1, 1}, {.with_bias = false, .name = "ca"}));
    g.output(PF::affine(z, 3, {.name = "fb"}));
}
using TwoReaders = network<two_readers>;
using TwoReadersFolded = convert<TwoReaders, BatchNormalizationFoldingModifier{.opposite = true}>;
static_assert(TwoReadersFolded::graph.count(op_kind::batch_normalization) == 0);
static_assert(TwoReadersFolded::derivations.size() == 5);  // ca/b, then w/b-opp-folded for ca and fb
static_assert(TwoReadersFolded::graph.find(op_kind::parameter, "fb/affine/w-opp-folded") >= 0);

TEST_CASE("a BN read by a Convolution and an Affine is folded into both") {
    auto store = test::prepare<TwoReaders, TwoReadersFolded>();
    CHECK(test::compare<TwoReaders, TwoReadersFolded>(store) < tol);
}

}  // namespace
