// FuseConvolutionEpilogueModifier (kata/converters/fuse_convolution_epilogue.hpp): channel-last
// Convolution [-> Add2] [-> ReLU] becomes one FusedConvolution node that every backend sees.
//
// Structure (static_asserts on the converted graph type, counted independently of the modifier):
// which nodes fused and with what (grouped convolutions too), the ineligible cases kept as they were (channel-first, a
// computed weight, a convolution read twice or that is a graph output, a broadcasting Add2, a residual
// computed after the convolution, Add2(c, c), a ReLU behind a graph-output Add2), and that the fused
// graph passes through another converter (FusedConvolution rebuilds).
// Values: the fused graph gives the unfused graph's outputs BIT FOR BIT on the live executor (the
// generic kernel: convolution, then y = act(y + z), the same float operations in the same order) and on
// the frozen executor (packed NHWC kernel with the epilogue vs the same kernel followed by Add2 / ReLU
// kernels); live against frozen within 1e-5 (im2col + OpenBLAS vs the direct kernel: different
// summation orders). The viewer draws the fused node with nnabla's FusedConvolution arguments.
#include <doctest/doctest.h>

#include <kata/converters.hpp>
#include <kata/cpu.hpp>
#include <kata/viewer/simple_graph.hpp>

#include <random>
#include <string>
#include <vector>

#include "../support/fixtures.hpp"

using namespace kata;
namespace kt = kata::test;

namespace {

// relu(conv(relu(conv(x) + b)) + x): 2 fused nodes (ReLU; Add2 + ReLU with the graph input as residual).
template <bool CL>
constexpr var block(builder& g) {
    auto x = CL ? g.input("x", {2, 7, 6, 9}, layout::channel_last) : g.input("x", {2, 9, 7, 6});
    auto h = F::relu(F::convolution(x, g.parameter("W1", CL ? shape_t{9, 3, 3, 9} : shape_t{9, 9, 3, 3}),
                                    g.parameter("b1", {9}), {.pad = {1, 1}, .channel_last = CL}));
    h = F::convolution(h, g.parameter("W2", CL ? shape_t{9, 1, 1, 9} : shape_t{9, 9, 1, 1}),
                       {.channel_last = CL});
    return F::relu(h + x);
}

// Nothing here may fuse.
constexpr void ineligible(builder& g) {
    auto x = g.input("x", {1, 6, 5, 8}, layout::channel_last);
    // a computed weight
    g.output(F::relu(
        F::convolution(x, F::mul_scalar(g.parameter("Wc", {8, 1, 1, 8}), 0.5), {.channel_last = true})));
    // read twice (ReLU and MulScalar)
    auto c = F::convolution(x, g.parameter("Wt", {8, 1, 1, 8}), {.channel_last = true});
    g.output(F::relu(c));
    g.output(F::mul_scalar(c, 2.0));
    // a graph output followed by a ReLU
    auto o = F::convolution(x, g.parameter("Wo", {8, 1, 1, 8}), {.channel_last = true});
    g.output(o);
    g.output(F::relu(o));
    // a broadcasting Add2 (the ReLU follows the Add2, not the convolution)
    g.output(F::relu(F::convolution(x, g.parameter("Wb", {8, 1, 1, 8}), {.channel_last = true}) +
                     g.parameter("p", {1, 1, 1, 8})));
    // Add2(c, c)
    auto d = F::convolution(x, g.parameter("Wd", {8, 1, 1, 8}), {.channel_last = true});
    g.output(F::relu(d + d));
}

// Grouped convolutions fuse like group-1 ones (kernels/conv_grouped.hpp): groups of 4 -> 4 channels (the
// kernel's two-groups-per-vector units) with a bias, Add2 and ReLU; groups of 2 -> 3 channels with ReLU.
constexpr void grouped(builder& g) {
    auto x = g.input("x", {2, 6, 5, 8}, layout::channel_last);
    auto h = F::convolution(x, g.parameter("W4", {8, 3, 3, 4}), g.parameter("b4", {8}),
                            {.pad = {1, 1}, .group = 2, .channel_last = true});
    h = F::relu(h + x);
    g.output(F::relu(F::convolution(h, g.parameter("W2", {12, 3, 3, 2}),
                                    {.pad = {1, 1}, .stride = {2, 1}, .group = 4, .channel_last = true})));
}

// Add2 of two convolutions: the one that runs second absorbs the Add2 (the other is its residual), and
// a ReLU behind an Add2 that is a graph output stays a ReLU (the Add2 is still absorbed: identity).
constexpr void order_and_outputs(builder& g) {
    auto x = g.input("x", {1, 6, 5, 8}, layout::channel_last);
    auto a = F::convolution(x, g.parameter("Wa", {8, 3, 3, 8}), g.parameter("ba", {8}),
                            {.pad = {1, 1}, .channel_last = true});
    auto b = F::convolution(x, g.parameter("Wb", {8, 1, 1, 8}), {.channel_last = true});
    g.output(F::relu(a + b));  // a runs first; b absorbs Add2 (residual a) and ReLU
    auto s = F::convolution(x, g.parameter("Ws", {8, 1, 1, 8}), {.channel_last = true}) + x;
    g.output(s);           // s is a graph output
    g.output(F::relu(s));  // so this ReLU stays
}

template <class G>
constexpr int count_nonlinearity(const G& g, nonlinearity_kind k, bool residual) {
    int c = 0;
    for (int t = 0; t < g.num_order; ++t) {
        const node& n = g.nodes[std::size_t(g.order[t])];
        c +=
            n.op == op_kind::fused_convolution && n.attr.nonlinearity == k && n.attr.has_residual == residual;
    }
    return c;
}

template <class Net>
xt::xarray<float> fill(parameter_store& store, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd(0.f, 1.f);
    constexpr auto& G = Net::graph;
    xt::xarray<float> x;
    for (std::size_t i = 0; i < G.size(); ++i) {
        const node& n = G.nodes[i];
        if (n.op != op_kind::parameter && n.op != op_kind::input) continue;
        std::vector<std::size_t> s;
        for (int d = 0; d < n.shape.rank; ++d) s.push_back(std::size_t(n.shape.dims[d]));
        xt::xarray<float> a = xt::zeros<float>(s);
        for (auto& v : a) v = nd(rng) * (n.op == op_kind::parameter ? 0.3f : 1.f);
        if (n.op == op_kind::input)
            x = a;
        else
            kt::set_param(store, n.name.view(), a);
    }
    return x;
}

// Every output of the fused graph against the unfused graph's: bit for bit on each executor kind.
template <class Net, std::size_t... K>
void check_values(unsigned seed, std::index_sequence<K...>) {
    using Fused = convert<Net, FuseConvolutionEpilogueModifier{}>;
    parameter_store store;
    const xt::xarray<float> x = fill<Net>(store, seed);
    cpu::executor<Net> live(store);
    cpu::executor<Fused> live_fused(store);
    cpu::frozen_executor<Net> frozen(store);
    cpu::frozen_executor<Fused> frozen_fused(store);
    live(x);
    live_fused(x);
    frozen(x);
    frozen_fused(x);
    (kt::check_equal(live_fused.template output<K>(), xt::xarray<float>(live.template output<K>())), ...);
    (kt::check_equal(frozen_fused.template output<K>(), xt::xarray<float>(frozen.template output<K>())), ...);
    (kt::check_close(frozen_fused.template output<K>(), xt::xarray<float>(live.template output<K>()), 1e-5,
                     1e-5),
     ...);
}
template <class Net>
void check_values(unsigned seed) {
    check_values<Net>(seed, std::make_index_sequence<Net::graph.num_outputs()>{});
}

}  // namespace

