// nnabla's legacy converters (v1.0.11 - v1.10, docs/nnabla-semantics.md §3.3 / 3.5, tests 8.4), part 2:
// FixedPointWeightConverter on the legacy lenet and small_resnet, input (4,3,32,32), and on the ops
// upstream cannot convert (grouped Deconvolution, channel-last Convolution), plus the automatic
// power-of-two step (ceil and floor) checked against its closed form, upstream's layer-name strip,
// quantize_w/quantize_b, idempotence and reuse.
//
// Structure: a converted net equals the same net written with kata's PF::fixed_point_quantized_* layers
// under the converter's scope, parameter keys included (static_assert). Values: (1) that PF reference
// reads the very parameters apply_conversion derived, so it gives identical outputs; (2) the closed form:
// the ORIGINAL network run with its weights and biases quantized by the test's own formula
// (test::legacy::fpq, docs/nnabla-semantics.md §3.5). The quantized weights are then equal bit for bit (both
// quantize in float32 as nnabla's CPU kernel does) and the same kernels run, so the outputs agree to rounding
// noise; tolerance 1e-6 relative. One parameter off by a single step (2e-4, where weights are clipped
// at 127 * 2e-4 = 0.0254) moves the output by far more (checked below), so the tolerance does detect a
// wrong quantization.
#include <doctest/doctest.h>

#include "converter_test_support.hpp"
#include "ref_nets_legacy.hpp"

using namespace kata;
using ref::legacy::style;
using test::same_structure;
using test::legacy::find_derivation;
using test::legacy::fpq;
using test::legacy::same_parameters;

