// nnabla's legacy converters (v1.0.11 - v1.10, docs/nnabla-semantics.md §3.4 / 3.5, tests 8.4), part 3:
// FixedPointActivationConverter and SequentialConverter{FixedPointWeightConverter,
// FixedPointActivationConverter} on the legacy lenet and small_resnet, input (4,3,32,32).
//
// Structure (and parameter keys) equal the references with ReLU replaced by F::fixed_point_quantize
// (n 8, unsigned, delta 2e-4), with PF fixed-point layers for the sequential conversion (static_assert).
// Values: the references read the very parameters apply_conversion derived (identical outputs); the
// closed form y = clip(q(x), 0, (2^n - 1) delta) element by element on known inputs (exact: the test's
// formula rounds as nnabla's float32 kernel does); the sequential conversion against the ORIGINAL
// parameters quantized by the test's formula (tolerance 1e-6 relative, see legacy_fixed_point_weight.cpp).
// Self folding before the fixed-point conversion: against the closed form too, i.e. the network written
// with c0 x + c1 (c0, c1 computed by the test from the trained BN parameters) in place of each BN, the
// weights quantized by the test's formula and ReLU replaced by the quantizer; same 1e-6 tolerance, since
// the quantized weights and c0/c1 are the same floats and the same kernels run. (Comparing with the
// un-folded network instead has no useful bound: the BN kernel and c0 x + c1 round differently by an
// ulp, and the activation quantizer turns an ulp at a step boundary into a whole step of 2e-4, which
// the following layers amplify by their weights' l1 norms.)
#include <doctest/doctest.h>

#include "converter_test_support.hpp"
#include "ref_nets_legacy.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

using namespace kata;
using ref::legacy::style;
using test::same_structure;
using test::legacy::fpq;
using test::legacy::same_parameters;

