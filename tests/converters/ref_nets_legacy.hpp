// Reference networks of nnabla's LEGACY graph-converter tests (v1.0.11 - v1.10, docs/nnabla-semantics.md
// §8.4): the legacy lenet (conv 5x5 pad 1, with a BN after fc1: "fc1-bn") and the legacy small_resnet (/255
// -> C -> BN -> ReLU -> 4x[C -> BN -> Add2 -> ReLU] -> FC10, no pooling), input (4,3,32,32), each in the
// styles the legacy converters produce:
//   plain       the network itself
//   bn_linear   every BN written as Mul2(c0, h) -> Add2(., c1)         (BatchNormalizationLinearConverter)
//   bn_folded   no BN, every inner product with a bias                  (BatchNormalizationFoldedConverter)
//   fpq_weight  PF::fixed_point_quantized_* layers (delta 2e-4)          (FixedPointWeightConverter)
//   fpq_act     ReLU replaced by FixedPointQuantize(n 8, unsigned, 2e-4) (FixedPointActivationConverter)
//   fpq         both                                                     (SequentialConverter{weight, activation})
// With Scoped, everything lives under the converter's default scope and uses the converter's parameter
// keys ("bn-linear/c0-bn-linear-0", "fixed-point-weight-graph/conv1/conv/fp_quantized_conv/W", ...), so a
// reference reads the
// very parameters apply_conversion derived: structure AND names can be compared, and the values too.
// Layers are named through PF names ("cb1" gives "cb1/conv/W" and "cb1/bn/beta") so that the bn_linear
// parameters can be created at the converter's scope.
#pragma once

#include "ref_nets.hpp"

#include <kata/parameters.hpp>

#include <cmath>
#include <string>

namespace ref::legacy {

using namespace kata;

enum class style { plain, bn_linear, bn_folded, fpq_weight, fpq_act, fpq };

constexpr std::string_view scope_of(style s) {
    switch (s) {
    case style::plain: return "";
    case style::bn_linear: return "bn-linear";
    case style::bn_folded: return "bn-folded";
    case style::fpq_weight: return "fixed-point-weight-graph";
    case style::fpq_act: return "fixed-point-activation-graph";
    // SequentialConverter{weight, activation}: the activation converter does not copy what the weight
    // converter created (nnabla's converters capture their parameter list at construction).
    case style::fpq: return "fixed-point-weight-graph";
    }
    return "";
}

inline constexpr double fpq_delta = 2e-4;  // the legacy tests' step (weights and activations)

template <style S, bool Test>
struct layers {
    builder& g;
    int k = 0;  // BNs written so far (bn_linear parameter names)

    static constexpr bool quant_w = S == style::fpq_weight || S == style::fpq;
    static constexpr bool quant_a = S == style::fpq_act || S == style::fpq;