namespace {

constexpr double closed_form_tol = 1e-6;

template <style S = style::plain>
using LeNet = network<ref::legacy::lenet<S, true>>;
template <style S = style::plain>
using ResNet = network<ref::legacy::small_resnet<S, true>>;

// ---- structure and names: the PF fixed-point networks ----------------------------------------------------
using LeNetQ = convert<LeNet<>, FixedPointWeightConverter{}>;
using ResNetQ = convert<ResNet<>, FixedPointWeightConverter{}>;
static_assert(same_structure(LeNetQ::graph, LeNet<style::fpq_weight>::graph));
static_assert(same_structure(ResNetQ::graph, ResNet<style::fpq_weight>::graph));
static_assert(same_parameters(LeNetQ::graph, LeNet<style::fpq_weight>::graph));
static_assert(same_parameters(ResNetQ::graph, ResNet<style::fpq_weight>::graph));
static_assert(LeNetQ::graph.count(op_kind::fixed_point_quantize) == 6);  // W conv1, W b conv2, W fc1, W b fc2
static_assert(ResNetQ::graph.count(op_kind::fixed_point_quantize) == 7);  // 5 conv W, fc W b
static_assert(ResNetQ::graph.find(op_kind::parameter,
                                  "fixed-point-weight-graph/cb4/conv/fp_quantized_conv/W") >= 0);
static_assert(ResNetQ::graph.find(op_kind::parameter, "fixed-point-weight-graph/cb4/bn/gamma") >= 0);  // copy
// W_q / b_q: derived (W_q = FixedPointQuantize(W)), not read by the graph (it quantizes W itself).
static_assert(find_derivation(LeNetQ::derivations,
                              "fixed-point-weight-graph/conv2/conv/fp_quantized_conv/W_q") >= 0);
static_assert(find_derivation(LeNetQ::derivations,
                              "fixed-point-weight-graph/fc2/affine/fp_quantized_affine/b_q") >= 0);
static_assert(find_derivation(LeNetQ::derivations,
                              "fixed-point-weight-graph/conv1/conv/fp_quantized_conv/b_q") < 0);  // no bias
static_assert(LeNetQ::graph.find(op_kind::parameter,
                                 "fixed-point-weight-graph/conv2/conv/fp_quantized_conv/W_q") < 0);
static_assert(!LeNetQ::derivations[std::size_t(find_derivation(
                                       LeNetQ::derivations,
                                       "fixed-point-weight-graph/conv2/conv/fp_quantized_conv/W_q"))]
                   .need_grad);

template <class Net, class Q>
void check_quantized_parameters(parameter_store& store, std::string_view name) {
    // Every derived W_q / b_q equals the test's formula applied to the converted W / b.
    int checked = 0;
    for (const derivation& d : Q::derivations) {
        if (d.kind != derivation_kind::fixed_point) continue;
        const std::string t(d.target.view());
        const std::string src = t.substr(0, t.size() - 2);  // ".../W_q" -> ".../W"
        CHECK(store.at(t).data == fpq(store.at(src).data, true, 8, ref::legacy::fpq_delta));
        CHECK(t.substr(0, name.size()) == name);
        ++checked;
    }
    CHECK(checked > 0);
}

TEST_CASE("FixedPointWeightConverter on the legacy lenet and small_resnet") {
    {
        auto store = test::prepare<LeNet<>, LeNetQ>();
        check_quantized_parameters<LeNet<>, LeNetQ>(store, "fixed-point-weight-graph/");
        CHECK(test::compare<LeNet<style::fpq_weight>, LeNetQ>(store) == 0.0);
        test::legacy::quantize_weights<LeNet<>>(store);  // the originals, by the test's formula
        CHECK(test::compare<LeNet<>, LeNetQ>(store) < closed_form_tol);
        // The closed-form comparison detects one quantized parameter off by one step.
        store.at("fc2/affine/b").data(3) += float(ref::legacy::fpq_delta);
        CHECK(test::compare<LeNet<>, LeNetQ>(store) > 100 * closed_form_tol);
    }
    {
        auto store = test::prepare<ResNet<>, ResNetQ>();
        check_quantized_parameters<ResNet<>, ResNetQ>(store, "fixed-point-weight-graph/");
        CHECK(test::compare<ResNet<style::fpq_weight>, ResNetQ>(store) == 0.0);
        test::legacy::quantize_weights<ResNet<>>(store);
        CHECK(test::compare<ResNet<>, ResNetQ>(store) < closed_form_tol);
    }
}

// ---- what upstream cannot convert: grouped Deconvolution, channel-last Convolution ------------------------
using Zoo = network<ref::legacy::legacy_zoo<false>>;
using ZooQ = convert<Zoo, FixedPointWeightConverter{}>;
static_assert(ZooQ::graph.count(op_kind::fixed_point_quantize) ==
              8);  // deconv W b, fork W, fc W b, conv-cl W b, fc-cl W
static_assert(ZooQ::graph.count(op_kind::deconvolution) == 1);
static_assert(ZooQ::graph.find(op_kind::parameter,
                               "fixed-point-weight-graph/deconv/deconv/fp_quantized_deconv/W") >= 0);
static_assert(ZooQ::graph.find(op_kind::parameter,
                               "fixed-point-weight-graph/conv-cl/conv/fp_quantized_conv/W") >= 0);
// Only Affine listed: the convolutions are identity-converted (copied, not quantized).
using ZooAffineOnly = convert<Zoo, FixedPointWeightConverter{.inner_prod_functions = {op_kind::affine}}>;
static_assert(ZooAffineOnly::graph.count(op_kind::fixed_point_quantize) == 3);
static_assert(ZooAffineOnly::graph.find(op_kind::parameter, "fixed-point-weight-graph/deconv/deconv/W") >= 0);
// quantize_b = false: biases used as they are.
using ZooNoB = convert<Zoo, FixedPointWeightConverter{.args_fpq = {.quantize_b = false}}>;
static_assert(ZooNoB::graph.count(op_kind::fixed_point_quantize) == 5);
static_assert(find_derivation(ZooNoB::derivations,
                              "fixed-point-weight-graph/fc/affine/fp_quantized_affine/b_q") < 0);

// The converted grouped Deconvolution (with output_padding) is kata's PF::fixed_point_quantized_deconvolution.
template <bool PFQ>
constexpr var deconv_net(builder& g) {
    var x = g.input("x", {2, 8, 5, 5});
    auto s = g.scope(PFQ ? "fixed-point-weight-graph" : "");
    if constexpr (PFQ)
        return PF::fixed_point_quantized_deconvolution(x, 12, {3, 3},
                                                       {.pad = {1, 1},
                                                        .stride = {2, 2},
                                                        .group = 4,
                                                        .output_padding = {1, 1},
                                                        .delta_w = 2e-4,
                                                        .delta_b = 2e-4,
                                                        .name = "deconv/deconv"});  // the W key's scope
    else
        return PF::deconvolution(
            x, 12, {3, 3},
            {.pad = {1, 1}, .stride = {2, 2}, .group = 4, .output_padding = {1, 1}, .name = "deconv"});
}
using DeconvQ = convert<network<deconv_net<false>>, FixedPointWeightConverter{}>;
static_assert(same_structure(DeconvQ::graph, network<deconv_net<true>>::graph));
static_assert(same_parameters(DeconvQ::graph, network<deconv_net<true>>::graph));

TEST_CASE("FixedPointWeightConverter: grouped Deconvolution, channel-last Convolution, quantize_b") {
    {
        auto store = test::prepare<network<deconv_net<false>>, DeconvQ>();
        CHECK(test::compare<network<deconv_net<true>>, DeconvQ>(store) == 0.0);
    }
    {
        auto store = test::prepare<Zoo, ZooQ>();
        test::legacy::quantize_weights<Zoo>(store);
        CHECK(test::compare<Zoo, ZooQ>(store) < closed_form_tol);
    }
    {
        auto store = test::prepare<Zoo, ZooNoB>();
        for (const char* w :
             {"deconv/deconv/W", "fork/conv/W", "fc/affine/W", "conv-cl/conv/W", "fc-cl/affine/W"})
            store.at(w).data = fpq(store.at(w).data, true, 8, ref::legacy::fpq_delta);
        CHECK(test::compare<Zoo, ZooNoB>(store) < closed_form_tol);
    }
}

// ---- layer names: the W key's scope (upstream strips characters: "myW/W" -> "my"), then the fixed-point
// PF's default scope ("fixed-point-weight-graph/myW/fp_quantized_affine/W", nnabla 1.39's
// PF.fixed_point_quantized_affine(..., name="myW") in parameter_scope("fixed-point-weight-graph"))
constexpr var names_net(builder& g) {
    var x = g.input("x", {2, 5});
    var h = F::affine(x, g.parameter("myW/W", {5, 4}), g.parameter("myW/b", {4}));
    return F::affine(h, g.parameter("W", {4, 3}), none);  // a root-level key: no layer scope
}
using NamesQ = convert<network<names_net>, FixedPointWeightConverter{}>;
static_assert(NamesQ::graph.find(op_kind::parameter, "fixed-point-weight-graph/myW/fp_quantized_affine/W") >=
              0);
static_assert(NamesQ::graph.find(op_kind::parameter, "fixed-point-weight-graph/myW/fp_quantized_affine/b") >=
              0);
static_assert(NamesQ::graph.find(op_kind::parameter, "fixed-point-weight-graph/fp_quantized_affine/W") >= 0);
static_assert(find_derivation(NamesQ::derivations, "fixed-point-weight-graph/my/fp_quantized_affine/W") < 0);

// Shared weights stay shared: one copy and one W_q per key, one quantizer per use (as two PF layers with
// the same name would give).
constexpr var shared_net(builder& g) {
    var h = F::relu(PF::affine(g.input("x", {2, 4}), 4, {.name = "shared"}));
    return PF::affine(h, 4, {.name = "shared"});
}
using SharedQ = convert<network<shared_net>, FixedPointWeightConverter{}>;
static_assert(SharedQ::derivations.size() == 4);  // W, W_q, b, b_q
static_assert(SharedQ::graph.count(op_kind::fixed_point_quantize) == 4);
static_assert(SharedQ::graph.count_leaves(op_kind::parameter) == 2);

// ---- automatic power-of-two step --------------------------------------------------------------------------
// Affine 6 -> 4 with W set by the test (max|W| known) and an all-zero bias.
constexpr var auto_net(builder& g) { return PF::affine(g.input("x", {3, 6}), 4, {.name = "fc"}); }
using AutoNet = network<auto_net>;
constexpr fixed_point_weight_args auto_args{.delta_w = fixed_point_auto_delta,
                                            .delta_b = fixed_point_auto_delta};
using AutoCeil = convert<AutoNet, FixedPointWeightConverter{.args_fpq = auto_args, .name = "ceil"}>;
using AutoFloor =
    convert<AutoNet, FixedPointWeightConverter{.floor = true, .args_fpq = auto_args, .name = "floor"}>;
using AutoU4 =
    convert<AutoNet,
            FixedPointWeightConverter{
                .args_fpq = {.sign_w = false, .n_w = 4, .delta_w = fixed_point_auto_delta}, .name = "u4"}>;
// The step is data-dependent: the Affine reads the derived W_q / b_q, nothing is quantized in the graph.
static_assert(AutoCeil::graph.count(op_kind::fixed_point_quantize) == 0);
static_assert(AutoCeil::graph.find(op_kind::parameter, "ceil/fc/affine/fp_quantized_affine/W_q") >= 0);
static_assert(AutoCeil::graph.find(op_kind::parameter, "ceil/fc/affine/fp_quantized_affine/b_q") >= 0);
static_assert(AutoU4::graph.count(op_kind::fixed_point_quantize) == 1);  // the bias keeps delta_b = 2e-4

// W[i] = scale * (2 u_i - 1) with one entry exactly +-max.
void set_weights(parameter_store& store, float max_abs) {
    auto& w = store.at("fc/affine/W").data;
    for (std::size_t i = 0; i < w.size(); ++i)
        w.data()[i] = max_abs * float(int(i % 9) - 4) / 4.0f * (i % 2 ? -1.0f : 1.0f);
    w.data()[5] = -max_abs;
    store.at("fc/affine/b").data.fill(0.0f);
}

TEST_CASE("automatic power-of-two step: ceil and floor against the closed form") {
    parameter_store store(313);
    models::synthetic_parameters<AutoNet>(store);
    // max|W| = 0.3, signed 8 bits: 0.3 / 127 = 2^-8.73 -> ceil 2^-8, floor 2^-9.
    set_weights(store, 0.3f);
    apply_conversion<AutoCeil>(store);
    apply_conversion<AutoFloor>(store);
    apply_conversion<AutoU4>(store);
    const auto& w = store.at("fc/affine/W").data;
    CHECK(store.at("ceil/fc/affine/fp_quantized_affine/W_q").data == fpq(w, true, 8, std::ldexp(1.0, -8)));
    CHECK(store.at("ceil/fc/affine/fp_quantized_affine/W_q").data != fpq(w, true, 8, std::ldexp(1.0, -9)));
    CHECK(store.at("floor/fc/affine/fp_quantized_affine/W_q").data ==
          fpq(w, true, 8, std::ldexp(1.0, -9)));  // 0.3 clipped to 127/512
    CHECK(xt::amax(store.at("floor/fc/affine/fp_quantized_affine/W_q").data)() ==
          doctest::Approx(127.0 / 512));
    // unsigned 4 bits: 0.3 / 15 = 2^-5.64 -> 2^-5; negative weights clip to 0.
    CHECK(store.at("u4/fc/affine/fp_quantized_affine/W_q").data == fpq(w, false, 4, std::ldexp(1.0, -5)));
    CHECK(xt::amin(store.at("u4/fc/affine/fp_quantized_affine/W_q").data)() == 0.0f);
    // All-zero bias: exact zeros (upstream's delta 0 would be rejected by FixedPointQuantize).
    CHECK(store.at("ceil/fc/affine/fp_quantized_affine/b_q").data == xt::zeros<float>({4}));
    CHECK(store.at("floor/fc/affine/fp_quantized_affine/b_q").data == xt::zeros<float>({4}));
    // max|W| = 127 2^-7 exactly: log2(max / 127) = -7, ceil and floor agree (log2 taken exactly).
    set_weights(store, 127.0f / 128.0f);
    apply_conversion<AutoCeil>(store);
    apply_conversion<AutoFloor>(store);
    CHECK(store.at("ceil/fc/affine/fp_quantized_affine/W_q").data == fpq(w, true, 8, std::ldexp(1.0, -7)));
    CHECK(store.at("floor/fc/affine/fp_quantized_affine/W_q").data == fpq(w, true, 8, std::ldexp(1.0, -7)));
    // The network computes x W_q (+ 0): closed form in double.
    xt::xarray<float> x = xt::xarray<float>::from_shape({3, 6});
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = float(i % 5) - 2.0f;
    cpu::executor<AutoFloor> run(store);
    auto y = run(x);
    const auto& wq = store.at("floor/fc/affine/fp_quantized_affine/W_q").data;
    for (std::size_t r = 0; r < 3; ++r)
        for (std::size_t o = 0; o < 4; ++o) {
            double s = 0;
            for (std::size_t i = 0; i < 6; ++i) s += double(x(r, i)) * double(wq(i, o));
            CHECK(y(r, o) == doctest::Approx(s).epsilon(1e-6));
        }
}

// ---- idempotence and reuse --------------------------------------------------------------------------------
constexpr FixedPointWeightConverter fpw{.args_fpq = {.n_w = 6, .delta_w = 1e-3}, .name = "q"};
using LeNetQ6 = convert<LeNet<>, fpw>;
using ResNetQ6 = convert<ResNet<>, fpw>;
static_assert(LeNetQ6::graph.find(op_kind::parameter, "q/conv1/conv/fp_quantized_conv/W") >= 0 &&
              ResNetQ6::graph.find(op_kind::parameter, "q/cb1/conv/fp_quantized_conv/W") >= 0);

TEST_CASE("FixedPointWeightConverter re-applies without stale values, one value converts two nets") {
    auto store = test::prepare<LeNet<>, LeNetQ6>();
    const xt::xarray<float> wq = store.at("q/conv2/conv/fp_quantized_conv/W_q").data;
    CHECK(wq == fpq(store.at("conv2/conv/W").data, true, 6, 1e-3));
    const std::size_t n = store.size();
    apply_conversion<LeNetQ6>(store);
    CHECK(store.size() == n);
    CHECK(store.at("q/conv2/conv/fp_quantized_conv/W_q").data == wq);
    store.at("conv2/conv/W").data *= 0.1f;  // a new source: re-applying copies and re-quantizes it
    apply_conversion<LeNetQ6>(store);
    CHECK(store.at("q/conv2/conv/fp_quantized_conv/W_q").data != wq);
    CHECK(store.at("q/conv2/conv/fp_quantized_conv/W_q").data ==
          fpq(store.at("conv2/conv/W").data, true, 6, 1e-3));
    // The automatic step follows the new data on re-apply.
    parameter_store s2(313);
    models::synthetic_parameters<AutoNet>(s2);
    set_weights(s2, 0.3f);
    apply_conversion<AutoCeil>(s2);
    set_weights(s2, 0.03f);  // 0.03 / 127 = 2^-12.05 -> 2^-12
    apply_conversion<AutoCeil>(s2);
    CHECK(s2.at("ceil/fc/affine/fp_quantized_affine/W_q").data ==
          fpq(s2.at("fc/affine/W").data, true, 8, std::ldexp(1.0, -12)));
    // The same converter value on the resnet.
    auto s3 = test::prepare<ResNet<>, ResNetQ6>();
    const xt::xarray<float> fcb = s3.at("fc/affine/b").data;
    test::legacy::quantize_weights<ResNet<>>(s3, true, 6, 1e-3);
    // The weights use n_w = 6, delta_w = 1e-3; the fc bias keeps n_b = 8, delta_b = 2e-4.
    s3.at("fc/affine/b").data = fpq(fcb, true, 8, ref::legacy::fpq_delta);
    CHECK(test::compare<ResNet<>, ResNetQ6>(s3) < closed_form_tol);
}

}  // namespace
