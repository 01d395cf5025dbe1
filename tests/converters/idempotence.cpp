// Idempotence and reuse of the non-folding converters (docs/nnabla-semantics.md §0.4, 10.6, 10.7), part 1:
// the converters that derive parameters.
//   * BatchNormalizationSelfFoldingModifier: c0/c1 are the correctly rounded closed form
//     gamma / sqrt(var + eps), beta - mean c0; re-applied after the BN statistics change they follow
//     the new statistics (upstream's get-or-create keeps the first, stale values); applying twice
//     changes nothing and creates nothing; converting again restarts k (no `c0-<name>-5`...), and the
//     converted graph converted again is the same graph with the same derivations.
//   * BatchNormalizationLinearConverter (legacy): the same for `bn-linear/c0-bn-linear-<cnt>`, and the
//     converted graph converted again (its `bn-linear/bn-linear/...` copies) computes the same values.
// Part 2 (idempotence_structural.cpp): Identity, Fused, Unfused, BatchStat and NoGrad.
#include <doctest/doctest.h>

#include "converter_checks.hpp"
#include "ref_nets.hpp"

#include <cmath>
#include <string>

using namespace kata;
using test::same_functions;

namespace {

constexpr double tol = 1e-5;
using BnNet = network<ref::small_bn_resnet<2, true, false>>;
using LeNet = network<ref::bsf_lenet>;

// Derivation `target` of C (its index, -1 if none).
template <class C>
constexpr int derivation_index(std::string_view target) {
    for (std::size_t i = 0; i < C::derivations.size(); ++i)
        if (C::derivations[i].target.view() == target) return int(i);
    return -1;
}
template <class C>
constexpr bool derives_from(std::string_view target, std::string_view var_key) {
    const int i = derivation_index<C>(target);
    return i >= 0 && C::derivations[std::size_t(i)].sources[src_var].view() == var_key;
}

// |got - closed form| <= half an ulp of float32 (got is the closed form, computed in double, rounded
// once), for c0 = gamma / sqrt(var + eps) and c1 = beta - mean c0 of BN `bn` (eps 1e-5).
inline void check_closed_form(parameter_store& store, const std::string& bn, const std::string& c0_key,
                              const std::string& c1_key) {
    const auto& beta = store.at(bn + "/beta").data;
    const auto& gamma = store.at(bn + "/gamma").data;
    const auto& mean = store.at(bn + "/mean").data;
    const auto& var = store.at(bn + "/var").data;
    const auto& c0 = store.at(c0_key).data;
    const auto& c1 = store.at(c1_key).data;
    REQUIRE(c0.size() == gamma.size());
    REQUIRE(c1.size() == gamma.size());
    for (std::size_t i = 0; i < c0.size(); ++i) {
        const double r0 = double(gamma.data()[i]) / std::sqrt(double(var.data()[i]) + 1e-5);
        const double r1 = double(beta.data()[i]) - double(mean.data()[i]) * r0;
        CHECK(std::fabs(double(c0.data()[i]) - r0) <= std::ldexp(std::fabs(r0), -24));
        CHECK(std::fabs(double(c1.data()[i]) - r1) <= std::ldexp(std::fabs(r1), -24));
    }
}

// Changes the statistics and affine parameters of two BNs (gamma's sign too).
inline void retrain(parameter_store& store, const std::string& a, const std::string& b) {
    store.at(a + "/var").data *= 1.7f;
    store.at(a + "/mean").data += 0.05f;
    store.at(b + "/gamma").data *= -0.5f;
    store.at(b + "/beta").data += 0.1f;
}

// ---- self folding -----------------------------------------------------------------------------------------
using SelfFolded = convert<BnNet, BatchNormalizationSelfFoldingModifier{}>;
// k counts BNs in visit order: first-bn is 0, cb<i>/bn is i.
static_assert(derives_from<SelfFolded>("bn-self-folding/c0-bn-self-folding-0", "first-bn/bn/var"));
static_assert(derives_from<SelfFolded>("bn-self-folding/c1-bn-self-folding-2", "cb2/bn/var"));
static_assert(derives_from<SelfFolded>("bn-self-folding/c0-bn-self-folding-4", "cb4/bn/var"));
static_assert(SelfFolded::derivations.size() == 10);
// Converting the converted graph again: nothing left to fold, the same graph and derivations.
using SelfFolded2 = convert<SelfFolded, BatchNormalizationSelfFoldingModifier{}>;
static_assert(same_functions(SelfFolded2::graph, SelfFolded::graph));
static_assert(SelfFolded2::derivations.size() == SelfFolded::derivations.size());
// One modifier value for several conversions: k restarts at 0 every time (upstream's counter and name
// are reset only by __finish__; kata copies the value per conversion), so no `c0-sf-5` ever appears.
constexpr BatchNormalizationSelfFoldingModifier sf{.name = "sf"};
using SfA = convert<BnNet, sf>;
using SfB = convert<BnNet, sf>;
using SfLeNet = convert<LeNet, sf>;
static_assert(same_functions(SfA::graph, SfB::graph));
static_assert(derivation_index<SfB>("sf/c0-sf-0") == 0 && derivation_index<SfB>("sf/c0-sf-5") < 0);
static_assert(derivation_index<SfLeNet>("sf/c0-sf-0") == 0 && derivation_index<SfLeNet>("sf/c1-sf-1") == 3);
static_assert(test::count_parameters_with_prefix(SfLeNet::graph, "sf/") == 4);

TEST_CASE("self folding: closed-form c0/c1, re-applied after the statistics change (never stale)") {
    auto store = test::prepare<BnNet, SelfFolded>();
    check_closed_form(store, "cb2/bn", "bn-self-folding/c0-bn-self-folding-2",
                      "bn-self-folding/c1-bn-self-folding-2");
    CHECK(test::compare<BnNet, SelfFolded>(store) < tol);
    // Applying again changes nothing and creates nothing.
    const auto before = test::snapshot(store);
    apply_conversion<SelfFolded>(store);
    CHECK(test::snapshot(store) == before);
    // New statistics: c0/c1 of cb2 and cb3 follow them, the others stay.
    retrain(store, "cb2/bn", "cb3/bn");
    apply_conversion<SelfFolded>(store);
    CHECK(store.get_parameters(false).size() == before.size());
    check_closed_form(store, "cb2/bn", "bn-self-folding/c0-bn-self-folding-2",
                      "bn-self-folding/c1-bn-self-folding-2");
    check_closed_form(store, "cb3/bn", "bn-self-folding/c0-bn-self-folding-3",
                      "bn-self-folding/c1-bn-self-folding-3");
    CHECK(!(store.at("bn-self-folding/c0-bn-self-folding-2").data ==
            before.at("bn-self-folding/c0-bn-self-folding-2")));
    CHECK(!(store.at("bn-self-folding/c1-bn-self-folding-3").data ==
            before.at("bn-self-folding/c1-bn-self-folding-3")));
    CHECK(store.at("bn-self-folding/c0-bn-self-folding-1").data ==
          before.at("bn-self-folding/c0-bn-self-folding-1"));
    CHECK(test::compare<BnNet, SelfFolded>(store) < tol);  // the original reads the new statistics too
    // The twice-converted graph reads the same parameters.
    apply_conversion<SelfFolded2>(store);
    CHECK(test::compare<SelfFolded, SelfFolded2>(store) == 0.0);
}

TEST_CASE("self folding: one modifier value, two networks, one store") {
    auto store = test::prepare<BnNet, SfA>();
    models::synthetic_parameters<LeNet>(store);
    apply_conversion<SfLeNet>(store);  // overwrites sf/c0-sf-0 and sf/c0-sf-1 with lenet's
    check_closed_form(store, "conv2-bn/bn", "sf/c0-sf-1", "sf/c1-sf-1");
    CHECK(test::compare<LeNet, SfLeNet>(store) < tol);
    apply_conversion<SfA>(store);  // and back
    check_closed_form(store, "first-bn/bn", "sf/c0-sf-0", "sf/c1-sf-0");
    CHECK(test::compare<BnNet, SfA>(store) < tol);
}

// ---- legacy BatchNormalizationLinearConverter -----------------------------------------------------------
using Linear = convert<BnNet, BatchNormalizationLinearConverter{}>;
static_assert(Linear::graph.count(op_kind::batch_normalization) == 0);
static_assert(derives_from<Linear>("bn-linear/c0-bn-linear-3", "cb3/bn/var"));
// The converted graph converted again: no BN left, and nothing copied again: every parameter it reads was
// derived by the first conversion, which a legacy converter reads as it is (as upstream's, which capture
// their parameter list at construction, do in a SequentialConverter).
using Linear2 = convert<Linear, BatchNormalizationLinearConverter{}>;
static_assert(test::same_structure(Linear2::graph, Linear::graph));
static_assert(Linear2::graph.find(op_kind::parameter, "bn-linear/c0-bn-linear-3") >= 0);
static_assert(Linear2::graph.find(op_kind::parameter, "bn-linear/cb1/conv/W") >= 0);
static_assert(Linear2::graph.find(op_kind::parameter, "bn-linear/bn-linear/cb1/conv/W") < 0);
static_assert(derivation_index<Linear2>("bn-linear/c0-bn-linear-5") < 0);
constexpr BatchNormalizationLinearConverter linear{};
static_assert(same_functions(convert<BnNet, linear>::graph, convert<BnNet, linear>::graph));
static_assert(derivation_index<convert<LeNet, linear>>("bn-linear/c0-bn-linear-0") >= 0);

TEST_CASE("BatchNormalizationLinearConverter: applied twice, after a statistics change, converted twice") {
    auto store = test::prepare<BnNet, Linear>();
    check_closed_form(store, "cb3/bn", "bn-linear/c0-bn-linear-3", "bn-linear/c1-bn-linear-3");
    CHECK(test::compare<BnNet, Linear>(store) < tol);
    const auto before = test::snapshot(store);
    apply_conversion<Linear>(store);
    CHECK(test::snapshot(store) == before);
    retrain(store, "first-bn/bn", "cb3/bn");
    store.at("cb1/conv/W").data *= 0.5f;  // the bn-linear/ copies follow their sources too
    apply_conversion<Linear>(store);
    check_closed_form(store, "first-bn/bn", "bn-linear/c0-bn-linear-0", "bn-linear/c1-bn-linear-0");
    check_closed_form(store, "cb3/bn", "bn-linear/c0-bn-linear-3", "bn-linear/c1-bn-linear-3");
    CHECK(store.at("bn-linear/cb1/conv/W").data == store.at("cb1/conv/W").data);
    CHECK(test::compare<BnNet, Linear>(store) < tol);
    apply_conversion<Linear2>(store);
    CHECK(test::compare<Linear, Linear2>(store) == 0.0);  // the same functions on the same parameters
}

}  // namespace
