// Opposite BN folding (BN -> IP, BatchNormalizationFoldingModifier{.opposite = true}) beyond
// bn_folding.cpp: the structure against the reference networks (small_bn_opp_resnet at pad 0 ->
// small_bn_opp_folded_resnet, bn_opp_lenet -> bn_folding_lenet), the folded values against the closed
// form, and docs/nnabla-semantics.md §10.1 / 10.6: upstream writes W c0 and b + sum(c0 W c1) into the
// ORIGINAL W and b, so a second conversion folds twice and the source network changes. kata derives new
// parameters: applying twice, or converting the folded network again, gives the same values; the sources stay
// untouched; new BN statistics propagate on the next apply.
#include <doctest/doctest.h>

#include "bn_folding_support.hpp"
#include "ref_nets_folding.hpp"

using namespace kata;
using test::same_structure;

namespace {

constexpr double tol = 1e-5;

// ---- small_bn_opp_resnet (channel-first 2-D, pad 0) ---------------------------------------------------
using OppNet = network<ref::small_bn_opp_resnet<2, 0>>;
using Opp = convert<OppNet, BatchNormalizationFoldingModifier{.opposite = true}>;
using OppRef = network<ref::small_bn_opp_folded_resnet<2, false, 0>>;
static_assert(same_structure(Opp::graph, OppRef::graph));
// ref_nets_folding.hpp's two-layout port is the same network as ref_nets.hpp's.
static_assert(same_structure(OppNet::graph, network<ref::small_bn_opp_resnet_l<2, false, 0>>::graph));
// Every convolution already has a bias (AddBias adds nothing): w-opp-folded and b-opp-folded per conv.
static_assert(Opp::derivations.size() == 10);
static_assert(Opp::graph.find(op_kind::parameter, "first-conv/conv/W") < 0);
static_assert(Opp::graph.find(op_kind::parameter, "first-bn/bn/mean") < 0);
static_assert(Opp::graph.find(op_kind::parameter, "cb1/bn/mean") >= 0);  // kept for the Add2

// Converting the folded network again: nothing left to fold (the block convolutions now read the BN's
// input), so the same graph and the same derivations; upstream would fold W a second time.
using OppTwice = convert<Opp, BatchNormalizationFoldingModifier{.opposite = true}>;
static_assert(test::equivalent(OppTwice::graph, Opp::graph));
static_assert(OppTwice::derivations.size() == Opp::derivations.size());

// Closed form of the stem fold: W'[o,i,k] = W[o,i,k] c0[i], b'[o] = b[o] + sum_{i,k} W[o,i,k] c1[i].
struct stem_fold {
    std::vector<double> w, b;
};
stem_fold stem_closed_form(const parameter_store& store) {
    const auto bn = test::bn_c0_c1(store, "first-bn/bn");
    const auto& W = store.at("first-conv/conv/W").data;  // (16, 3, 3, 3)
    const auto& b = store.at("first-conv/conv/b").data;
    stem_fold r;
    r.w.resize(W.size());
    r.b.assign(16, 0.0);
    for (std::size_t o = 0; o < 16; ++o) {
        r.b[o] = b(o);
        for (std::size_t i = 0; i < 3; ++i)
            for (std::size_t k = 0; k < 9; ++k) {
                const std::size_t t = (o * 3 + i) * 9 + k;
                r.w[t] = double(W.data()[t]) * bn.c0[i];
                r.b[o] += double(W.data()[t]) * bn.c1[i];
            }
    }
    return r;
}

TEST_CASE("opposite folding: closed form, reference structure, sources untouched") {
    parameter_store store(313);
    models::synthetic_parameters<OppNet>(store);
    const auto originals = test::snapshot(store);
    apply_conversion<Opp>(store);
    CHECK(test::unchanged(store, originals));  // upstream overwrites first-conv/W and first-conv/b
    const stem_fold cf = stem_closed_form(store);
    CHECK(test::rel_err(store.at("first-conv/conv/w-opp-folded").data, cf.w) < 1e-6);
    CHECK(test::rel_err(store.at("first-conv/conv/b-opp-folded").data, cf.b) < 1e-6);
    CHECK(test::compare<OppNet, Opp>(store) < tol);
    CHECK(test::compare_with_reference<OppNet, Opp, OppRef>(store) < tol);
}

TEST_CASE("opposite folding is idempotent: apply twice, convert twice, no stale values") {
    parameter_store store(313);
    models::synthetic_parameters<OppNet>(store);
    const auto originals = test::snapshot(store);
    CHECK(test::same_derivations(OppTwice::derivations, Opp::derivations));
    apply_conversion<Opp>(store);
    const auto once = test::snapshot(store);
    const std::size_t n1 = store.size();
    apply_conversion<Opp>(store);       // upstream: W c0 c0, the bias folded twice
    apply_conversion<OppTwice>(store);  // the whole chain again
    CHECK(store.size() == n1);
    CHECK(test::unchanged(store, once));
    CHECK(test::compare<OppNet, OppTwice>(store) < tol);

    // New statistics of the stem BN and of a block BN: the derived values follow on the next apply.
    store.at("first-bn/bn/var").data *= 1.7f;
    store.at("first-bn/bn/beta").data += 0.25f;
    store.at("cb2/bn/mean").data += 0.3f;
    const auto w1 = once.at("first-conv/conv/w-opp-folded");
    const auto b1 = once.at("first-conv/conv/b-opp-folded");
    const auto cb2_b1 = once.at("cb2/conv/b-opp-folded");
    apply_conversion<Opp>(store);
    CHECK(!(store.at("first-conv/conv/w-opp-folded").data == w1));
    CHECK(!(store.at("first-conv/conv/b-opp-folded").data == b1));
    CHECK(!(store.at("cb2/conv/b-opp-folded").data == cb2_b1));
    const stem_fold cf = stem_closed_form(store);
    CHECK(test::rel_err(store.at("first-conv/conv/w-opp-folded").data, cf.w) < 1e-6);
    CHECK(test::rel_err(store.at("first-conv/conv/b-opp-folded").data, cf.b) < 1e-6);
    CHECK(test::compare<OppNet, Opp>(store) < tol);
    // The sources other than the three changed statistics are still the originals.
    for (const auto& [name, data] : originals)
        if (name != "first-bn/bn/var" && name != "first-bn/bn/beta" && name != "cb2/bn/mean")
            CHECK_MESSAGE(store.at(name).data == data, name);
}

// The checks above fail for upstream's arithmetic: its bias b + sum(c0 W c1) and its double fold
// (W c0 c0 after a second conversion) are both detected.
TEST_CASE("the opposite-folding checks detect upstream's bias and double fold") {
    parameter_store store(313);
    models::synthetic_parameters<OppNet>(store);
    apply_conversion<Opp>(store);
    const auto bn = test::bn_c0_c1(store, "first-bn/bn");
    const auto& W = store.at("first-conv/conv/W").data;
    {
        parameter_store s = store;
        auto& b = s.at("first-conv/conv/b-opp-folded").data;
        for (std::size_t o = 0; o < 16; ++o) {
            double v = store.at("first-conv/conv/b").data(o);
            for (std::size_t i = 0; i < 3; ++i)
                for (std::size_t k = 0; k < 9; ++k) v += bn.c0[i] * W.data()[(o * 3 + i) * 9 + k] * bn.c1[i];
            b(o) = float(v);
        }
        CHECK(test::rel_err(b, stem_closed_form(s).b) > 1e-3);
        CHECK(test::compare<OppNet, Opp>(s) > tol);
    }
    {
        parameter_store s = store;
        auto& w = s.at("first-conv/conv/w-opp-folded").data;
        for (std::size_t t = 0; t < w.size(); ++t) w.data()[t] = float(w.data()[t] * bn.c0[(t / 9) % 3]);
        CHECK(test::compare<OppNet, Opp>(s) > tol);
    }
}

// ---- bn_opp_lenet: BN on the graph input, BN -> conv (pad 0, exact), BN -> Affine on a 4-D input ------
// (upstream's BN -> Affine always crashes; the net is unused upstream). conv1 has no bias: AddBias gives
// it one because its input is a BN.
using OppLeNet = network<ref::bn_opp_lenet<false, false>>;
using OppLeNetFolded = convert<OppLeNet, BatchNormalizationFoldingModifier{.opposite = true}>;
using LeNetRef = network<ref::bn_folding_lenet_layout<false>>;
static_assert(OppLeNetFolded::graph.count(op_kind::batch_normalization) == 0);
static_assert(same_structure(OppLeNetFolded::graph, LeNetRef::graph));
static_assert(same_structure(LeNetRef::graph, network<ref::bn_folding_lenet>::graph));  // = upstream's
static_assert(OppLeNetFolded::derivations.size() == 7);  // conv1/b, then w/b-opp-folded for 3 layers
static_assert(OppLeNetFolded::derivations[0].target == std::string_view("conv1/conv/b"));
static_assert(OppLeNetFolded::graph.find(op_kind::parameter, "fc1/affine/w-opp-folded") >= 0);
TEST_CASE("opposite folding on bn_opp_lenet (graph-input BN, BN -> Affine)") {
    auto store = test::prepare<OppLeNet, OppLeNetFolded>();
    CHECK(test::compare<OppLeNet, OppLeNetFolded>(store) < tol);
    CHECK(test::compare_with_reference<OppLeNet, OppLeNetFolded, LeNetRef>(store) < tol);
    // conv1's bias is sum_{i,k} W c1 alone (AddBias's zero bias plus the fold).
    const auto bn = test::bn_c0_c1(store, "conv1-bn/bn");
    const auto& W = store.at("conv1/conv/W").data;  // (16, 3, 5, 5)
    std::vector<double> b(16, 0.0);
    for (std::size_t t = 0; t < W.size(); ++t) b[t / 75] += double(W.data()[t]) * bn.c1[(t / 25) % 3];
    CHECK(test::rel_err(store.at("conv1/conv/b-opp-folded").data, b) < 1e-6);
    CHECK(store.at("conv1/conv/b").data == xt::zeros<float>({16}));
}

}  // namespace