namespace {

constexpr double closed_form_tol = 1e-6;

template <style S = style::plain, bool Scoped = true>
using LeNet = network<ref::legacy::lenet<S, true, Scoped>>;
template <style S = style::plain, bool Scoped = true>
using ResNet = network<ref::legacy::small_resnet<S, true, Scoped>>;

// ---- FixedPointActivationConverter ------------------------------------------------------------------------
using LeNetA = convert<LeNet<>, FixedPointActivationConverter{}>;
using ResNetA = convert<ResNet<>, FixedPointActivationConverter{}>;
static_assert(LeNetA::graph.count(op_kind::relu) == 0 &&
              LeNetA::graph.count(op_kind::fixed_point_quantize) == 3);
static_assert(ResNetA::graph.count(op_kind::relu) == 0 &&
              ResNetA::graph.count(op_kind::fixed_point_quantize) == 5);
static_assert(same_structure(LeNetA::graph, LeNet<style::fpq_act>::graph));
static_assert(same_structure(ResNetA::graph, ResNet<style::fpq_act>::graph));
static_assert(same_parameters(LeNetA::graph, LeNet<style::fpq_act>::graph));
static_assert(same_parameters(ResNetA::graph, ResNet<style::fpq_act>::graph));
static_assert(LeNetA::graph.find(op_kind::parameter, "fixed-point-activation-graph/conv1-bn/bn/beta") >= 0);
// quantize = false leaves the activations alone (upstream ignores the flag).
using LeNetNoQ = convert<LeNet<>, FixedPointActivationConverter{.args_fpq = {.quantize = false}}>;
static_assert(same_structure(LeNetNoQ::graph, LeNet<>::graph));

TEST_CASE("FixedPointActivationConverter on the legacy lenet and small_resnet") {
    {
        auto store = test::prepare<LeNet<>, LeNetA>();
        CHECK(test::compare<LeNet<style::fpq_act>, LeNetA>(store) == 0.0);
        CHECK(test::compare<LeNet<>, LeNetA>(store) > closed_form_tol);  // it did change something
    }
    {
        auto store = test::prepare<ResNet<>, ResNetA>();
        CHECK(test::compare<ResNet<style::fpq_act>, ResNetA>(store) == 0.0);
    }
}

// Closed form on known inputs: x -> ReLU -> (x2 -> LeakyReLU) with the default arguments and with
// n = 3, delta = 0.25 (exact ties: 0.125 -> 0.25, 0.375 -> 0.5, max 7 * 0.25 = 1.75).
constexpr void act_net(builder& g) {
    g.output(F::relu(g.input("x", {1, 400})));
    g.output(F::leaky_relu(g.input("x2", {1, 400}), 0.1));
}
using ActNet = network<act_net>;
using ActDefault = convert<ActNet, FixedPointActivationConverter{}>;
using ActCoarse =
    convert<ActNet,
            FixedPointActivationConverter{.activation_functions = {op_kind::relu, op_kind::leaky_relu},
                                          .args_fpq = {.n = 3, .delta = 0.25}}>;
static_assert(ActDefault::graph.count(op_kind::leaky_relu) == 1 &&
              ActCoarse::graph.count(op_kind::leaky_relu) == 0);

TEST_CASE("FixedPointActivation: y = clip(q(x), 0, (2^n - 1) delta) on known inputs") {
    parameter_store store(313);
    xt::xarray<float> x = xt::xarray<float>::from_shape({1, 400});
    for (std::size_t i = 0; i < 400; ++i) x.data()[i] = float(int(i) - 200) * 0.0003f;  // [-0.06, 0.06)
    {
        cpu::executor<ActDefault> run(store);
        run(x, x);
        auto y = run.output<0>();
        for (std::size_t i = 0; i < 400; ++i) {
            // clip(q(x), 0, (2^8 - 1) delta), q(x) = sgn(x) floor(|x| / delta + 0.5) delta, float32 quotient
            const float xi = x.data()[i], d = float(2e-4);
            const float q = (xi < 0 ? -1.0f : 1.0f) * float(std::floor(double(std::fabs(xi) / d) + 0.5)) * d;
            CHECK(y.data()[i] == std::clamp(q, 0.0f, float(255 * double(d))));
        }
        CHECK(xt::amax(run.output<0>())() == doctest::Approx(0.051));
        CHECK(y.data()[150] == 0.0f);  // negative inputs: 0 (the quantizer subsumes ReLU)
    }
    {
        const float xs[] = {-1.0f,  -0.125f, 0.0f,   0.1f, 0.125f, 0.2f,
                            0.375f, 0.6f,    1.625f, 1.7f, 1.75f,  3.0f};
        const float want[] = {0.0f, 0.0f, 0.0f, 0.0f, 0.25f, 0.25f, 0.5f, 0.5f, 1.75f, 1.75f, 1.75f, 1.75f};
        xt::xarray<float> x2 = xt::zeros<float>({1, 400});
        for (std::size_t i = 0; i < 12; ++i) x2.data()[i] = xs[i];
        cpu::executor<ActCoarse> run(store);
        run(x2, x2);
        for (std::size_t i = 0; i < 12; ++i) {
            CHECK(run.output<0>().data()[i] == want[i]);
            CHECK(run.output<1>().data()[i] == want[i]);
            CHECK(fpq(xs[i], false, 3, 0.25) == want[i]);
        }
    }
}

// ---- SequentialConverter{weight, activation} --------------------------------------------------------------
constexpr SequentialConverter fixed_point{FixedPointWeightConverter{}, FixedPointActivationConverter{}};
using LeNetSeq = convert<LeNet<>, fixed_point>;
using ResNetSeq = convert<ResNet<>, fixed_point>;
static_assert(same_structure(LeNetSeq::graph, LeNet<style::fpq>::graph));
static_assert(same_structure(ResNetSeq::graph, ResNet<style::fpq>::graph));
static_assert(same_parameters(LeNetSeq::graph, LeNet<style::fpq>::graph));
static_assert(same_parameters(ResNetSeq::graph, ResNet<style::fpq>::graph));
// The activation converter reads what the weight converter created as it is, without copies under
// "fixed-point-activation-graph/fixed-point-weight-graph/..." (nnabla's converters capture their
// parameter list at construction, before the sequence runs).
static_assert(LeNetSeq::graph.find(op_kind::parameter,
                                   "fixed-point-weight-graph/conv2/conv/fp_quantized_conv/b") >= 0);
static_assert(test::legacy::all_parameters_under(LeNetSeq::graph, "fixed-point-weight-graph/") &&
              test::legacy::all_parameters_under(ResNetSeq::graph, "fixed-point-weight-graph/"));
static_assert(LeNetSeq::graph.count(op_kind::relu) == 0 &&
              LeNetSeq::graph.count(op_kind::fixed_point_quantize) == 9);
// = the two converters listed, = converting the converted network.
template <class A, class B>
constexpr bool same_derivations(const A& a, const B& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        // g++ 12 rejects derivation's defaulted == on constexpr globals ("modification of ... is not a
        // constant expression"); on copies it works.
        const derivation x = a[i], y = b[i];
        if (!(x == y)) return false;
    }
    return true;
}
using LeNetList = convert<LeNet<>, FixedPointWeightConverter{}, FixedPointActivationConverter{}>;
using LeNetChain = convert<convert<LeNet<>, FixedPointWeightConverter{}>, FixedPointActivationConverter{}>;
static_assert(same_structure(LeNetSeq::graph, LeNetList::graph) &&
              same_parameters(LeNetSeq::graph, LeNetList::graph));
