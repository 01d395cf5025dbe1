// KATA_NO_PCH: this test is about what kata/converters.hpp includes (tests/CMakeLists.txt).
// kata/converters.hpp is structural: it pulls neither xtensor nor file I/O, a conversion is a compile-time
// rewrite, and the value rules of the derivations it records run on plain float spans through
// kata::derivation_sources (no parameter_store). Checked here without including anything else of kata:
// a BN-folded, channel-last LeNet-like net is converted, and its derivations are evaluated by their rules
// from a map of float vectors and compared with the closed forms (c0 = gamma / sqrt(var + eps), W' = W c0,
// b' = beta - mean c0 + c0 b; transposed W: element (o, kh, kw, c) = W(o, c, kh, kw)).
#include <kata/converters.hpp>  // first: the checks below are about what it includes

#if defined(XTENSOR_VERSION_MAJOR) || defined(XTENSOR_FIXED_HPP)
#error "kata/converters.hpp must not include xtensor"
#endif
#if defined(_GLIBCXX_FSTREAM) || defined(_GLIBCXX_IOSTREAM)
#error "kata/converters.hpp must not include file or stream I/O"
#endif

#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

using namespace kata;

namespace {

constexpr var net(builder& g) {
    auto x = g.input("x", {1, 3, 7, 6});
    auto h = PF::convolution(x, 5, {3, 2}, {.pad = {1, 0}, .name = "conv"});
    h = PF::batch_normalization(h, {.batch_stat = false, .name = "bn"});
    return F::relu(h);
}
using Net = network<net>;
using Folded = convert<Net, BatchNormalizationFoldingModifier{}, ChannelLastModifier{}>;
static_assert(Folded::graph.count(op_kind::batch_normalization) == 0);
static_assert(Folded::derivations.size() == 3);  // w-folded, b-folded, w-folded_cl

// Parameters as plain vectors (name -> values, shape).
struct vector_sources final : derivation_sources {
    std::map<std::string, std::pair<std::vector<float>, shape_t>> params;

    derivation_source find(std::string_view key) const override {
        auto it = params.find(std::string(key));
        if (it == params.end()) return {};
        return {it->second.first.data(), it->second.first.size(), it->second.second};
    }
    [[noreturn]] void fail(const std::string& m) const override { throw std::runtime_error(m); }
};

std::vector<float> values(std::size_t n, float scale, float shift) {
    std::vector<float> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = shift + scale * float(int((i * 37 + 11) % 23) - 11) / 7.0f;
    return v;
}

// Evaluates d with the rule of its kind (a run-time switch over the kinds this net records).
std::vector<float> evaluate(const derivation& d, const vector_sources& src) {
    std::vector<float> out(std::size_t(d.shape.numel()));
    switch (d.kind) {
    case derivation_kind::bn_scale_weight:
        derivation_rule<derivation_kind::bn_scale_weight>::compute(d, src, out);
        break;
    case derivation_kind::bn_fold_bias_inner:
        derivation_rule<derivation_kind::bn_fold_bias_inner>::compute(d, src, out);
        break;
    case derivation_kind::transpose: derivation_rule<derivation_kind::transpose>::compute(d, src, out); break;
    default: throw std::logic_error("unexpected derivation kind");
    }
    return out;
}

}  // namespace

TEST_CASE("converters.hpp alone: conversion and value rules without xtensor or a parameter store") {
    vector_sources src;
    src.params["conv/conv/W"] = {values(5 * 3 * 3 * 2, 0.5f, 0.0f), shape_t{5, 3, 3, 2}};
    src.params["conv/conv/b"] = {values(5, 0.25f, 0.1f), shape_t{5}};
    src.params["bn/bn/beta"] = {values(5, 0.3f, -0.2f), shape_t{1, 5, 1, 1}};
    src.params["bn/bn/gamma"] = {values(5, 0.4f, 1.1f), shape_t{1, 5, 1, 1}};
    src.params["bn/bn/mean"] = {values(5, 0.6f, 0.05f), shape_t{1, 5, 1, 1}};
    src.params["bn/bn/var"] = {values(5, 0.2f, 0.9f), shape_t{1, 5, 1, 1}};
    for (const derivation& d : Folded::derivations) {
        const std::vector<float> v = evaluate(d, src);
        src.params[std::string(d.target.view())] = {v, d.shape};
    }
    const auto& W = src.params["conv/conv/W"].first;
    const auto& b = src.params["conv/conv/b"].first;
    const auto& beta = src.params["bn/bn/beta"].first;
    const auto& gamma = src.params["bn/bn/gamma"].first;
    const auto& mean = src.params["bn/bn/mean"].first;
    const auto& var = src.params["bn/bn/var"].first;
    const auto& wf = src.params.at("conv/conv/w-folded").first;
    const auto& bf = src.params.at("conv/conv/b-folded").first;
    const auto& wcl = src.params.at("conv/conv/w-folded_cl").first;
    REQUIRE(wcl.size() == W.size());
    for (int o = 0; o < 5; ++o) {
        const double c0 = double(gamma[o]) / std::sqrt(double(var[o]) + 1e-5);
        CHECK(bf[o] ==
              doctest::Approx(double(beta[o]) - double(mean[o]) * c0 + c0 * double(b[o])).epsilon(1e-6));
        for (int c = 0; c < 3; ++c)
            for (int kh = 0; kh < 3; ++kh)
                for (int kw = 0; kw < 2; ++kw) {
                    const int nchw = ((o * 3 + c) * 3 + kh) * 2 + kw;
                    const int nhwc = ((o * 3 + kh) * 2 + kw) * 3 + c;
                    CHECK(wf[nchw] == doctest::Approx(double(W[nchw]) * c0).epsilon(1e-6));
                    CHECK(wcl[nhwc] == wf[nchw]);  // a permutation copies exactly
                }
    }
    // A missing source is reported through derivation_sources::fail.
    src.params.erase("bn/bn/var");
    CHECK_THROWS_WITH(
        evaluate(Folded::derivations[0], src),
        doctest::Contains(
            "parameter 'bn/bn/var' (needed for 'conv/conv/w-folded') is not in the parameter store"));
}
