// BN folding on the remaining upstream reference networks of docs/nnabla-semantics.md §8.2, each against its
// folded reference (structure at compile time, and the reference network carrying the folded values):
//   * small_multiple_inputs_outputs_resnet -> small_multiple_inputs_outputs_bn_folding_resnet (two
//     inputs x, z; two outputs; upstream test_multi_inputs_outputs compares per output);
//   * bn_lenet -> bn_folding_lenet (upstream's commented-out case: the Affine -> BN fold of fc1, 400 -> 10,
//     crashes upstream; kata folds along the output axis).
// The channel-last LeNets are in bn_folding_lenet_cl.cpp.
#include <doctest/doctest.h>

#include "bn_folding_support.hpp"
#include "ref_nets_folding.hpp"

using namespace kata;
using test::same_structure;

namespace {

constexpr double tol = 1e-5;

using Multi = network<ref::small_multiple_inputs_outputs_resnet<true, false>>;
using MultiFolded = convert<Multi, BatchNormalizationFoldingModifier{}>;
using MultiRef = network<ref::small_multiple_inputs_outputs_bn_folding_resnet>;
static_assert(same_structure(MultiFolded::graph, MultiRef::graph));
static_assert(MultiFolded::graph.num_outputs() == 2 && MultiRef::graph.num_outputs() == 2);
static_assert(MultiFolded::graph.count(op_kind::batch_normalization) == 0);
static_assert(MultiFolded::derivations.size() == 12);  // 4 convolutions x (b, w-folded, b-folded)
// Upstream's w_bias=True variant folds into the same reference.
static_assert(same_structure(convert<network<ref::small_multiple_inputs_outputs_resnet<true, true>>,
                                     BatchNormalizationFoldingModifier{}>::graph,
                             MultiRef::graph));

TEST_CASE("BN folding on the two-input, two-output ResNet equals its folded reference (both outputs)") {
    auto store = test::prepare<Multi, MultiFolded>();
    CHECK(test::compare<Multi, MultiFolded>(store) < tol);
    CHECK(test::compare_with_reference<Multi, MultiFolded, MultiRef>(store) < tol);
    // Each output is checked: a wrong fold in the second head alone is detected.
    store.at("cb2/conv/b-folded").data(0) += 1e-2f;
    CHECK(test::compare<Multi, MultiFolded>(store) > tol);
}

using BnLeNet = network<ref::bn_lenet<false, false>>;
using BnLeNetFolded = convert<BnLeNet, BatchNormalizationFoldingModifier{}>;
using LeNetRef = network<ref::bn_folding_lenet_layout<false>>;
static_assert(same_structure(BnLeNetFolded::graph, LeNetRef::graph));
static_assert(same_structure(LeNetRef::graph, network<ref::bn_folding_lenet>::graph));
static_assert(BnLeNetFolded::graph.count(op_kind::batch_normalization) == 0);
static_assert(BnLeNetFolded::graph.find(op_kind::parameter, "fc1/affine/w-folded") >= 0);
static_assert(
    same_structure(convert<network<ref::bn_lenet<false, true>>, BatchNormalizationFoldingModifier{}>::graph,
                   LeNetRef::graph));

TEST_CASE("BN folding on bn_lenet (incl. Affine 400 -> 10 -> BN) equals bn_folding_lenet") {
    auto store = test::prepare<BnLeNet, BnLeNetFolded>();
    CHECK(test::compare<BnLeNet, BnLeNetFolded>(store) < tol);
    CHECK(test::compare_with_reference<BnLeNet, BnLeNetFolded, LeNetRef>(store) < tol);
    // fc1: W (400, 10): W'[:, o] = c0[o] W[:, o] (upstream reshapes c0 to (10, 1): a broadcast error).
    const auto bn = test::bn_c0_c1(store, "fc1-bn/bn");
    const auto& W = store.at("fc1/affine/W").data;
    const auto& b = store.at("fc1/affine/b").data;
    std::vector<double> w(W.size()), bb(10);
    for (std::size_t t = 0; t < W.size(); ++t) w[t] = double(W.data()[t]) * bn.c0[t % 10];
    for (std::size_t o = 0; o < 10; ++o) bb[o] = bn.c1[o] + bn.c0[o] * double(b(o));
    CHECK(test::rel_err(store.at("fc1/affine/w-folded").data, w) < 1e-6);
    CHECK(test::rel_err(store.at("fc1/affine/b-folded").data, bb) < 1e-6);
}

}  // namespace
