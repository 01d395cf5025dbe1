// Edge cases of both folders that the reference networks do not reach: a BN on a non-channel axis (kept
// next to a convolution, folded into an Affine along that axis), an IP whose output is also a graph
// output (kept: the unfolded value is needed), and no_scale / no_bias BNs in the opposite direction
// (beta = 0 / gamma = 1); BNs over several axes (nnabla's axes=[...]) through every BN converter.
#include <doctest/doctest.h>

#include "bn_folding_support.hpp"
#include "converter_checks.hpp"
#include "ref_nets_folding.hpp"

using namespace kata;

namespace {

constexpr double tol = 1e-5;

// conv -> BN(axis 2) is not a per-output-channel affine map of the conv: kept. BN(axis 2) -> conv: kept.
// BN(axis 2) -> Affine: every flattened input element has one BN channel, so it folds.
constexpr void axes(builder& g) {
    var x = g.input("x", {2, 4, 6, 5}) / 255.0;
    var h = PF::convolution(x, 6, {1, 1}, {.name = "c1"});
    h = PF::batch_normalization(h, ref::bn(true, "bn-h", 2));  // H axis after c1
    var y = PF::convolution(F::relu(h), 3, {1, 1}, {.name = "c2"});
    var z = PF::batch_normalization(y, ref::bn(true, "bn-h2", 2));
    g.output(PF::convolution(z, 2, {1, 1}, {.name = "c3"}));  // BN(axis 2) -> conv
    g.output(PF::affine(z, 7, {.name = "fc"}));               // BN(axis 2) -> Affine
}
using Axes = network<axes>;
using AxesInner = convert<Axes, BatchNormalizationFoldingModifier{}>;
using AxesOpp = convert<Axes, BatchNormalizationFoldingModifier{.opposite = true}>;
static_assert(AxesInner::graph.count(op_kind::batch_normalization) == 2);
static_assert(AxesInner::graph.find(op_kind::parameter, "c1/conv/w-folded") < 0);
// Opposite: bn-h2 folds into fc but must stay for c3; bn-h feeds a ReLU: stays.
static_assert(AxesOpp::graph.count(op_kind::batch_normalization) == 2);
static_assert(AxesOpp::graph.find(op_kind::parameter, "fc/affine/w-opp-folded") >= 0);
static_assert(AxesOpp::graph.find(op_kind::parameter, "c3/conv/w-opp-folded") < 0);

TEST_CASE("BN on a non-channel axis: kept next to convolutions, folded into an Affine") {
    {
        auto store = test::prepare<Axes, AxesInner>();
        CHECK(test::compare<Axes, AxesInner>(store) < tol);
    }
    {
        auto store = test::prepare<Axes, AxesOpp>();
        CHECK(test::compare<Axes, AxesOpp>(store) < tol);
    }
}

// The conv's own output is a graph output: folding the BN into it would change that output.
constexpr void ip_output(builder& g) {
    var h = PF::convolution(g.input("x", {1, 3, 9, 8}) / 255.0, 5, {3, 3}, {.name = "c"});
    g.output(h);
    g.output(F::relu(PF::batch_normalization(h, ref::bn(true, "bn"))));
}
using IpOutput = network<ip_output>;
using IpOutputFolded = convert<IpOutput, BatchNormalizationFoldingModifier{}>;
static_assert(IpOutputFolded::graph.count(op_kind::batch_normalization) == 1);
static_assert(IpOutputFolded::graph.find(op_kind::parameter, "c/conv/w-folded") < 0);

// no_scale / no_bias BNs before IPs: c0 = 1 / sqrt(var + eps) without gamma, c1 = -mean c0 without beta.
template <bool NoScale, bool NoBias>
constexpr var bn_variant(var h, std::string_view name) {
    pf_batch_normalization_args a = ref::bn(true, name);
    a.no_scale = NoScale;
    a.no_bias = NoBias;
    return PF::batch_normalization(h, a);
}
constexpr var opp_variants(builder& g) {
    var h = g.input("x", {2, 4, 7, 7}) / 255.0;
    h = PF::convolution(bn_variant<true, false>(h, "bn1"), 6, {3, 3}, {.name = "c1"});
    h = PF::convolution(bn_variant<false, true>(F::relu(h), "bn2"), 6, {1, 1},
                        {.with_bias = false, .name = "c2"});
    return PF::affine(bn_variant<true, true>(F::relu(h), "bn3"), 5, {.name = "fc"});
}
using OppVariants = network<opp_variants>;
using OppVariantsFolded = convert<OppVariants, BatchNormalizationFoldingModifier{.opposite = true}>;
static_assert(network<opp_variants>::graph.count(op_kind::batch_normalization) == 3);
static_assert(OppVariantsFolded::graph.count(op_kind::batch_normalization) == 0);

TEST_CASE("an IP whose output is a graph output keeps its BN, opposite folding of no_scale/no_bias BNs") {
    {
        auto store = test::prepare<IpOutput, IpOutputFolded>();
        CHECK(test::compare<IpOutput, IpOutputFolded>(store) < tol);
    }
    {
        auto store = test::prepare<OppVariants, OppVariantsFolded>();
        CHECK(test::compare<OppVariants, OppVariantsFolded>(store) < tol);
        // bn1 has no gamma: W' = W / sqrt(var + eps) along the input channels.
        CHECK(!store.contains("bn1/bn/gamma"));
        const auto& W = store.at("c1/conv/W").data;  // (6, 4, 3, 3)
        const auto& var = store.at("bn1/bn/var").data;
        std::vector<double> w(W.size());
        for (std::size_t t = 0; t < W.size(); ++t)
            w[t] = double(W.data()[t]) / std::sqrt(double(var.data()[(t / 9) % 4]) + 1e-5);
        CHECK(test::rel_err(store.at("c1/conv/w-opp-folded").data, w) < 1e-6);
    }
}

}  // namespace

