// BatchNormalizationFoldingModifier (AddBias + Inner, and the opposite direction) on the reference
// networks of docs/nnabla-semantics.md §8.2 in 1-D, 2-D and 3-D, plus the upstream-bug cases of
// docs/nnabla-semantics.md §10 (Affine -> BN with I != O, grouped Deconvolution -> BN with I != O, forked BN
// outputs, BN -> IP exact at pad 0, a BN reading a graph input, no_scale/no_bias BNs) and idempotence
// (converting twice, applying twice). Structure is checked at compile time, values with the CPU executor and
// non-trivial BN statistics.
#include <doctest/doctest.h>

#include "converter_test_support.hpp"
#include "ref_nets.hpp"

using namespace kata;
using test::same_structure;

namespace {

constexpr double tol = 1e-5;

// ---- IP -> BN on small_bn_resnet (dims 1/2/3), reference small_bn_folding_resnet ------------------
template <int D>
using BnNet = network<ref::small_bn_resnet<D, true, false>>;
template <int D>
using Folded = convert<BnNet<D>, BatchNormalizationFoldingModifier{}>;

static_assert(Folded<1>::graph.count(op_kind::batch_normalization) == 0);
static_assert(Folded<2>::graph.count(op_kind::batch_normalization) == 0);
static_assert(Folded<3>::graph.count(op_kind::batch_normalization) == 0);
static_assert(same_structure(Folded<1>::graph, network<ref::small_bn_folding_resnet<1>>::graph));
static_assert(same_structure(Folded<2>::graph, network<ref::small_bn_folding_resnet<2>>::graph));
static_assert(same_structure(Folded<3>::graph, network<ref::small_bn_folding_resnet<3>>::graph));
// AddBias b, w-folded, b-folded per folded layer; names as upstream.
static_assert(Folded<2>::derivations.size() == 15);
static_assert(Folded<2>::graph.find(op_kind::parameter, "cb1/conv/w-folded") >= 0);
static_assert(Folded<2>::graph.find(op_kind::parameter, "cb1/conv/b-folded") >= 0);
static_assert(Folded<2>::graph.find(op_kind::parameter, "cb1/conv/W") < 0);  // original W no longer read
static_assert(Folded<2>::graph.find(op_kind::parameter, "cb1/bn/mean") < 0);

TEST_CASE_TEMPLATE("BN folding (IP -> BN) on small_bn_resnet is exact", T, std::integral_constant<int, 1>,
                   std::integral_constant<int, 2>, std::integral_constant<int, 3>) {
    auto store = test::prepare<BnNet<T::value>, Folded<T::value>>();
    CHECK(test::compare<BnNet<T::value>, Folded<T::value>>(store) < tol);
}

// With biased convolutions (w_bias=True upstream): AddBias adds nothing, the bias is folded.
using BnNetBias = network<ref::small_bn_resnet<2, true, true>>;
using FoldedBias = convert<BnNetBias, BatchNormalizationFoldingModifier{}>;
static_assert(FoldedBias::derivations.size() == 10);
static_assert(same_structure(FoldedBias::graph, network<ref::small_bn_folding_resnet<2>>::graph));
TEST_CASE("BN folding with biased convolutions") {
    auto store = test::prepare<BnNetBias, FoldedBias>();
    CHECK(test::compare<BnNetBias, FoldedBias>(store) < tol);
}

// LeNet: conv1 (no bias) and conv2 (bias) folded; reference bn_folding_lenet.
using LeNet = network<ref::bsf_lenet>;
using LeNetFolded = convert<LeNet, BatchNormalizationFoldingModifier{}>;
static_assert(same_structure(LeNetFolded::graph, network<ref::bn_folding_lenet>::graph) ==
              false);  // fc1 has no bias
static_assert(LeNetFolded::graph.count(op_kind::batch_normalization) == 0);
static_assert(LeNetFolded::graph.num_functions() == network<ref::bn_folding_lenet>::graph.num_functions());
TEST_CASE("BN folding on lenet") {
    auto store = test::prepare<LeNet, LeNetFolded>();
    CHECK(test::compare<LeNet, LeNetFolded>(store) < tol);
}

// ---- Affine -> BN with I != O (upstream: broadcast error / wrong axis) ---------------------------
constexpr var affine_bn(builder& g) {
    var x = g.input("x", {4, 24});
    var h = PF::affine(x, 10, {.with_bias = false, .name = "fc1"});
    h = PF::batch_normalization(h, ref::bn(true, "fc1-bn"));
    h = F::relu(h);
    h = PF::affine(h, 7, {.name = "fc2"});
    return PF::batch_normalization(h, ref::bn(true, "fc2-bn"));  // BN as the graph output
}
using AffineBn = network<affine_bn>;
using AffineFolded = convert<AffineBn, BatchNormalizationFoldingModifier{}>;
static_assert(AffineFolded::graph.count(op_kind::batch_normalization) == 0);
static_assert(AffineFolded::graph.count(op_kind::affine) == 2);
TEST_CASE("Affine -> BN folds along the output axis (I != O)") {
    auto store = test::prepare<AffineBn, AffineFolded>();
    CHECK(test::compare<AffineBn, AffineFolded>(store) < tol);
}

// ---- grouped Deconvolution -> BN with I != O, both layouts, 1-D/2-D ---------------------------------
template <bool CL>
constexpr var deconv_bn(builder& g) {
    var x = CL ? g.input("x", {2, 6, 6, 8}, layout::channel_last) : g.input("x", {2, 8, 6, 6});
    var h = PF::deconvolution(x, 12, {3, 3},
                              {.pad = {1, 1},
                               .stride = {2, 2},
                               .group = 4,
                               .channel_last = CL,
                               .with_bias = false,
                               .name = "deconv"});
    h = PF::batch_normalization(h, ref::bn(true, "bn", CL ? 3 : 1));
    return F::relu(h);
}
constexpr var deconv_bn_1d(builder& g) {
    var x = g.input("x", {2, 6, 9});
    var h = PF::deconvolution(x, 4, {3}, {.group = 2, .name = "deconv"});
    return PF::batch_normalization(h, ref::bn(true, "bn"));
}
using DeconvCF = network<deconv_bn<false>>;
using DeconvCL = network<deconv_bn<true>>;
using Deconv1D = network<deconv_bn_1d>;
using DeconvCFFolded = convert<DeconvCF, BatchNormalizationFoldingModifier{}>;
using DeconvCLFolded = convert<DeconvCL, BatchNormalizationFoldingModifier{.channel_last = true}>;
using Deconv1DFolded = convert<Deconv1D, BatchNormalizationFoldingModifier{}>;
static_assert(DeconvCFFolded::graph.count(op_kind::batch_normalization) == 0);
static_assert(DeconvCLFolded::graph.count(op_kind::batch_normalization) == 0);
// AddBias gives the deconvolution an OUTPUT-channel bias: (12,), not W.shape[0] = (8,).
static_assert(DeconvCFFolded::derivations[0].shape == shape_t{12});
TEST_CASE("grouped Deconvolution -> BN folding (I != O, groups, both layouts, 1-D)") {
    {
        auto store = test::prepare<DeconvCF, DeconvCFFolded>();
        CHECK(test::compare<DeconvCF, DeconvCFFolded>(store) < tol);
    }
    {
        auto store = test::prepare<DeconvCL, DeconvCLFolded>();
        CHECK(test::compare<DeconvCL, DeconvCLFolded>(store) < tol);
    }
    {
        auto store = test::prepare<Deconv1D, Deconv1DFolded>();
        CHECK(test::compare<Deconv1D, Deconv1DFolded>(store) < tol);
    }
}

// ---- forked conv output, BN reading a graph input, BN without scale/bias -----------------------------
constexpr var forked(builder& g) {
    var x = g.input("x", {1, 4, 8, 8});
    var xb = PF::batch_normalization(x, ref::bn(true, "input-bn"));  // BN on a graph input: kept
    var h = PF::convolution(xb, 4, {3, 3}, {.pad = {1, 1}, .name = "conv1"});
    var a = PF::batch_normalization(h, ref::bn(true, "bn1"));  // conv1's output is forked: kept
    var b = F::sigmoid(h);
    pf_batch_normalization_args nb = ref::bn(true, "bn2");
    nb.no_scale = true;
    nb.no_bias = true;
    var c = PF::batch_normalization(PF::convolution(a + b, 4, {3, 3}, {.pad = {1, 1}, .name = "conv2"}), nb);
    return c;
}
using Forked = network<forked>;
using ForkedFolded = convert<Forked, BatchNormalizationFoldingModifier{}>;
static_assert(ForkedFolded::graph.count(op_kind::batch_normalization) == 2);  // input-bn and bn1 stay
static_assert(ForkedFolded::graph.find(op_kind::parameter, "conv2/conv/w-folded") >= 0);
static_assert(ForkedFolded::graph.find(op_kind::parameter, "conv1/conv/w-folded") < 0);
TEST_CASE("forked IP output keeps its BN, BN on a graph input, no_scale and no_bias BNs") {
    auto store = test::prepare<Forked, ForkedFolded>();
    CHECK(test::compare<Forked, ForkedFolded>(store) < tol);
}

// ---- BN -> IP (opposite) at pad 0: exact; pad 1 is refused (compile_fail/opposite_fold_pad.cpp) ------
template <int D>
using OppNet = network<ref::small_bn_opp_resnet<D, 0>>;
template <int D>
using OppFolded = convert<OppNet<D>, BatchNormalizationFoldingModifier{.opposite = true}>;
// The forked block BNs (z feeds the conv and the Add2) stay for the Add2: only the stem BN disappears.
static_assert(OppFolded<2>::graph.count(op_kind::batch_normalization) == 4);
static_assert(OppFolded<2>::graph.find(op_kind::parameter, "first-conv/conv/w-opp-folded") >= 0);
static_assert(OppFolded<2>::graph.find(op_kind::parameter, "cb3/conv/b-opp-folded") >= 0);
TEST_CASE_TEMPLATE("opposite BN folding (BN -> IP) is exact at pad 0 and keeps forked BNs", T,
                   std::integral_constant<int, 1>, std::integral_constant<int, 2>,
                   std::integral_constant<int, 3>) {
    auto store = test::prepare<OppNet<T::value>, OppFolded<T::value>>();
    CHECK(test::compare<OppNet<T::value>, OppFolded<T::value>>(store) < tol);
}

// BN -> Affine (upstream always crashes), channel-first 4-D input and a 2-D input, and a grouped conv.
constexpr var bn_affine(builder& g) {
    var x = g.input("x", {2, 3, 4, 5});
    var h = PF::batch_normalization(x, ref::bn(true, "bn0"));
    h = PF::convolution(h, 6, {1, 1}, {.group = 3, .name = "gconv"});
    h = PF::batch_normalization(h, ref::bn(true, "bn1"));
    h = PF::affine(h, 7, {.name = "fc1"});
    h = PF::batch_normalization(h, ref::bn(true, "bn2"));
    return PF::affine(h, 5, {.with_bias = false, .name = "fc2"});
}
using BnAffine = network<bn_affine>;
using BnAffineFolded = convert<BnAffine, BatchNormalizationFoldingModifier{.opposite = true}>;
static_assert(BnAffineFolded::graph.count(op_kind::batch_normalization) == 0);
TEST_CASE("opposite folding into Affine and grouped Convolution") {
    auto store = test::prepare<BnAffine, BnAffineFolded>();
    CHECK(test::compare<BnAffine, BnAffineFolded>(store) < tol);
}

// ---- idempotence: converting twice / applying twice gives identical values --------------------------
using FoldedTwice = convert<Folded<2>, BatchNormalizationFoldingModifier{}>;
static_assert(same_structure(FoldedTwice::graph, Folded<2>::graph));
static_assert(FoldedTwice::derivations.size() == Folded<2>::derivations.size());
TEST_CASE("converting twice gives identical values and no stale parameters") {
    parameter_store store(313);
    models::synthetic_parameters<BnNet<2>>(store);
    apply_conversion<Folded<2>>(store);
    const xt::xarray<float> w1 = store.at("cb2/conv/w-folded").data;
    const xt::xarray<float> b1 = store.at("cb2/conv/b-folded").data;
    const std::size_t n1 = store.size();
    apply_conversion<Folded<2>>(store);    // upstream: get-or-create returns the first values
    apply_conversion<FoldedTwice>(store);  // the chain re-derives in order
    CHECK(store.size() == n1);
    CHECK(store.at("cb2/conv/w-folded").data == w1);
    CHECK(store.at("cb2/conv/b-folded").data == b1);
    // New statistics: a second conversion picks them up (stale upstream).
    store.at("cb2/bn/mean").data += 0.5f;
    apply_conversion<Folded<2>>(store);
    CHECK(store.at("cb2/conv/b-folded").data != b1);
    CHECK(test::compare<BnNet<2>, FoldedTwice>(store) < tol);
}

// The harness itself: a folded value off by 1e-3 is detected, and so is upstream's Affine fold along
// the INPUT axis (emulated by scaling rows, which upstream does when I == O).
TEST_CASE("the value comparison detects wrong folds") {
    auto store = test::prepare<BnNet<2>, Folded<2>>();
    store.at("cb3/conv/b-folded").data(3) += 1e-3f;
    CHECK(test::compare<BnNet<2>, Folded<2>>(store) > tol);
    auto s2 = test::prepare<AffineBn, AffineFolded>();
    derivation d = AffineFolded::derivations[1];  // fc1/w-folded (24, 10)
    REQUIRE(d.target == std::string_view("fc1/affine/w-folded"));
    d.map = channel_map{10, 10};  // scale rows (mod 10) instead of columns, as upstream
    xt::xarray<float> wrong = kata::detail::compute(s2, d);
    s2.at("fc1/affine/w-folded").data = wrong;
    CHECK(test::compare<AffineBn, AffineFolded>(s2) > tol);
}

}  // namespace
