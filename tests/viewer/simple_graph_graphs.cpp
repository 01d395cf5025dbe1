// kata::SimpleGraph on more graph shapes (a function reading one variable twice, graph outputs that
// are leaves, Reshape and Sink arguments) and on the outputs of other converters (fused batch
// normalization, the legacy fixed-point converters).
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include <kata/converters.hpp>
#include <kata/kata.hpp>
#include <kata/viewer/simple_graph.hpp>

#include "dot_test_util.hpp"

using namespace kata;
using namespace viewer_test;

namespace {

// x * x: one Mul2 reading x twice; then Reshape; a second output that is the input itself.
constexpr void square_net(builder& g) {
    auto x = g.input("x", {2, 3, 2});
    g.output(F::reshape(x * x, {2, 6}));
    g.output(x);
}
using Square = network<square_net>;

// A network returning its input: no function at all.
constexpr var leaf_net(builder& g) { return g.input("only", {3}); }
using Leaf = network<leaf_net>;

// Sink over two variables.
constexpr var sink_net(builder& g) {
    auto x = g.input("x", {2, 2});
    return F::sink({F::tanh(x), F::identity(x)});
}
using Sunk = network<sink_net>;

// conv -> BN -> ReLU -> conv -> BN + shortcut -> ReLU, BN in test mode (batch_stat false).
constexpr var conv_bn_relu_net(builder& g) {
    auto x = g.input("x", {1, 4, 6, 6});
    auto h = PF::convolution(x, 4, {3, 3}, {.pad = {1, 1}, .name = "c1"});
    h = F::relu(
        PF::batch_normalization(h, {.decay_rate = 0.8, .eps = 1e-3, .batch_stat = false, .name = "bn1"}));
    h = PF::batch_normalization(PF::convolution(h, 4, {3, 3}, {.pad = {1, 1}, .name = "c2"}),
                                {.batch_stat = false, .name = "bn2"});
    return F::relu(h + x);
}
using ConvBnRelu = network<conv_bn_relu_net>;
using Fused = convert<ConvBnRelu, FusedBatchNormalizationModifier{}>;
using QuantAct = convert<ConvBnRelu, FixedPointActivationConverter{}>;
using QuantW = convert<ConvBnRelu, FixedPointWeightConverter{}>;

template <std::size_t N, std::size_t E, std::size_t O>
std::vector<int> nodes_of(const graph<N, E, O>& g, op_kind k) {
    std::vector<int> r;
    for (std::size_t i = 0; i < N; ++i)
        if (g.nodes[i].op == k && g.reachable(int(i))) r.push_back(int(i));
    return r;
}

}  // namespace

TEST_CASE("SimpleGraph graphs: a function reading one variable twice has two edges") {
    dot_graph d = check_structure(Square::graph);
    const auto x = var_with_label(d, "x");
    CHECK(heads_of(d, x) == std::vector<std::string>{"Mul2-1", "Mul2-1"});
    CHECK(d.edges.size() == 3 + 2);  // x, x -> Mul2 -> h; h -> Reshape -> h
    // x is also a graph output: still one node.
    CHECK(d.nodes.size() == 2 + 3);
    const SimpleGraph verbose("png", true);
    d = check_structure(Square::graph, verbose);
    CHECK(d.nodes.at("Mul2-1").at("label") == "Mul2\n({\"inplace\": false})");
    // nnabla's F.reshape records inplace=True by default.
    CHECK(d.nodes.at("Reshape-1").at("label") == "Reshape\n({\"shape\": [2, 6], \"inplace\": true})");
    CHECK(d.nodes.count(var_with_label(d, "h\n(((2, 6), need_grad=False))")) == 1);
}

TEST_CASE("SimpleGraph graphs: a graph whose output is a leaf is one variable node") {
    dot_graph d = check_structure(Leaf::graph);
    CHECK(d.nodes.size() == 1);
    CHECK(d.edges.empty());
    const auto v = var_with_label(d, "only");
    CHECK(d.nodes.at(v).at("fillcolor") == "lightgray");
    CHECK(d.nodes.at(v).at("shape") == "circle");
    d = check_structure(Leaf::graph, SimpleGraph("png", true, {}, {{"only", "gold"}}));
    const auto w = var_with_label(d, "only\n(((3,), need_grad=False))");
    CHECK(d.nodes.at(w).at("fillcolor") == "gold");
    CHECK(d.nodes.at(w).at("color") == "gold");
}

TEST_CASE("SimpleGraph graphs: Sink and argument-free functions") {
    dot_graph d = check_structure(Sunk::graph, SimpleGraph("png", true));
    CHECK(d.nodes.at("Sink-1").at("label") == "Sink\n({\"one_input_grad\": true})");
    CHECK(d.nodes.at("Tanh-1").at("label") == "Tanh\n({})");
    CHECK(d.nodes.at("Identity-1").at("label") == "Identity\n({})");
    CHECK(heads_of(d, "Tanh-1").size() == 1);
    CHECK(heads_of(d, heads_of(d, "Tanh-1")[0]) == std::vector<std::string>{"Sink-1"});
}