    // `scope` is the layer's parameter scope: the plain layer is PF::convolution(..., name = scope)
    // ("conv1/conv/W"); its fixed-point twin is named after the W key's scope, as the converter does
    // ("<converter>/conv1/conv/fp_quantized_conv/W").
    static constexpr name_string fp_layer(std::string_view scope, std::string_view pf_default) {
        name_string n{scope};
        n.append('/').append(pf_default);
        return n;
    }
    constexpr var conv(var h, bool bias, std::string_view scope, std::int64_t k = 3) {
        if constexpr (quant_w) {
            const name_string layer = fp_layer(scope, "conv");
            return PF::fixed_point_quantized_convolution(h, 16, {k, k},
                                                         {.pad = {1, 1},
                                                          .with_bias = bias,
                                                          .delta_w = fpq_delta,
                                                          .delta_b = fpq_delta,
                                                          .name = layer.view()});
        } else {
            return PF::convolution(
                h, 16, {k, k}, {.pad = {1, 1}, .with_bias = bias || S == style::bn_folded, .name = scope});
        }
    }
    constexpr var conv5(var h, bool bias, std::string_view scope) {
        return conv(h, bias, scope, 5);
    }  // lenet
    constexpr var affine(var h, bool bias, std::string_view scope, bool folded_bn) {
        if constexpr (quant_w) {
            const name_string layer = fp_layer(scope, "affine");
            return PF::fixed_point_quantized_affine(
                h, 10, {.with_bias = bias, .delta_w = fpq_delta, .delta_b = fpq_delta, .name = layer.view()});
        } else {
            return PF::affine(h, 10,
                              {.with_bias = bias || (S == style::bn_folded && folded_bn), .name = scope});
        }
    }
    constexpr var bn(var h, std::string_view name) {
        if constexpr (S == style::bn_folded) {
            return h;
        } else if constexpr (S == style::bn_linear) {
            shape_t ps;
            for (int i = 0; i < h.ndim(); ++i) ps.push_back(i == 1 ? h.shape()[1] : 1);
            name_string c0("c0-bn-linear-"), c1("c1-bn-linear-");
            c0.append_int(k);
            c1.append_int(k);
            ++k;
            var a = g.parameter(c0.view(), ps);
            var b = g.parameter(c1.view(), ps);
            return F::add2(F::mul2(a, h), b);
        } else {
            return PF::batch_normalization(h, ref::bn(Test, name));
        }
    }
    constexpr var act(var h) {
        if constexpr (quant_a)
            return F::fixed_point_quantize(h, {false, 8, fpq_delta});
        else
            return F::relu(h);
    }
};

// conv1(no bias) -> BN -> MP -> ReLU -> conv2(bias) -> BN -> MP -> ReLU -> fc1(no bias) -> fc1-bn -> ReLU
// -> fc2(bias); conv 5x5 pad 1: 32 -> 30 -> 15 -> 13 -> 6, fc1 W (576, 10).
template <style S = style::plain, bool Test = true, bool Scoped = true>
constexpr var lenet(builder& g) {
    var x = g.input("x", {4, 3, 32, 32});
    auto s = g.scope(Scoped ? scope_of(S) : std::string_view{});
    layers<S, Test> L{g};
    var h = L.act(F::max_pooling(L.bn(L.conv5(x, false, "conv1"), "conv1-bn"), {2, 2}));
    h = L.act(F::max_pooling(L.bn(L.conv5(h, true, "conv2"), "conv2-bn"), {2, 2}));
    h = L.act(L.bn(L.affine(h, false, "fc1", true), "fc1-bn"));
    return L.affine(h, true, "fc2", false);
}

// /255 -> first-conv(no bias) -> first-bn -> ReLU -> 4x[cbi/conv(no bias) -> cbi/bn -> ReLU(h + x)] -> fc.
template <style S = style::plain, bool Test = true, bool Scoped = true>
constexpr var small_resnet(builder& g) {
    var x = g.input("x", {4, 3, 32, 32});
    auto s = g.scope(Scoped ? scope_of(S) : std::string_view{});
    layers<S, Test> L{g};
    var h = L.act(L.bn(L.conv(x / 255.0, false, "first-conv"), "first-bn"));
    // PF names "cbi": parameters "cbi/conv/W", "cbi/bn/beta" (nnabla's parameter_scope("cbi") + PF).
    constexpr std::string_view convs[4] = {"cb1", "cb2", "cb3", "cb4"};
    constexpr std::string_view bns[4] = {"cb1", "cb2", "cb3", "cb4"};
    for (int i = 0; i < 4; ++i) h = L.act(L.bn(L.conv(h, false, convs[i]), bns[i]) + h);
    return L.affine(h, true, "fc", false);
}

// The ops upstream gets wrong or refuses (docs/nnabla-semantics.md §3.2, 3.3): a grouped Deconvolution with I
// != O (8 -> 12, groups 4) followed by a BN, a channel-last grouped Convolution (second input, NHWC) with a
// BN on axis 3 (batch_stat when Train), a forked convolution output (its BN cannot be folded), a BN reading
// an Add2 and Affines with and without a bias.
template <bool Train = false>
constexpr void legacy_zoo(builder& g) {
    var x = g.input("x", {2, 8, 5, 5});
    var h = PF::deconvolution(x, 12, {3, 3}, {.pad = {1, 1}, .stride = {2, 2}, .group = 4, .name = "deconv"});
    h = F::relu(PF::batch_normalization(h, ref::bn(true, "deconv-bn")));  // (2, 12, 9, 9)
    var f = PF::convolution(h, 6, {3, 3}, {.with_bias = false, .name = "fork"});
    h = PF::batch_normalization(f, ref::bn(true, "fork-bn")) + F::sigmoid(f);  // forked: BN kept
    h = PF::batch_normalization(h, ref::bn(true, "add-bn"));                   // no IP producer: kept
    g.output(PF::affine(h, 5, {.name = "fc"}));
    var xc = g.input("xc", {2, 7, 7, 4}, layout::channel_last);
    var c =
        PF::convolution(xc, 6, {3, 3}, {.pad = {1, 1}, .group = 2, .channel_last = true, .name = "conv-cl"});
    c = F::relu(PF::batch_normalization(c, ref::bn(!Train, "conv-cl-bn", 3)));
    g.output(PF::affine(c, 3, {.with_bias = false, .name = "fc-cl"}));
}

}  // namespace ref::legacy