static_assert(same_derivations(LeNetSeq::derivations, LeNetList::derivations));
static_assert(same_structure(LeNetSeq::graph, LeNetChain::graph) &&
              same_parameters(LeNetSeq::graph, LeNetChain::graph));
static_assert(same_derivations(LeNetSeq::derivations, LeNetChain::derivations));
// Composes with any modifier, e.g. the new-style self folding first.
using FoldedSeq = convert<LeNet<>, BatchNormalizationSelfFoldingModifier{}, fixed_point>;
static_assert(FoldedSeq::graph.count(op_kind::batch_normalization) == 0);

// The legacy lenet with each BN written as Mul2(c0, h) -> Add2(., c1), c0/c1 parameters `<c>-<k>`
// (k: BN in visit order): Scoped, with fixed-point layers under the converters' scopes and the keys the
// conversion derives (structure and names of FoldedSeq); not Scoped, the closed form: plain layers
// reading the original (test-quantized) weights, `ref/c0-<k>` filled by the test.
template <bool Scoped>
constexpr var lenet_self_folded(builder& g) {
    constexpr style S = Scoped ? style::fpq : style::fpq_act;
    var x = g.input("x", {4, 3, 32, 32});
    // The layers live in the converter's scope; c0/c1, derived by the self folding BEFORE the fixed-point
    // converters, are not copied by them and stay at the root.
    const std::string_view scope = Scoped ? ref::legacy::scope_of(S) : std::string_view{};
    ref::legacy::layers<S, true> L{g};
    auto in_scope = [&](auto layer) {
        auto s = g.scope(scope);
        return layer();
    };
    int k = 0;
    auto folded_bn = [&](var h) {
        shape_t ps;
        for (int i = 0; i < h.ndim(); ++i) ps.push_back(i == 1 ? h.shape()[1] : 1);
        name_string c0(Scoped ? "bn-self-folding/c0-bn-self-folding-" : "ref/c0-");
        name_string c1(Scoped ? "bn-self-folding/c1-bn-self-folding-" : "ref/c1-");
        c0.append_int(k);
        c1.append_int(k);
        ++k;
        var a = g.parameter(c0.view(), ps);
        var b = g.parameter(c1.view(), ps);
        return F::add2(F::mul2(a, h), b);
    };
    var h = L.act(F::max_pooling(folded_bn(in_scope([&] { return L.conv5(x, false, "conv1"); })), {2, 2}));
    h = L.act(F::max_pooling(folded_bn(in_scope([&] { return L.conv5(h, true, "conv2"); })), {2, 2}));
    h = L.act(folded_bn(in_scope([&] { return L.affine(h, false, "fc1", true); })));
    return in_scope([&] { return L.affine(h, true, "fc2", false); });
}
using FoldedRef = network<lenet_self_folded<true>>;
using FoldedClosedForm = network<lenet_self_folded<false>>;
static_assert(same_structure(FoldedSeq::graph, FoldedRef::graph));
static_assert(same_parameters(FoldedSeq::graph, FoldedRef::graph));

