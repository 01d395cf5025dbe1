// Batch normalizations without scale and/or bias (no_scale, no_bias: gamma and/or beta are absent, so
// every later input shifts; docs/nnabla-semantics.md §0.1: upstream's modifiers index inputs[1..4]
// positionally and mis-wire them) through the non-folding modifiers: BatchNormBatchStat / TestMode (the
// result equals the test-mode network, arguments included), self folding and the legacy BN-linear converter
// (c0 x + c1 with absent beta = 0, absent gamma = 1), FusedBatchNormalizationModifier (such BNs are not
// fused: the fused function needs beta and gamma), ChannelLast in test and training mode (no_scale / no_bias
// kept). Channel-first 4-D and 2-D (after an Affine) BNs, trained (non-trivial) statistics; values
// within 1e-5 relative, or exactly where the functions are the same.
#include <doctest/doctest.h>

#include "converter_checks.hpp"
#include "ref_nets.hpp"

using namespace kata;
using test::same_functions;

namespace {

constexpr double tol = 1e-5;

constexpr pf_batch_normalization_args partial(bool test, std::string_view name, bool no_scale, bool no_bias,
                                              int axis = 1) {
    pf_batch_normalization_args a = ref::bn(test, name, axis);
    a.no_scale = no_scale;
    a.no_bias = no_bias;
    return a;
}

// x (2, 6, 7, 5) -> conv -> BN(no_scale) -> ReLU -> conv -> relu(BN(no_bias)(h) + h) -> BN(neither)
// -> Affine -> 2-D BN(no_scale).
template <bool Test>
constexpr var partial_bn_net(builder& g) {
    var x = g.input("x", {2, 6, 7, 5});
    var h = PF::convolution(x, 8, {3, 3}, {.pad = {1, 1}, .name = "c1"});
    h = F::relu(PF::batch_normalization(h, partial(Test, "bn-ns", true, false)));
    h = PF::convolution(h, 8, {3, 3}, {.pad = {1, 1}, .name = "c2"});
    h = F::relu(PF::batch_normalization(h, partial(Test, "bn-nb", false, true)) + h);
    h = PF::batch_normalization(h, partial(Test, "bn-none", true, true));
    h = PF::affine(h, 6, {.name = "fc"});
    return PF::batch_normalization(h, partial(Test, "bn-fc", true, false));
}
template <bool Test>
using Net = network<partial_bn_net<Test>>;
static_assert(Net<true>::graph.find(op_kind::parameter, "bn-ns/bn/gamma") < 0);
static_assert(Net<true>::graph.find(op_kind::parameter, "bn-nb/bn/beta") < 0);
static_assert(Net<true>::graph.find(op_kind::parameter, "bn-none/bn/mean") >= 0);

// ---- BatchStat / TestMode -------------------------------------------------------------------------------
using BatchStat = convert<Net<false>, BatchNormBatchStatModifier{}>;
using TestMode = convert<Net<false>, TestModeModifier{}>;
static_assert(same_functions(BatchStat::graph, Net<true>::graph));
static_assert(same_functions(TestMode::graph, Net<true>::graph));
TEST_CASE("BatchStat on BNs without scale / bias equals the test-mode network") {
    auto store = test::prepare<Net<false>, BatchStat>();
    CHECK(test::compare<Net<true>, BatchStat>(store) == 0.0);
}

// ---- self folding and the legacy BN-linear converter ------------------------------------------------------
using SelfFolded = convert<Net<true>, BatchNormalizationSelfFoldingModifier{}>;
using Linear = convert<Net<true>, BatchNormalizationLinearConverter{}>;
static_assert(SelfFolded::graph.count(op_kind::batch_normalization) == 0 &&
              SelfFolded::derivations.size() == 8);
static_assert(Linear::graph.count(op_kind::batch_normalization) == 0);
// The absent parameter is absent from the derivation (0 / 1 at apply time), not mis-wired.
static_assert(SelfFolded::derivations[0].sources[src_gamma].empty() &&
              SelfFolded::derivations[0].sources[src_beta].view() == "bn-ns/bn/beta");
static_assert(SelfFolded::derivations[2].sources[src_beta].empty() &&
              SelfFolded::derivations[2].sources[src_gamma].view() == "bn-nb/bn/gamma");
static_assert(SelfFolded::derivations[4].sources[src_beta].empty() &&
              SelfFolded::derivations[4].sources[src_gamma].empty());
static_assert(SelfFolded::derivations[6].shape == shape_t{1, 6});  // the 2-D BN's c0
TEST_CASE("self folding and BN-linear of BNs without scale / bias keep the values") {
    auto store = test::prepare<Net<true>, SelfFolded>();
    CHECK(test::compare<Net<true>, SelfFolded>(store) < tol);
    // c0 of the no-scale BN is 1 / sqrt(var + eps); c1 of the no-bias BN is -mean c0.
    const auto& var = store.at("bn-ns/bn/var").data;
    const auto& c0 = store.at("bn-self-folding/c0-bn-self-folding-0").data;
    for (std::size_t i = 0; i < c0.size(); ++i)
        CHECK(double(c0.data()[i]) ==
              doctest::Approx(1.0 / std::sqrt(double(var.data()[i]) + 1e-5)).epsilon(1e-7));
    const auto& mean = store.at("bn-nb/bn/mean").data;
    const auto& gamma = store.at("bn-nb/bn/gamma").data;
    const auto& var2 = store.at("bn-nb/bn/var").data;
    const auto& c1 = store.at("bn-self-folding/c1-bn-self-folding-1").data;
    for (std::size_t i = 0; i < c1.size(); ++i)
        CHECK(double(c1.data()[i]) == doctest::Approx(-double(mean.data()[i]) * double(gamma.data()[i]) /
                                                      std::sqrt(double(var2.data()[i]) + 1e-5))
                                          .epsilon(1e-6));
    apply_conversion<Linear>(store);
    CHECK(test::compare<Net<true>, Linear>(store) < tol);
}

// ---- Fused: such BNs stay BNs
// -------------------------------------------------------------------------------
using Fused = convert<Net<true>, FusedBatchNormalizationModifier{}>;
static_assert(same_functions(Fused::graph, Net<true>::graph));
static_assert(Fused::graph.count(op_kind::fused_batch_normalization) == 0);

// ---- ChannelLast keeps no_scale / no_bias
// --------------------------------------------------------------------
template <bool Test>
using Cl = convert<Net<Test>, ChannelLastModifier{}>;
static_assert(Cl<true>::graph.count(op_kind::transpose) == 0);
static_assert(Cl<true>::graph.find(op_kind::parameter, "bn-ns/bn/beta_cl") >= 0);
static_assert(Cl<true>::graph.find(op_kind::parameter, "bn-ns/bn/gamma_cl") < 0);
static_assert(Cl<true>::graph.find(op_kind::parameter, "bn-fc/bn/mean_cl") <
              0);  // the 2-D BN needs no permutation
TEST_CASE_TEMPLATE("ChannelLast on BNs without scale / bias keeps the values", T, std::true_type,
                   std::false_type) {
    auto store = test::prepare<Net<T::value>, Cl<T::value>>();
    CHECK(test::compare_layouts<Net<T::value>, Cl<T::value>>(store) < tol);
}

}  // namespace
