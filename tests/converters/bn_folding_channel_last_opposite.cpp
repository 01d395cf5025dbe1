// Opposite BN folding (BN -> IP) on channel-last networks: small_bn_opp_resnet written channel-last
// (ref_nets_folding.hpp; the exact pad-0 variant: 3x3 pad-0 stem, 1x1 block convolutions) in 1-D, 2-D
// and 3-D with BatchNormalizationFoldingModifier{.opposite = true, .channel_last = true}. A channel-last
// Convolution's W is (O, k.., I/g): c0 scales the LAST axis and the bias sums W c1 over it and the
// kernel taps. Upstream's pad-1 network is refused (compile_fail/opposite_fold_pad_cl.cpp).
#include <doctest/doctest.h>

#include "bn_folding_support.hpp"
#include "ref_nets_folding.hpp"

using namespace kata;
using test::same_structure;

namespace {

constexpr double tol = 1e-5;

template <int D>
using OppCl = network<ref::small_bn_opp_resnet_l<D, true, 0>>;
template <int D>
using OppClFolded =
    convert<OppCl<D>, BatchNormalizationFoldingModifier{.opposite = true, .channel_last = true}>;
template <int D>
using OppClRef = network<ref::small_bn_opp_folded_resnet<D, true, 0>>;

static_assert(same_structure(OppClFolded<1>::graph, OppClRef<1>::graph));
static_assert(same_structure(OppClFolded<2>::graph, OppClRef<2>::graph));
static_assert(same_structure(OppClFolded<3>::graph, OppClRef<3>::graph));
// The stem BN is folded away; the four block BNs stay for their Add2.
static_assert(OppClFolded<2>::graph.count(op_kind::batch_normalization) == 4);
static_assert(OppClFolded<3>::graph.find(op_kind::parameter, "first-bn/bn/mean") < 0);
static_assert(OppClFolded<1>::graph.find(op_kind::parameter, "cb4/conv/w-opp-folded") >= 0);
static_assert(OppClFolded<2>::derivations.size() == 10);
static_assert(test::equivalent(
    OppClFolded<2>::graph, convert<OppCl<2>, BatchNormalizationFoldingModifier{.opposite = true}>::graph));

TEST_CASE_TEMPLATE("opposite BN folding on channel-last small ResNets is exact (1-D, 2-D, 3-D)", T,
                   std::integral_constant<int, 1>, std::integral_constant<int, 2>,
                   std::integral_constant<int, 3>) {
    constexpr int D = T::value;
    auto store = test::prepare<OppCl<D>, OppClFolded<D>>();
    CHECK(test::compare<OppCl<D>, OppClFolded<D>>(store) < tol);
    // Stem: W (16, 3.., 3) channel-last; W'[o, k, i] = W c0[i], b'[o] = b[o] + sum_{k,i} W[o, k, i] c1[i].
    const auto bn = test::bn_c0_c1(store, "first-bn/bn");
    const auto& W = store.at("first-conv/conv/W").data;
    const auto& b = store.at("first-conv/conv/b").data;
    const std::size_t per_o = W.size() / 16;
    std::vector<double> w(W.size()), bb(16);
    for (std::size_t o = 0; o < 16; ++o) bb[o] = b(o);
    for (std::size_t t = 0; t < W.size(); ++t) {
        w[t] = double(W.data()[t]) * bn.c0[t % 3];
        bb[t / per_o] += double(W.data()[t]) * bn.c1[t % 3];
    }
    CHECK(test::rel_err(store.at("first-conv/conv/w-opp-folded").data, w) < 1e-6);
    CHECK(test::rel_err(store.at("first-conv/conv/b-opp-folded").data, bb) < 1e-6);
}

TEST_CASE("the channel-last opposite-folded reference carries the folded values (2-D)") {
    auto store = test::prepare<OppCl<2>, OppClFolded<2>>();
    CHECK(test::compare_with_reference<OppCl<2>, OppClFolded<2>, OppClRef<2>>(store) < tol);
    // Sharpness: taking the input channel from axis 1 (the channel-first position) is detected.
    const auto bn = test::bn_c0_c1(store, "first-bn/bn");
    auto& wf = store.at("first-conv/conv/w-opp-folded").data;
    const auto& W = store.at("first-conv/conv/W").data;
    for (std::size_t t = 0; t < W.size(); ++t) wf.data()[t] = float(W.data()[t] * bn.c0[(t / 9) % 3]);
    CHECK(test::compare<OppCl<2>, OppClFolded<2>>(store) > tol);
}

}  // namespace
