// Opposite BN folding (BN -> Deconvolution) on upstream's small_bn_opp_dcn (docs/nnabla-semantics.md §8.2;
// reference small_opp_dcn). Deconvolution W is (I, O/g, k..): c0 scales axis 0 (the input channels), and
// b'[o] = b[o] + sum_{i,k} W[i, o, k] c1[i] is exact only when every output position receives every
// kernel tap: stride 1 and pad >= dilation (k - 1) + output_padding. Upstream's 3x3 pad 1 (and 3x3 pad 0)
// are refused at compile time (compile_fail/opposite_fold_deconv_pad*.cpp); here the exact variants:
// 1x1 pad 0 in 1-D, 2-D and 3-D (this file) and 3x3 pad 2 (bn_folding_deconv_opposite_full.cpp).
#include <doctest/doctest.h>

#include "bn_folding_support.hpp"
#include "ref_nets_folding.hpp"

using namespace kata;
using test::same_structure;

namespace {

constexpr double tol = 1e-5;

template <int D, bool WBias = true>
using OppDcn = network<ref::small_bn_opp_dcn<D, false, 1, 0, WBias>>;
template <int D, bool WBias = true>
using OppDcnFolded = convert<OppDcn<D, WBias>, BatchNormalizationFoldingModifier{.opposite = true}>;
template <int D>
using OppDcnRef = network<ref::small_opp_dcn<D, false, 1, 0>>;

static_assert(same_structure(OppDcnFolded<1>::graph, OppDcnRef<1>::graph));
static_assert(same_structure(OppDcnFolded<2>::graph, OppDcnRef<2>::graph));
static_assert(same_structure(OppDcnFolded<3>::graph, OppDcnRef<3>::graph));
static_assert(OppDcnFolded<2>::graph.count(op_kind::batch_normalization) == 0);
static_assert(OppDcnFolded<2>::derivations.size() == 6);
static_assert(OppDcnFolded<2>::graph.find(op_kind::parameter, "dcn-deconv3/last-conv/deconv/w-opp-folded") >=
              0);
// Without biases AddBias gives one to the three deconvolutions that read a BN, sized by their output
// channels; deconv1/3/5 (input and first consumer not a BN) stay without.
static_assert(OppDcnFolded<2, false>::derivations.size() == 9);
static_assert(OppDcnFolded<2, false>::derivations[0].target ==
              std::string_view("dcn-deconv1/deconv2/deconv/b"));
static_assert(OppDcnFolded<2, false>::graph.find(op_kind::parameter, "dcn-deconv1/deconv1/deconv/b") < 0);

// dcn-deconv1/deconv2: W (16, 16, 1..) reads bn1: W'[i, o] = W c0[i], b'[o] = b[o] + sum_i W[i, o] c1[i].
void check_deconv2_closed_form(const parameter_store& store, bool with_bias) {
    const auto bn = test::bn_c0_c1(store, "dcn-deconv1/bn1/bn");
    const auto& W = store.at("dcn-deconv1/deconv2/deconv/W").data;
    std::vector<double> w(W.size()), b(16, 0.0);
    if (with_bias)
        for (std::size_t o = 0; o < 16; ++o) b[o] = store.at("dcn-deconv1/deconv2/deconv/b").data(o);
    for (std::size_t t = 0; t < W.size(); ++t) {
        w[t] = double(W.data()[t]) * bn.c0[t / 16];
        b[t % 16] += double(W.data()[t]) * bn.c1[t / 16];
    }
    CHECK(test::rel_err(store.at("dcn-deconv1/deconv2/deconv/w-opp-folded").data, w) < 1e-6);
    CHECK(test::rel_err(store.at("dcn-deconv1/deconv2/deconv/b-opp-folded").data, b) < 1e-6);
}

TEST_CASE_TEMPLATE("opposite folding into 1x1 pad-0 Deconvolutions is exact (1-D, 2-D, 3-D)", T,
                   std::integral_constant<int, 1>, std::integral_constant<int, 2>,
                   std::integral_constant<int, 3>) {
    constexpr int D = T::value;
    auto store = test::prepare<OppDcn<D>, OppDcnFolded<D>>();
    CHECK(test::compare<OppDcn<D>, OppDcnFolded<D>>(store) < tol);
    check_deconv2_closed_form(store, true);
}

TEST_CASE("small_opp_dcn carrying the opposite-folded values equals small_bn_opp_dcn") {
    auto store = test::prepare<OppDcn<2>, OppDcnFolded<2>>();
    CHECK(test::compare_with_reference<OppDcn<2>, OppDcnFolded<2>, OppDcnRef<2>>(store) < tol);
}

TEST_CASE("opposite folding into Deconvolutions without bias (AddBias first)") {
    auto store = test::prepare<OppDcn<2, false>, OppDcnFolded<2, false>>();
    CHECK(test::compare<OppDcn<2, false>, OppDcnFolded<2, false>>(store) < tol);
    check_deconv2_closed_form(store, false);
    CHECK(store.at("dcn-deconv1/deconv2/deconv/b").data == xt::zeros<float>({16}));
}

}  // namespace