TEST_CASE("SimpleGraph graphs: FusedBatchNormalizationModifier's output") {
    static_assert(Fused::graph.count(op_kind::batch_normalization) == 0);
    static_assert(Fused::graph.count(op_kind::fused_batch_normalization) == 2);
    dot_graph d = check_structure(Fused::graph, SimpleGraph("png", true));
    CHECK(d.nodes.count("ReLU-1") == 0);
    CHECK(d.nodes.count("Add2-1") == 0);
    // The fused function reuses the BN's parameters: scope label, BN parameter labels, Norm colour.
    CHECK(d.nodes.at("FusedBatchNormalization-1").at("label") == "FusedBatchNormalization\nbn1/bn");
    CHECK(d.nodes.at("FusedBatchNormalization-2").at("label") == "FusedBatchNormalization\nbn2/bn");
    CHECK(d.nodes.at("FusedBatchNormalization-1").at("color") == "orange");
    std::vector<std::string> in;
    for (const auto& [t, h] : d.edges)
        if (h == "FusedBatchNormalization-2") in.push_back(d.nodes.at(t).at("label"));
    // x, beta, gamma, mean, var, z (the shortcut: the input x, verbose).
    REQUIRE(in.size() == 6);
    CHECK(std::vector<std::string>(in.begin() + 1, in.end() - 1) ==
          std::vector<std::string>{"beta", "gamma", "mean", "var"});
    CHECK(in.back() == "x\n(((1, 4, 6, 6), need_grad=False))");
    // Its arguments (shown when unscoped) in nnabla's order, the BN's values kept.
    const auto fused = nodes_of(Fused::graph, op_kind::fused_batch_normalization);
    REQUIRE(fused.size() == 2);
    const auto first = *std::min_element(fused.begin(), fused.end());
    CHECK(kata::detail::args_json(Fused::graph.nodes[std::size_t(first)]) ==
          "{\"axes\": [1], \"decay_rate\": 0.8, \"eps\": 0.001, \"batch_stat\": false, \"nonlinearity\": "
          "\"relu\"}");
}

TEST_CASE("SimpleGraph graphs: FixedPointActivationConverter's output (FixedPointQuantize)") {
    static_assert(QuantAct::graph.count(op_kind::relu) == 0);
    static_assert(QuantAct::graph.count(op_kind::fixed_point_quantize) == 2);
    dot_graph d = check_structure(QuantAct::graph, SimpleGraph("png", true));
    // Unscoped: the arguments, the converter's args_fpq (sign false, n 8, delta 2e-4).
    const std::string label =
        "FixedPointQuantize\n({\"sign\": false, \"n\": 8, \"delta\": 0.0002, \"ste_fine_grained\": true})";
    CHECK(d.nodes.at("FixedPointQuantize-1").at("label") == label);
    CHECK(d.nodes.at("FixedPointQuantize-2").at("label") == label);
    CHECK(d.nodes.at("FixedPointQuantize-1").at("color") == "gray");
    // The copied parameters live under the converter's scope.
    CHECK(d.nodes.at("Convolution-1").at("label") == "Convolution\nfixed-point-activation-graph/c1/conv");
    CHECK(d.nodes.at("BatchNormalization-1").at("label") ==
          "BatchNormalization\nfixed-point-activation-graph/bn1/bn");
}

TEST_CASE("SimpleGraph graphs: FixedPointWeightConverter's output (quantized parameters)") {
    static_assert(QuantW::graph.count(op_kind::fixed_point_quantize) == 4);
    dot_graph d = check_structure(QuantW::graph, SimpleGraph("png", true));
    // Each quantizer reads one parameter: its scope is the layer, the parameter's label its last key part.
    int scoped = 0;
    for (int k = 1; k <= 4; ++k) {
        const auto& a = d.nodes.at("FixedPointQuantize-" + std::to_string(k));
        CAPTURE(a.at("label"));
        scoped += a.at("label") == "FixedPointQuantize\nfixed-point-weight-graph/c1/conv/fp_quantized_conv" ||
                  a.at("label") == "FixedPointQuantize\nfixed-point-weight-graph/c2/conv/fp_quantized_conv";
    }
    CHECK(scoped == 4);
    auto pink = labels_with_fill(d, "pink");
    CHECK(std::count(pink.begin(), pink.end(), "W") == 2);
    CHECK(std::count(pink.begin(), pink.end(), "b") == 2);
    // The convolutions read quantized variables, not parameters: unscoped, so verbose shows arguments.
    CHECK(d.nodes.at("Convolution-1").at("label") ==
          "Convolution\n({\"base_axis\": 1, \"pad\": [1, 1], \"stride\": [1, 1], \"dilation\": [1, 1], "
          "\"group\": 1, \"channel_last\": false})");
}