// ---- BNs over several axes (nnabla's axes=[...]; docs/training.md) -------------------------------------
// A BN over (C, H) or (C, W) scales each (c, h) / (c, w) separately: not a per-output-channel map of the
// convolution before it nor a per-input-channel one of the convolution after it, so both folders keep it
// (the graph is unchanged). Self folding is exact for any axes (c0, c1 in the BN's parameter shape,
// broadcast by Mul2/Add2); ChannelLast permutes the axes and the parameters; the fused-BN modifier
// carries the axes into FusedBatchNormalization. Values against the original network (synthetic
// parameters: BN statistics far from 0/1).
constexpr pf_batch_normalization_args bn_two_axes(std::string_view name, int a0, int a1) {
    pf_batch_normalization_args a = ref::bn(true, name);
    a.axes[0] = a0;
    a.axes[1] = a1;
    a.naxes = 2;
    return a;
}
constexpr var multi_axes(builder& g) {
    var x = g.input("x", {2, 3, 7, 5}) / 255.0;
    var h = PF::convolution(x, 6, {3, 3}, {.pad = {1, 1}, .name = "c1"});
    h = F::relu(PF::batch_normalization(h, bn_two_axes("bn1", 1, 2)));  // parameters (1, 6, 7, 1)
    var y = PF::convolution(h, 6, {1, 1}, {.name = "c2"});
    y = F::relu(PF::batch_normalization(y, bn_two_axes("bn2", 1, -1)) + h);  // parameters (1, 6, 1, 5)
    return PF::affine(y, 3, {.name = "fc"});
}
using Multi = network<multi_axes>;
static_assert(Multi::graph.count(op_kind::batch_normalization) == 2);
static_assert(test::same_structure(convert<Multi, BatchNormalizationFoldingModifier{}>::graph, Multi::graph));
static_assert(test::same_structure(convert<Multi, BatchNormalizationFoldingModifier{.opposite = true}>::graph,
                                   Multi::graph));
using MultiSelf = convert<Multi, BatchNormalizationSelfFoldingModifier{}>;
static_assert(MultiSelf::graph.count(op_kind::batch_normalization) == 0);
using MultiCl = convert<Multi, ChannelLastModifier{}>;
using MultiFused = convert<Multi, FusedBatchNormalizationModifier{}>;
// relu(BN(.)) and relu(BN(.) + h) both become FusedBatchNormalization.
static_assert(MultiFused::graph.count(op_kind::fused_batch_normalization) == 2);
static_assert(MultiFused::graph.count(op_kind::batch_normalization) == 0);

// The normalised axes of the BN-kind functions of g, in visit order, as a sorted list per function.
template <class G>
constexpr bool bn_axes_are(const G& g, std::initializer_list<std::initializer_list<int>> want) {
    auto it = want.begin();
    for (int t = 0; t < g.num_order; ++t) {
        const node& n = g.nodes[std::size_t(g.order[std::size_t(t)])];
        if (n.op != op_kind::batch_normalization && n.op != op_kind::fused_batch_normalization) continue;
        if (it == want.end() || n.attr.naxes != int(it->size())) return false;
        for (int a : *it) {
            bool found = false;
            for (int i = 0; i < n.attr.naxes; ++i) found = found || n.attr.axes[i] == a;
            if (!found) return false;
        }
        ++it;
    }
    return it == want.end();
}
static_assert(bn_axes_are(Multi::graph, {{1, 2}, {1, 3}}));
static_assert(bn_axes_are(MultiCl::graph, {{3, 1}, {3, 2}}));  // NHWC: C -> 3, H -> 1, W -> 2
static_assert(MultiCl::graph.nodes[std::size_t(MultiCl::graph.find(op_kind::parameter, "bn1/bn/gamma_cl"))]
                  .shape == shape_t{1, 7, 1, 6});
static_assert(bn_axes_are(MultiFused::graph, {{1, 2}, {1, 3}}));

TEST_CASE("BNs over several axes: kept by both folders, exact under self folding, ChannelLast and fusing") {
    {
        auto store = test::prepare<Multi, MultiSelf>();
        CHECK(test::compare<Multi, MultiSelf>(store) < tol);
    }
    {
        auto store = test::prepare<Multi, MultiCl>();
        CHECK(test::compare_layouts<Multi, MultiCl, true, 255.0f>(store) < tol);
    }
    {
        auto store = test::prepare<Multi, MultiFused>();
        CHECK(test::compare<Multi, MultiFused>(store) < tol);
    }
}