// ---- helpers of the legacy tests ---------------------------------------------------------------------
namespace test::legacy {

using namespace kata;

// Every parameter that a reachable function of `a` reads exists in `b` with the same shape.
template <class GA, class GB>
constexpr bool parameters_covered(const GA& a, const GB& b) {
    for (int t = 0; t < a.num_order; ++t) {
        const int f = a.order[std::size_t(t)];
        for (int k = 0; k < a.nodes[std::size_t(f)].num_inputs; ++k) {
            const node& p = a.input_node(f, k);
            if (p.op != op_kind::parameter) continue;
            const int j = b.find(op_kind::parameter, p.name.view());
            if (j < 0 || !(b.nodes[std::size_t(j)].shape == p.shape)) return false;
        }
    }
    return true;
}
// Both graphs read the same parameter keys with the same shapes.
template <class GA, class GB>
constexpr bool same_parameters(const GA& a, const GB& b) {
    return parameters_covered(a, b) && parameters_covered(b, a);
}

// Every parameter of `g` starts with `prefix`.
template <class G>
constexpr bool all_parameters_under(const G& g, std::string_view prefix) {
    for (const node& n : g.nodes)
        if (n.op == op_kind::parameter && n.name.view().substr(0, prefix.size()) != prefix) return false;
    return true;
}

template <class Ders>
constexpr int find_derivation(const Ders& ders, std::string_view target) {
    for (std::size_t i = 0; i < ders.size(); ++i)
        if (ders[i].target == target) return int(i);
    return -1;
}

// FixedPointQuantize written from docs/nnabla-semantics.md §3.5 for the tests, in nnabla's CPU arithmetic (T
// = float: the quotient |x| / delta is a float32): outside [min, max] clip, otherwise sgn(x) floor(|x| /
// delta + 0.5) delta (round half away from zero); max = (2^n' - 1) delta, n' = n - 1 if signed, min = -max or
// 0.
inline float fpq(float x, bool sign, int n, double delta) {
    const float d = float(delta);
    const int nb = sign ? n - 1 : n;
    const float mx = float((std::pow(2.0, nb) - 1.0) * double(d));
    const float mn = sign ? -mx : 0.0f;
    if (x > mx) return mx;
    if (x < mn) return mn;
    const float q = float(std::floor(double(std::fabs(x) / d) + 0.5)) * d;
    return x < 0 ? -q : q;
}
inline xt::xarray<float> fpq(const xt::xarray<float>& a, bool sign, int n, double delta) {
    xt::xarray<float> r = a;
    for (auto& v : r) v = fpq(v, sign, n, delta);
    return r;
}

// Replaces every weight and bias ("<layer>/W", "<layer>/b") that Net reads by its quantized value.
template <graph_type Net>
void quantize_weights(parameter_store& store, bool sign = true, int n = 8,
                      double delta = ref::legacy::fpq_delta) {
    constexpr const auto& g = Net::graph;
    for (const node& nd : g.nodes) {
        if (nd.op != op_kind::parameter) continue;
        const std::string_view k = nd.name.view();
        if (k.size() < 2 || (k.substr(k.size() - 2) != "/W" && k.substr(k.size() - 2) != "/b")) continue;
        auto& p = store.at(std::string(k));
        p.data = fpq(p.data, sign, n, delta);
    }
}

}  // namespace test::legacy
