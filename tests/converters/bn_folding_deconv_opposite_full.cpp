// Opposite BN folding into Deconvolutions with kernels larger than 1: exact when every output position
// receives every tap (stride 1, pad >= dilation (k - 1) + output_padding), where b + sum_{i,k} W c1 is
// the whole bias. small_bn_opp_dcn with 3x3 pad-2 deconvolutions after the BNs (channel-last 2-D, against
// small_opp_dcn), and a grouped (6 -> 4 channels, 2 groups), dilated (2) Deconvolution with
// output_padding (0, 1) and pad (4, 5) in both layouts. Anything less padded is refused
// (compile_fail/opposite_fold_deconv_pad.cpp, _pad0.cpp, _stride.cpp).
#include <doctest/doctest.h>

#include "bn_folding_support.hpp"
#include "ref_nets_folding.hpp"

using namespace kata;
using test::same_structure;

namespace {

constexpr double tol = 1e-5;

using OppDcnCl = network<ref::small_bn_opp_dcn<2, true, 3, 2, true>>;
using OppDcnClFolded =
    convert<OppDcnCl, BatchNormalizationFoldingModifier{.opposite = true, .channel_last = true}>;
using OppDcnClRef = network<ref::small_opp_dcn<2, true, 3, 2>>;
static_assert(same_structure(OppDcnClFolded::graph, OppDcnClRef::graph));
static_assert(OppDcnClFolded::graph.count(op_kind::batch_normalization) == 0);
// The pad-2 deconvolutions shrink the map: 32 -> 30 -> pool 15 -> 13 -> pool 6 -> 4 -> pool 2.
static_assert(
    OppDcnClFolded::graph
        .nodes[std::size_t(OppDcnClFolded::graph.order[std::size_t(OppDcnClFolded::graph.num_order - 2)])]
        .shape == shape_t{1, 2, 2, 16});

TEST_CASE("opposite folding into channel-last 3x3 pad-2 Deconvolutions is exact") {
    auto store = test::prepare<OppDcnCl, OppDcnClFolded>();
    CHECK(test::compare<OppDcnCl, OppDcnClFolded>(store) < tol);
    CHECK(test::compare_with_reference<OppDcnCl, OppDcnClFolded, OppDcnClRef>(store) < tol);
    // dcn-deconv2/deconv4: W (16, 3, 3, 16) channel-last reads bn2; i = axis 0, o = last axis.
    const auto bn = test::bn_c0_c1(store, "dcn-deconv2/bn2/bn");
    const auto& W = store.at("dcn-deconv2/deconv4/deconv/W").data;
    std::vector<double> w(W.size()), b(16);
    for (std::size_t o = 0; o < 16; ++o) b[o] = store.at("dcn-deconv2/deconv4/deconv/b").data(o);
    for (std::size_t t = 0; t < W.size(); ++t) {
        w[t] = double(W.data()[t]) * bn.c0[t / 144];
        b[t % 16] += double(W.data()[t]) * bn.c1[t / 144];
    }
    CHECK(test::rel_err(store.at("dcn-deconv2/deconv4/deconv/w-opp-folded").data, w) < 1e-6);
    CHECK(test::rel_err(store.at("dcn-deconv2/deconv4/deconv/b-opp-folded").data, b) < 1e-6);
}

template <bool CL>
constexpr var bn_gdeconv(builder& g) {
    var x = CL ? g.input("x", {2, 11, 9, 6}, layout::channel_last) : g.input("x", {2, 6, 11, 9});
    // /255 as in the reference nets (the harness scales inputs to [0, 255]).
    var h = PF::batch_normalization(x / 255.0, ref::bn(true, "bn", CL ? 3 : 1));
    h = PF::deconvolution(h, 4, {3, 3},
                          {.pad = {4, 5},
                           .dilation = {2, 2},
                           .group = 2,
                           .channel_last = CL,
                           .output_padding = {0, 1},
                           .name = "gdeconv"});
    return F::tanh(h);
}
template <bool CL>
using GDeconv = network<bn_gdeconv<CL>>;
template <bool CL>
using GDeconvFolded = convert<GDeconv<CL>, BatchNormalizationFoldingModifier{.opposite = true}>;
static_assert(GDeconvFolded<false>::graph.count(op_kind::batch_normalization) == 0);
static_assert(GDeconvFolded<true>::graph.count(op_kind::batch_normalization) == 0);
static_assert(GDeconv<false>::graph.nodes[std::size_t(GDeconv<false>::graph.outputs[0])].shape ==
              shape_t{2, 4, 7, 4});

TEST_CASE_TEMPLATE("opposite folding into a grouped, dilated Deconvolution with output_padding", T,
                   std::false_type, std::true_type) {
    constexpr bool CL = T::value;
    auto store = test::prepare<GDeconv<CL>, GDeconvFolded<CL>>();
    CHECK(test::compare<GDeconv<CL>, GDeconvFolded<CL>>(store) < tol);
    // W (6, 2, 3, 3) or (6, 3, 3, 2): input channel i = axis 0 (group i / 3), output o = (i / 3) 2 + j.
    const auto bn = test::bn_c0_c1(store, "bn");
    const auto& W = store.at("gdeconv/deconv/W").data;
    std::vector<double> b(4);
    for (std::size_t o = 0; o < 4; ++o) b[o] = store.at("gdeconv/deconv/b").data(o);
    for (std::size_t t = 0; t < W.size(); ++t) {
        const std::size_t i = t / 18, j = CL ? t % 2 : (t / 9) % 2;
        b[(i / 3) * 2 + j] += double(W.data()[t]) * bn.c1[i];
    }
    CHECK(test::rel_err(store.at("gdeconv/deconv/b-opp-folded").data, b) < 1e-6);
}

}  // namespace