TEST_CASE("FuseConvolutionEpilogue: a residual block becomes two fused nodes") {
    using Net = network<block<true>>;
    using Fused = convert<Net, FuseConvolutionEpilogueModifier{}>;
    constexpr auto& G = Fused::graph;
    static_assert(Net::graph.count(op_kind::convolution) == 2 && Net::graph.count(op_kind::relu) == 2);
    static_assert(G.count(op_kind::fused_convolution) == 2 && G.count(op_kind::convolution) == 0);
    static_assert(G.count(op_kind::relu) == 0 && G.count(op_kind::add2) == 0 && G.num_functions() == 2);
    static_assert(count_nonlinearity(G, nonlinearity_kind::relu, false) == 1);  // conv1 + b + ReLU
    static_assert(count_nonlinearity(G, nonlinearity_kind::relu, true) == 1);   // conv2 + x + ReLU
    // The second fused node reads the graph input as its residual z (input 2: it has no bias), keeps its
    // scope's parameters and the convolution's arguments.
    constexpr int last = G.order[1];
    static_assert(G.nodes[last].num_inputs == 3 && G.input_node(last, 2).op == op_kind::input);
    static_assert(G.input_node(last, 1).name == std::string_view("W2") && !G.nodes[last].attr.has_bias);
    static_assert(G.nodes[G.order[0]].attr.has_bias && G.nodes[G.order[0]].attr.pad[0] == 1);
    // The frozen executor packs both; the live one nothing.
    static_assert(cpu::frozen_executor<Fused>::num_prepared == 2 && cpu::executor<Fused>::num_prepared == 0);
    check_values<Net>(1);
}