// ref/c0-<k>, ref/c1-<k> = gamma / sqrt(var + eps), beta - mean c0 of the k-th BN (double, rounded once).
inline void write_closed_form_bn(parameter_store& store) {
    const char* bns[3] = {"conv1-bn", "conv2-bn", "fc1-bn"};
    for (int k = 0; k < 3; ++k) {
        const std::string bn = std::string(bns[k]) + "/bn";
        const auto& gamma = store.at(bn + "/gamma").data;
        std::vector<std::size_t> shape(gamma.shape().begin(), gamma.shape().end());
        xt::xarray<float> c0 = xt::zeros<float>(shape), c1 = xt::zeros<float>(shape);
        for (std::size_t i = 0; i < gamma.size(); ++i) {
            const double r0 =
                double(gamma.data()[i]) / std::sqrt(double(store.at(bn + "/var").data.data()[i]) + 1e-5);
            c0.data()[i] = float(r0);
            c1.data()[i] = float(double(store.at(bn + "/beta").data.data()[i]) -
                                 double(store.at(bn + "/mean").data.data()[i]) * r0);
        }
        store.create_or_replace("ref/c0-" + std::to_string(k), shape).data = c0;
        store.create_or_replace("ref/c1-" + std::to_string(k), shape).data = c1;
    }
}

TEST_CASE("SequentialConverter{FixedPointWeight, FixedPointActivation} on lenet and small_resnet") {
    {
        auto store = test::prepare<LeNet<>, LeNetSeq>();
        CHECK(test::compare<LeNet<style::fpq>, LeNetSeq>(store) == 0.0);
        // Closed form: the original parameters quantized by the test's formula, ReLU -> quantizer.
        test::legacy::quantize_weights<LeNet<>>(store);
        CHECK(test::compare<LeNet<style::fpq_act, false>, LeNetSeq>(store) < closed_form_tol);
        // Idempotent, and a changed source is picked up by the whole chain.
        const std::string wq = "fixed-point-weight-graph/conv1/conv/fp_quantized_conv/W_q";
        const xt::xarray<float> before = store.at(wq).data;
        apply_conversion<LeNetSeq>(store);  // now from the quantized originals: quantizing is idempotent
        CHECK(store.at(wq).data == before);
        CHECK(test::compare<LeNet<style::fpq_act, false>, LeNetSeq>(store) < closed_form_tol);
        store.at("conv1/conv/W").data *= -1.0f;
        apply_conversion<LeNetSeq>(store);
        CHECK(store.at(wq).data == -before);
        CHECK(test::compare<LeNet<style::fpq_act, false>, LeNetSeq>(store) < closed_form_tol);
    }
    {
        auto store = test::prepare<ResNet<>, ResNetSeq>();
        CHECK(test::compare<ResNet<style::fpq>, ResNetSeq>(store) == 0.0);
        test::legacy::quantize_weights<ResNet<>>(store);
        CHECK(test::compare<ResNet<style::fpq_act, false>, ResNetSeq>(store) < closed_form_tol);
    }
    {
        // Self-folded BNs before the quantized activations: the reference with the derived keys
        // computes the same functions on the same parameters, the closed form agrees to rounding noise.
        auto store = test::prepare<LeNet<>, FoldedSeq>();
        CHECK(test::compare<FoldedRef, FoldedSeq>(store) == 0.0);
        write_closed_form_bn(store);
        test::legacy::quantize_weights<LeNet<>>(store);
        CHECK(test::compare<FoldedClosedForm, FoldedSeq>(store) < closed_form_tol);
        // The tolerance detects one activation step: c1 of conv2-bn off by delta = 2e-4 (every channel:
        // a single channel may be clipped to 0 everywhere by the unsigned quantizer, for some weights).
        store.at("ref/c1-1").data += float(ref::legacy::fpq_delta);
        CHECK(test::compare<FoldedClosedForm, FoldedSeq>(store) > 100 * closed_form_tol);
    }
}

}  // namespace
