// BN folding (Deconvolution -> BN) on upstream's deconvolution reference networks (docs/nnabla-semantics.md
// §8.2: small_bn_dcn folded must equal small_dcn; the cases are commented out upstream because AddBias gives
// a deconvolution W.shape[0] = INPUT-channel bias, docs/nnabla-semantics.md §10.3, and the first
// deconvolution here maps 3 -> 16 channels). Deconvolution W is (I, O/g, k..) or channel-last (I, k.., O/g):
// the BN scales the output axis (1, or the last). 1-D, 2-D and 3-D channel-first, 2-D channel-last, with and
// without biases.
#include <doctest/doctest.h>

#include "bn_folding_support.hpp"
#include "ref_nets_folding.hpp"

using namespace kata;
using test::same_structure;

namespace {

constexpr double tol = 1e-5;

template <int D, bool CL = false, bool WBias = false>
using Dcn = network<ref::small_bn_dcn<D, CL, WBias>>;
template <int D, bool CL = false, bool WBias = false>
using DcnFolded = convert<Dcn<D, CL, WBias>, BatchNormalizationFoldingModifier{.channel_last = CL}>;
template <int D, bool CL = false>
using DcnRef = network<ref::small_dcn<D, CL>>;

static_assert(same_structure(DcnFolded<1>::graph, DcnRef<1>::graph));
static_assert(same_structure(DcnFolded<2>::graph, DcnRef<2>::graph));
static_assert(same_structure(DcnFolded<3>::graph, DcnRef<3>::graph));
static_assert(same_structure(DcnFolded<2, true>::graph, DcnRef<2, true>::graph));
static_assert(same_structure(DcnFolded<2, false, true>::graph, DcnRef<2>::graph));  // upstream's w_bias=True
static_assert(DcnFolded<3>::graph.count(op_kind::batch_normalization) == 0);
static_assert(DcnFolded<2, true>::graph.count(op_kind::batch_normalization) == 0);
// AddBias: deconv1 maps 3 -> 16 channels, its bias has the OUTPUT length 16 (upstream: W.shape[0] = 3).
static_assert(DcnFolded<2>::derivations.size() == 9);
static_assert(DcnFolded<2>::derivations[0].target == std::string_view("dcn-deconv1/deconv1/deconv/b"));
static_assert(DcnFolded<2>::derivations[0].shape == shape_t{16});
static_assert(DcnFolded<2, true>::derivations[0].shape == shape_t{16});
static_assert(DcnFolded<2, false, true>::derivations.size() == 6);  // biased: w-folded, b-folded only
static_assert(DcnFolded<2>::graph.find(op_kind::parameter, "dcn-deconv3/deconv3/deconv/w-folded") >= 0);

// W'[i, o, k] = W[i, o, k] c0[o] with o on axis 1 (channel-first) or the last axis (channel-last).
template <bool CL>
void check_deconv1_closed_form(const parameter_store& store) {
    const auto bn = test::bn_c0_c1(store, "dcn-deconv1/bn1/bn");
    const auto& W = store.at("dcn-deconv1/deconv1/deconv/W").data;  // (3, 16, k..) or (3, k.., 16)
    const std::size_t taps = W.size() / 48;
    std::vector<double> w(W.size());
    for (std::size_t t = 0; t < W.size(); ++t)
        w[t] = double(W.data()[t]) * bn.c0[CL ? t % 16 : (t / taps) % 16];
    CHECK(test::rel_err(store.at("dcn-deconv1/deconv1/deconv/w-folded").data, w) < 1e-6);
    CHECK(test::rel_err(store.at("dcn-deconv1/deconv1/deconv/b-folded").data, bn.c1) <
          1e-6);  // AddBias b = 0
}

TEST_CASE_TEMPLATE("BN folding on small_bn_dcn is exact (1-D, 2-D, 3-D)", T, std::integral_constant<int, 1>,
                   std::integral_constant<int, 2>, std::integral_constant<int, 3>) {
    constexpr int D = T::value;
    auto store = test::prepare<Dcn<D>, DcnFolded<D>>();
    CHECK(test::compare<Dcn<D>, DcnFolded<D>>(store) < tol);
    check_deconv1_closed_form<false>(store);
}

TEST_CASE("BN folding on the channel-last small_bn_dcn is exact") {
    auto store = test::prepare<Dcn<2, true>, DcnFolded<2, true>>();
    CHECK(test::compare<Dcn<2, true>, DcnFolded<2, true>>(store) < tol);
    check_deconv1_closed_form<true>(store);
}

TEST_CASE("small_dcn carrying the folded values equals small_bn_dcn") {
    auto store = test::prepare<Dcn<2>, DcnFolded<2>>();
    CHECK(test::compare_with_reference<Dcn<2>, DcnFolded<2>, DcnRef<2>>(store) < tol);
    // Sharpness: scaling W's axis 0 (the INPUT channels, as a Convolution fold would) is detected on
    // deconv2 (16 -> 16, so the shapes agree and only the values can tell).
    const auto bn = test::bn_c0_c1(store, "dcn-deconv2/bn2/bn");
    const auto& W = store.at("dcn-deconv2/deconv2/deconv/W").data;
    auto& wf = store.at("dcn-deconv2/deconv2/deconv/w-folded").data;
    for (std::size_t t = 0; t < W.size(); ++t) wf.data()[t] = float(W.data()[t] * bn.c0[t / (W.size() / 16)]);
    CHECK(test::compare<Dcn<2>, DcnFolded<2>>(store) > tol);
}

}  // namespace
