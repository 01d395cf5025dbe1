// Parameter keys of the parametric functions against nnabla 1.39 itself (issue 15 point 12): the keys
// nnabla creates for each call, in creation order, are in tests/fixtures/graph/nnabla_parameter_names.txt
// (written by tools/fixtures/make_nnabla_name_fixtures.py with nnabla 1.39.0); the same calls are made
// here with kata's PF:: and the keys of the lifted graph's parameters compared line by line. Guards
// against the old naming, where `name` replaced the default scope (PF::convolution(..., {.name =
// "conv1"}) created "conv1/W" where nnabla creates "conv1/conv/W", so nnabla's parameter files did not
// load), and against a case list that drifts from the fixture's.
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <kata/kata.hpp>

#include "../support/fixtures.hpp"

using namespace kata;

namespace {

constexpr var x4(builder& g) { return g.input("x", {2, 4, 8, 8}); }
constexpr var x2(builder& g) { return g.input("x", {2, 12}); }

constexpr var conv(builder& g) { return PF::convolution(x4(g), 6, {3, 3}); }
constexpr var conv_named(builder& g) { return PF::convolution(x4(g), 6, {3, 3}, {.name = "conv1"}); }
constexpr var conv_scoped(builder& g) {
    auto x = x4(g);
    auto s = g.scope("cb1");
    return PF::convolution(x, 6, {3, 3});
}
constexpr var conv_scoped_named(builder& g) {
    auto x = x4(g);
    auto s = g.scope("cb1");
    return PF::convolution(x, 6, {3, 3}, {.name = "c"});
}
constexpr var deconv_named(builder& g) { return PF::deconvolution(x4(g), 3, {2, 2}, {.name = "up"}); }
constexpr var dw_named(builder& g) { return PF::depthwise_convolution(x4(g), {3, 3}, {.name = "dw"}); }
constexpr var dd_named(builder& g) { return PF::depthwise_deconvolution(x4(g), {3, 3}, {.name = "dd"}); }
constexpr var affine(builder& g) { return PF::affine(x2(g), 5); }
constexpr var affine_named(builder& g) { return PF::affine(x2(g), 5, {.name = "fc"}); }
constexpr var embed_named(builder& g) {
    return PF::embed(g.input("idx", {2, 3}, layout::none, dtype::i32), 10, 4, {}, false, "emb");
}
constexpr var bn(builder& g) { return PF::batch_normalization(x4(g)); }
constexpr var bn_named(builder& g) { return PF::batch_normalization(x4(g), {.name = "bn1"}); }
constexpr var fbn_named(builder& g) { return PF::fused_batch_normalization(x4(g), none, {.name = "fbn"}); }
constexpr var fpq_conv_named(builder& g) {
    return PF::fixed_point_quantized_convolution(x4(g), 6, {3, 3}, {.name = "conv1"});
}
constexpr var fpq_affine_named(builder& g) {
    return PF::fixed_point_quantized_affine(x2(g), 5, {.name = "fc"});
}
constexpr var fpq_conv_in_converter_scope(builder& g) {
    auto x = x4(g);
    auto s = g.scope("fixed-point-weight-graph");
    return PF::fixed_point_quantized_convolution(x, 6, {3, 3}, {.name = "conv1"});
}
constexpr var fpq_affine_in_converter_scope(builder& g) {
    auto x = x2(g);
    auto s = g.scope("fixed-point-weight-graph");
    return PF::fixed_point_quantized_affine(x, 5, {.name = "fc"});
}

template <class Net>
std::string keys() {
    std::string r;
    for (const node& n : Net::graph.nodes)
        if (n.op == op_kind::parameter) r += (r.empty() ? "" : " ") + std::string(n.name.view());
    return r;
}

std::map<std::string, std::string> kata_keys() {
    return {
        {"convolution", keys<network<conv>>()},
        {"convolution name=conv1", keys<network<conv_named>>()},
        {"scope cb1 / convolution", keys<network<conv_scoped>>()},
        {"scope cb1 / convolution name=c", keys<network<conv_scoped_named>>()},
        {"deconvolution name=up", keys<network<deconv_named>>()},
        {"depthwise_convolution name=dw", keys<network<dw_named>>()},
        {"depthwise_deconvolution name=dd", keys<network<dd_named>>()},
        {"affine", keys<network<affine>>()},
        {"affine name=fc", keys<network<affine_named>>()},
        {"embed name=emb", keys<network<embed_named>>()},
        {"batch_normalization", keys<network<bn>>()},
        {"batch_normalization name=bn1", keys<network<bn_named>>()},
        {"fused_batch_normalization name=fbn", keys<network<fbn_named>>()},
        {"fixed_point_quantized_convolution name=conv1", keys<network<fpq_conv_named>>()},
        {"fixed_point_quantized_affine name=fc", keys<network<fpq_affine_named>>()},
        {"scope fixed-point-weight-graph / fixed_point_quantized_convolution name=conv1",
         keys<network<fpq_conv_in_converter_scope>>()},
        {"scope fixed-point-weight-graph / fixed_point_quantized_affine name=fc",
         keys<network<fpq_affine_in_converter_scope>>()},
    };
}

}  // namespace

TEST_CASE("PF parameter keys are nnabla 1.39's: name scope, then the function's default scope") {
    const auto path = kata::test::fixture_dir() / "graph" / "nnabla_parameter_names.txt";
    std::ifstream in(path);
    REQUIRE_MESSAGE(in.good(), "cannot read " << path.string());
    const auto ours = kata_keys();
    std::string line;
    int compared = 0;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        const auto sep = line.find(" : ");
        REQUIRE(sep != std::string::npos);
        const std::string call = line.substr(0, sep), want = line.substr(sep + 3);
        INFO("nnabla call: " << call);
        const auto it = ours.find(call);
        REQUIRE_MESSAGE(it != ours.end(), "no kata twin for the fixture's case '" << call << "'");
        CHECK(it->second == want);
        ++compared;
    }
    CHECK(compared == int(ours.size()));
}