TEST_CASE("FuseConvolutionEpilogue: channel-first graphs are unchanged") {
    using Net = network<block<false>>;
    using Fused = convert<Net, FuseConvolutionEpilogueModifier{}>;
    static_assert(Fused::graph.count(op_kind::fused_convolution) == 0);
    static_assert(Fused::graph.num_functions() == Net::graph.num_functions());
    static_assert(Fused::graph.count(op_kind::convolution) == 2 && Fused::graph.count(op_kind::relu) == 2 &&
                  Fused::graph.count(op_kind::add2) == 1);
    check_values<Net>(2);
}

TEST_CASE("FuseConvolutionEpilogue: ineligible patterns are kept") {
    using Net = network<ineligible>;
    using Fused = convert<Net, FuseConvolutionEpilogueModifier{}>;
    static_assert(Fused::graph.count(op_kind::fused_convolution) == 0);
    static_assert(Fused::graph.count(op_kind::convolution) == 5 && Fused::graph.count(op_kind::relu) == 5);
    static_assert(Fused::graph.num_functions() == Net::graph.num_functions());
    check_values<Net>(3);
}

TEST_CASE("FuseConvolutionEpilogue: grouped convolutions fuse") {
    using Net = network<grouped>;
    using Fused = convert<Net, FuseConvolutionEpilogueModifier{}>;
    constexpr auto& G = Fused::graph;
    static_assert(G.count(op_kind::fused_convolution) == 2 && G.count(op_kind::convolution) == 0);
    static_assert(G.count(op_kind::relu) == 0 && G.count(op_kind::add2) == 0 && G.num_functions() == 2);
    static_assert(count_nonlinearity(G, nonlinearity_kind::relu, true) == 1);
    static_assert(count_nonlinearity(G, nonlinearity_kind::relu, false) == 1);
    // The frozen executor runs both on the direct grouped kernel (packed at bind time).
    static_assert(cpu::frozen_executor<Fused>::num_prepared == 2);
    check_values<Net>(5);
}

TEST_CASE("FuseConvolutionEpilogue: execution order decides the residual, graph outputs stay") {
    using Net = network<order_and_outputs>;
    using Fused = convert<Net, FuseConvolutionEpilogueModifier{}>;
    constexpr auto& G = Fused::graph;
    // a stays a Convolution (its partner b runs after it), b absorbs Add2 + ReLU with a as residual;
    // s's Add2 is absorbed (identity) but the ReLU behind that graph output stays.
    static_assert(G.count(op_kind::convolution) == 1 && G.count(op_kind::fused_convolution) == 2);
    static_assert(count_nonlinearity(G, nonlinearity_kind::relu, true) == 1);
    static_assert(count_nonlinearity(G, nonlinearity_kind::none, true) == 1);
    static_assert(G.count(op_kind::relu) == 1 && G.count(op_kind::add2) == 0);
    static_assert(G.nodes[G.outputs[1]].op == op_kind::fused_convolution);
    check_values<Net>(4);
}

TEST_CASE("FuseConvolutionEpilogue: the fused graph goes through other converters") {
    using Fused = convert<network<block<true>>, FuseConvolutionEpilogueModifier{}>;
    using Again = convert<Fused, NoGradModifier{}, FuseConvolutionEpilogueModifier{}>;
    static_assert(Again::graph.nodes[Again::graph.order[1]].op == op_kind::fused_convolution);
    static_assert(Again::graph.count(op_kind::fused_convolution) == 2 && Again::graph.num_functions() == 2);
    static_assert(Again::graph.nodes[Again::graph.order[0]].attr ==
                  Fused::graph.nodes[Fused::graph.order[0]].attr);
}

TEST_CASE("FuseConvolutionEpilogue: the viewer draws FusedConvolution with its arguments") {
    using Fused = convert<network<block<true>>, FuseConvolutionEpilogueModifier{}>;
    const std::string dot = SimpleGraph("png", true).create_graphviz_digraph(Fused::graph);
    CHECK(dot.find("FusedConvolution-1") != std::string::npos);
    CHECK(dot.find("FusedConvolution-2") != std::string::npos);
    // labels are DOT-quoted: the JSON's quotes are escaped
    CHECK(dot.find(R"(\"nonlinearity\": \"relu\")") != std::string::npos);
    CHECK(dot.find(R"(\"group\": 1, \"channel_last\": true)") != std::string::npos);
    CHECK(dot.find(R"(color="blue")") != std::string::npos);
}
