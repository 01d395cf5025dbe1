// Channel-last LeNets (upstream bn_lenet / bn_opp_lenet with channel_last=True, which cannot be built
// upstream; see ref_nets_folding.hpp) folded in both directions into the channel-last bn_folding_lenet:
// 5x5 pad-0 convolutions, so the opposite fold is exact; BN -> Affine after a channel-last (1,5,5,16)
// tensor (the BN channel is the fastest-varying index of fc1's flattened input).
#include <doctest/doctest.h>

#include "bn_folding_support.hpp"
#include "ref_nets_folding.hpp"

using namespace kata;
using test::same_structure;

namespace {

constexpr double tol = 1e-5;

using ClRef = network<ref::bn_folding_lenet_layout<true>>;

using BnLeNetCl = network<ref::bn_lenet<true, false>>;
using BnLeNetClFolded = convert<BnLeNetCl, BatchNormalizationFoldingModifier{.channel_last = true}>;
static_assert(same_structure(BnLeNetClFolded::graph, ClRef::graph));
static_assert(BnLeNetClFolded::graph.count(op_kind::batch_normalization) == 0);

using OppLeNetCl = network<ref::bn_opp_lenet<true, false>>;
using OppLeNetClFolded =
    convert<OppLeNetCl, BatchNormalizationFoldingModifier{.opposite = true, .channel_last = true}>;
static_assert(same_structure(OppLeNetClFolded::graph, ClRef::graph));
static_assert(OppLeNetClFolded::graph.count(op_kind::batch_normalization) == 0);
static_assert(OppLeNetClFolded::graph.find(op_kind::parameter, "fc1/affine/w-opp-folded") >= 0);

TEST_CASE("BN folding on the channel-last bn_lenet") {
    auto store = test::prepare<BnLeNetCl, BnLeNetClFolded>();
    CHECK(test::compare<BnLeNetCl, BnLeNetClFolded>(store) < tol);
    CHECK(test::compare_with_reference<BnLeNetCl, BnLeNetClFolded, ClRef>(store) < tol);
}

TEST_CASE("opposite BN folding on the channel-last bn_opp_lenet (BN -> Affine on NHWC)") {
    auto store = test::prepare<OppLeNetCl, OppLeNetClFolded>();
    CHECK(test::compare<OppLeNetCl, OppLeNetClFolded>(store) < tol);
    CHECK(test::compare_with_reference<OppLeNetCl, OppLeNetClFolded, ClRef>(store) < tol);
    // fc1: W (400, 10) over the flattened (5, 5, 16) input: BN channel of row r is r % 16.
    const auto bn = test::bn_c0_c1(store, "fc1-bn/bn");
    const auto& W = store.at("fc1/affine/W").data;
    const auto& b = store.at("fc1/affine/b").data;
    std::vector<double> w(W.size()), bb(10);
    for (std::size_t o = 0; o < 10; ++o) bb[o] = b(o);
    for (std::size_t t = 0; t < W.size(); ++t) {
        w[t] = double(W.data()[t]) * bn.c0[(t / 10) % 16];
        bb[t % 10] += double(W.data()[t]) * bn.c1[(t / 10) % 16];
    }
    CHECK(test::rel_err(store.at("fc1/affine/w-opp-folded").data, w) < 1e-6);
    CHECK(test::rel_err(store.at("fc1/affine/b-opp-folded").data, bb) < 1e-6);
}

}  // namespace
