// New-style BN folding (IP -> BN) on channel-last networks: upstream's small_cl_resnet
// (docs/nnabla-semantics.md §8.2; its channel_last test cases need cuDNN upstream) in 1-D, 2-D and 3-D with
// BatchNormalizationFoldingModifier{.channel_last = true}. A channel-last Convolution's W is
// (O, k.., I/g): the BN scales axis 0 (upstream swaps the BN vector's last axis with axis 0). Structure
// against small_cl_bn_folding_resnet at compile time, values against the original, the closed form of one
// layer, and the reference network carrying the folded values (2-D).
#include <doctest/doctest.h>

#include "bn_folding_support.hpp"
#include "ref_nets_folding.hpp"

using namespace kata;
using test::same_structure;

namespace {

constexpr double tol = 1e-5;

template <int D>
using ClNet = network<ref::small_cl_resnet<D, true>>;
template <int D>
using ClFolded = convert<ClNet<D>, BatchNormalizationFoldingModifier{.channel_last = true}>;
template <int D>
using ClRef = network<ref::small_cl_bn_folding_resnet<D>>;

template <class G>
constexpr bool all_convs_channel_last(const G& g) {
    int n = 0;
    for (int t = 0; t < g.num_order; ++t) {
        const node& f = g.nodes[std::size_t(g.order[std::size_t(t)])];
        if (f.op != op_kind::convolution) continue;
        if (!f.attr.channel_last) return false;
        ++n;
    }
    return n == 5;
}

static_assert(ClFolded<1>::graph.count(op_kind::batch_normalization) == 0);
static_assert(ClFolded<2>::graph.count(op_kind::batch_normalization) == 0);
static_assert(ClFolded<3>::graph.count(op_kind::batch_normalization) == 0);
static_assert(same_structure(ClFolded<1>::graph, ClRef<1>::graph));
static_assert(same_structure(ClFolded<2>::graph, ClRef<2>::graph));
static_assert(same_structure(ClFolded<3>::graph, ClRef<3>::graph));
static_assert(all_convs_channel_last(ClFolded<2>::graph) && all_convs_channel_last(ClFolded<3>::graph));
// AddBias b + w-folded + b-folded for each of the five convolutions; the bias has O = 16 elements.
static_assert(ClFolded<2>::derivations.size() == 15);
static_assert(ClFolded<2>::derivations[0].target == std::string_view("first-conv/conv/b"));
static_assert(ClFolded<2>::derivations[0].shape == shape_t{16});
static_assert(ClFolded<3>::graph.find(op_kind::parameter, "cb4/conv/w-folded") >= 0);
// kata reads each layer's layout from the graph: the flag changes nothing.
static_assert(test::equivalent(ClFolded<2>::graph,
                               convert<ClNet<2>, BatchNormalizationFoldingModifier{}>::graph));

TEST_CASE_TEMPLATE("BN folding on the channel-last small_cl_resnet is exact (1-D, 2-D, 3-D)", T,
                   std::integral_constant<int, 1>, std::integral_constant<int, 2>,
                   std::integral_constant<int, 3>) {
    constexpr int D = T::value;
    auto store = test::prepare<ClNet<D>, ClFolded<D>>();
    CHECK(test::compare<ClNet<D>, ClFolded<D>>(store) < tol);
    // cb2/conv: W (16, k.., 16) channel-last; w-folded[o, ...] = c0[o] W[o, ...], b-folded = c1 (AddBias b =
    // 0).
    const auto bn = test::bn_c0_c1(store, "cb2/bn");
    const auto& W = store.at("cb2/conv/W").data;
    const std::size_t per_o = W.size() / 16;
    std::vector<double> w(W.size());
    for (std::size_t t = 0; t < W.size(); ++t) w[t] = double(W.data()[t]) * bn.c0[t / per_o];
    CHECK(test::rel_err(store.at("cb2/conv/w-folded").data, w) < 1e-6);
    CHECK(test::rel_err(store.at("cb2/conv/b-folded").data, bn.c1) < 1e-6);
}

TEST_CASE("the channel-last reference network with the folded values equals small_cl_resnet (2-D)") {
    auto store = test::prepare<ClNet<2>, ClFolded<2>>();
    CHECK(test::compare_with_reference<ClNet<2>, ClFolded<2>, ClRef<2>>(store) < tol);
    // and the check is sharp: scaling the wrong W axis (the input channels, last) is detected.
    const auto bn = test::bn_c0_c1(store, "cb3/bn");
    auto& wf = store.at("cb3/conv/w-folded").data;
    const auto& W = store.at("cb3/conv/W").data;
    for (std::size_t t = 0; t < W.size(); ++t) wf.data()[t] = float(W.data()[t] * bn.c0[t % 16]);
    CHECK(test::compare<ClNet<2>, ClFolded<2>>(store) > tol);
}

}  // namespace
