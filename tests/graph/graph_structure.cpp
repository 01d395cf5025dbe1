// Structure of lifted kata graphs: DAG sharing, several inputs/outputs, nnabla's visit order
// (docs/nnabla-semantics.md §0.3), node shapes/dtypes/layouts, parameter names and scopes
// (docs/nnabla-semantics.md §0.4), weight sharing, reshape/concatenate defaults, PF default scope names and
// the C++ operators (docs/nnabla-semantics.md §0.2). Everything is checked twice: at compile time
// (static_assert) and at run time (CHECK).
#include <doctest/doctest.h>

#include <kata/kata.hpp>

#include <array>
#include <string_view>

using namespace kata;

namespace {

// Expected visit order, compared element by element (graph::order has capacity N; only the first
// num_order entries are meaningful).
template <class G, std::size_t K>
constexpr bool order_is(const G& g, const std::array<int, K>& want) {
    if (g.num_order != int(K)) return false;
    for (std::size_t i = 0; i < K; ++i)
        if (g.order[i] != want[i]) return false;
    return true;
}

template <class G>
constexpr int param_id(const G& g, std::string_view name) {
    return g.find(op_kind::parameter, name);
}

// ---------------------------------------------------------------------------------------------
// DAG sharing: a residual x used twice is one node.
constexpr var residual(builder& g) {
    auto in = g.input("x", {1, 4, 8, 8});
    auto x = F::relu(in);    // 1
    auto h = F::sigmoid(x);  // 2
    h = F::tanh(h);          // 3
    return h + x;            // 4: Add2(branch(x), x)
}
using Residual = network<residual>;
constexpr auto& RG = Residual::graph;
static_assert(RG.size() == 5);
static_assert(RG.num_functions() == 4);
static_assert(RG.count_leaves(op_kind::relu) == 1);
static_assert(RG.num_consumers(1) == 2);  // relu output read by Sigmoid and Add2
static_assert(RG.input_of(4, 0) == 3 && RG.input_of(4, 1) == 1);
static_assert(order_is(RG, std::array{1, 2, 3, 4}));

// Residual first: Add2(x, branch(x)) still visits the branch before the Add2.
constexpr var residual_first(builder& g) {
    auto in = g.input("x", {1, 4, 8, 8});
    auto x = F::relu(in);           // 1
    auto h = F::sigmoid(x);         // 2
    return F::add2(x, F::tanh(h));  // tanh 3, add2 4
}
static_assert(order_is(network<residual_first>::graph, std::array{1, 2, 3, 4}));

// Post-order DFS differs from creation order: the right branch (created first) is visited after
// the whole left branch.
constexpr var two_branches(builder& g) {
    auto x = g.input("x", {1, 4, 8, 8});  // 0
    auto r = F::relu(x);                  // 1 (right operand)
    auto s = F::sigmoid(x);               // 2
    auto t = F::tanh(s);                  // 3 (left operand)
    return F::add2(t, r);                 // 4
}
using TwoBranches = network<two_branches>;
constexpr auto& TB = TwoBranches::graph;
static_assert(order_is(TB, std::array{2, 3, 1, 4}));
static_assert(TB.num_consumers(0) == 2);

// Dead code is not visited: a function that reaches no output is not in the order.
constexpr var with_dead(builder& g) {
    auto x = g.input("x", {2, 3});
    (void)F::sigmoid(x);  // 1, unused
    return F::relu(x);    // 2
}
static_assert(order_is(network<with_dead>::graph, std::array{2}));
static_assert(!network<with_dead>::graph.reachable(1));

// ---------------------------------------------------------------------------------------------
// Several inputs and outputs.
constexpr void multi(builder& g) {
    auto a = g.input("a", {2, 8});  // 0
    auto b = g.input("b", {2, 8});  // 1
    auto s = a + b;                 // 2 Add2
    auto p = F::relu(s);            // 3
    auto q = F::sigmoid(b);         // 4
    g.output(q);
    g.output(F::mul2(p, s));  // 5
}
using Multi = network<multi>;
constexpr auto& MG = Multi::graph;
static_assert(MG.num_outputs() == 2);
static_assert(MG.outputs[0] == 4 && MG.outputs[1] == 5);
static_assert(MG.is_output(4) && MG.is_output(5) && !MG.is_output(3));
static_assert(MG.count_leaves(op_kind::input) == 2);
static_assert(MG.nodes[0].name == std::string_view("a") && MG.nodes[1].name == std::string_view("b"));
static_assert(order_is(MG, std::array{4, 2, 3, 5}));  // outputs visited in order, like a Sink
static_assert(MG.num_consumers(2) == 2);

// ---------------------------------------------------------------------------------------------
// Shapes, dtypes, layouts.
constexpr var layouts(builder& g) {
    auto x = g.input("x", {1, 8, 8, 3}, NHWC);                        // 0
    auto h = PF::convolution(x, 16, {3, 3}, {.channel_last = true});  // W 1, b 2, conv 3
    auto t = F::transpose(h, {0, 3, 1, 2});                           // 4: NHWC -> NCHW
    auto u = F::transpose(t, {0, 2, 3, 1});                           // 5: NCHW -> NHWC
    auto y = PF::affine(u, 10);                                       // W 6, b 7, affine 8
    return y;
}
using Layouts = network<layouts>;
constexpr auto& LG = Layouts::graph;
static_assert(LG.nodes[0].lay == layout::channel_last);
static_assert(LG.nodes[3].op == op_kind::convolution);
static_assert(LG.nodes[3].shape == shape_t{1, 6, 6, 16});
static_assert(LG.nodes[3].lay == layout::channel_last);
static_assert(LG.nodes[3].attr.channel_last);
static_assert(LG.nodes[1].shape == shape_t{16, 3, 3, 3});  // (O, kh, kw, I)
static_assert(LG.nodes[4].shape == shape_t{1, 16, 6, 6} && LG.nodes[4].lay == layout::channel_first);
static_assert(LG.nodes[5].shape == shape_t{1, 6, 6, 16} && LG.nodes[5].lay == layout::channel_last);
static_assert(LG.nodes[8].shape == shape_t{1, 10} && LG.nodes[8].lay == layout::none);
static_assert(LG.nodes[6].shape == shape_t{6 * 6 * 16, 10});
static_assert(LG.nodes[8].type == dtype::f32);

constexpr var nchw(builder& g) {
    auto x = g.input("x", {1, 3, 32, 32});                                       // 0
    auto h = PF::convolution(x, 16, {3, 3}, {.pad = {1, 1}, .stride = {2, 2}});  // 1 W, 2 b, 3
    return F::transpose(h, {0, 2, 3, 1});                                        // 4
}
constexpr auto& NG = network<nchw>::graph;
static_assert(NG.nodes[0].lay == layout::channel_first);
static_assert(NG.nodes[3].shape == shape_t{1, 16, 16, 16} && NG.nodes[3].lay == layout::channel_first);
static_assert(NG.nodes[3].attr.pad[0] == 1 && NG.nodes[3].attr.stride[1] == 2 &&
              NG.nodes[3].attr.kernel[0] == 3);
static_assert(NG.nodes[4].lay == layout::channel_last);
static_assert(NG.nodes[4].shape == shape_t{1, 16, 16, 16});

// ---------------------------------------------------------------------------------------------
// Parameter names from nested scopes, and weight sharing through a shared name.
constexpr var scoped(builder& g) {
    auto x = g.input("x", {1, 3, 8, 8});
    var h = x;
    {
        auto s = g.scope("cb1");
        h = PF::convolution(h, 8, {3, 3}, {.pad = {1, 1}});
        h = PF::batch_normalization(h);
    }
    {
        auto s = g.scope("stage2");
        auto s2 = g.scope("cb1");
        h = PF::convolution(h, 8, {3, 3}, {.pad = {1, 1}, .name = "c"});
    }
    return PF::convolution(h, 4, {1, 1}, {.name = "head"});
}
constexpr auto& SG = network<scoped>::graph;
static_assert(param_id(SG, "cb1/conv/W") >= 0 && param_id(SG, "cb1/conv/b") >= 0);
static_assert(param_id(SG, "cb1/bn/beta") >= 0 && param_id(SG, "cb1/bn/var") >= 0);
static_assert(param_id(SG, "stage2/cb1/c/conv/W") >= 0);  // nnabla: name scope, then "conv"
static_assert(param_id(SG, "head/conv/W") >= 0 && param_id(SG, "head/conv/b") >= 0);
static_assert(SG.nodes[std::size_t(param_id(SG, "head/conv/W"))].shape == shape_t{4, 8, 1, 1});
static_assert(SG.find(op_kind::convolution, "cb1/conv") >= 0);  // functions carry their scope
static_assert(SG.find(op_kind::convolution, "stage2/cb1/c/conv") >= 0);
static_assert(SG.count_leaves(op_kind::parameter) == 2 + 4 + 2 + 2);

constexpr var shared(builder& g) {
    auto a = g.input("a", {2, 8});               // 0
    auto b = g.input("b", {2, 8});               // 1
    auto ya = PF::affine(a, 4, {.name = "fc"});  // W 2, b 3, affine 4
    auto yb = PF::affine(b, 4, {.name = "fc"});  // affine 5 (same W, b)
    return ya + yb;                              // 6
}
constexpr auto& WG = network<shared>::graph;
static_assert(WG.size() == 7);
static_assert(WG.count_leaves(op_kind::parameter) == 2);
static_assert(WG.input_of(4, 1) == 2 && WG.input_of(5, 1) == 2);
static_assert(WG.input_of(4, 2) == 3 && WG.input_of(5, 2) == 3);
static_assert(WG.num_consumers(2) == 2);
static_assert(WG.nodes[2].name == std::string_view("fc/affine/W"));

// ---------------------------------------------------------------------------------------------
// Reshape with -1, Concatenate's default axis.
constexpr var shapes(builder& g) {
    auto x = g.input("x", {2, 3, 4, 4});  // 0
    auto r = F::reshape(x, {2, -1});      // 1
    auto a = g.input("a", {1, 3, 4, 4});  // 2
    auto b = g.input("b", {1, 3, 4, 5});  // 3
    auto c = F::concatenate({a, b});      // 4
    auto d = F::concatenate({a, a}, 1);   // 5
    g.output(c);
    g.output(d);
    return r;
}
constexpr auto& XG = network<shapes>::graph;
static_assert(XG.nodes[1].op == op_kind::reshape);
static_assert(XG.nodes[1].shape == shape_t{2, 48} && XG.nodes[1].attr.target == shape_t{2, 48});
static_assert(XG.nodes[1].lay == layout::none);
static_assert(XG.nodes[4].attr.axis == 3 && XG.nodes[4].shape == shape_t{1, 3, 4, 9});
static_assert(XG.nodes[5].attr.axis == 1 && XG.nodes[5].shape == shape_t{1, 6, 4, 4});
static_assert(XG.nodes[5].num_inputs == 2 && XG.input_of(5, 0) == 2 && XG.input_of(5, 1) == 2);
static_assert(XG.num_outputs() == 3 && XG.outputs[2] == 1);

// ---------------------------------------------------------------------------------------------
// nnabla's default scope names of the parametric functions.
constexpr void pf_defaults(builder& g) {
    auto x = g.input("x", {1, 4, 8, 8});
    g.output(PF::convolution(x, 4, {3, 3}));
    g.output(PF::affine(x, 5));
    g.output(PF::batch_normalization(x));
    g.output(PF::deconvolution(x, 4, {3, 3}));
    g.output(PF::depthwise_convolution(x, {3, 3}));
    auto idx = g.input("idx", {6}, layout::none, dtype::i32);
    g.output(PF::embed(idx, 10, 3));
}
constexpr auto& PG = network<pf_defaults>::graph;
static_assert(param_id(PG, "conv/W") >= 0 && param_id(PG, "conv/b") >= 0);
static_assert(param_id(PG, "affine/W") >= 0 && param_id(PG, "affine/b") >= 0);
static_assert(param_id(PG, "bn/beta") >= 0 && param_id(PG, "bn/gamma") >= 0 && param_id(PG, "bn/mean") >= 0 &&
              param_id(PG, "bn/var") >= 0);
static_assert(param_id(PG, "deconv/W") >= 0 && param_id(PG, "deconv/b") >= 0);
static_assert(param_id(PG, "depthwise_conv/W") >= 0 && param_id(PG, "depthwise_conv/b") >= 0);
static_assert(param_id(PG, "embed/W") >= 0);
static_assert(PG.find(op_kind::convolution, "conv") >= 0);
static_assert(PG.find(op_kind::affine, "affine") >= 0);
static_assert(PG.find(op_kind::batch_normalization, "bn") >= 0);
static_assert(PG.find(op_kind::deconvolution, "deconv") >= 0);
static_assert(PG.find(op_kind::depthwise_convolution, "depthwise_conv") >= 0);
static_assert(PG.find(op_kind::embed, "embed") >= 0);
static_assert(PG.nodes[std::size_t(param_id(PG, "bn/mean"))].shape == shape_t{1, 4, 1, 1});
static_assert(!PG.nodes[std::size_t(param_id(PG, "bn/mean"))].need_grad);
static_assert(PG.nodes[std::size_t(param_id(PG, "bn/gamma"))].need_grad);
static_assert(PG.nodes[std::size_t(param_id(PG, "embed/W"))].shape == shape_t{10, 3});
static_assert(PG.nodes[std::size_t(PG.find(op_kind::embed, "embed"))].shape == shape_t{6, 3});
static_assert(PG.nodes[std::size_t(PG.find(op_kind::embed, "embed"))].type == dtype::f32);
static_assert(PG.nodes[std::size_t(PG.find(op_kind::input, "idx"))].type == dtype::i32);
static_assert(PG.num_outputs() == 6);

// ---------------------------------------------------------------------------------------------
// Operators (docs/nnabla-semantics.md §0.2).
constexpr void operators(builder& g) {
    auto a = g.input("a", {2, 3});  // 0
    auto b = g.input("b", {2, 3});  // 1
    g.output(a / 2.0);              // 2 MulScalar(0.5)
    g.output(a + b);                // 3 Add2
    g.output(a * b);                // 4 Mul2
    g.output(a - b);                // 5 Sub2
    g.output(a / b);                // 6 Div2
    g.output(a * 3.0);              // 7 MulScalar(3)
    g.output(a + 1.5);              // 8 AddScalar(1.5)
    g.output(a - 1.0);              // 9 AddScalar(-1)
}
constexpr auto& OG = network<operators>::graph;
static_assert(OG.nodes[2].op == op_kind::mul_scalar && OG.nodes[2].attr.val == 0.5);
static_assert(OG.nodes[3].op == op_kind::add2 && OG.input_of(3, 0) == 0 && OG.input_of(3, 1) == 1);
static_assert(OG.nodes[4].op == op_kind::mul2 && OG.nodes[5].op == op_kind::sub2 &&
              OG.nodes[6].op == op_kind::div2);
static_assert(OG.nodes[7].op == op_kind::mul_scalar && OG.nodes[7].attr.val == 3.0);
static_assert(OG.nodes[8].op == op_kind::add_scalar && OG.nodes[8].attr.val == 1.5);
static_assert(OG.nodes[9].op == op_kind::add_scalar && OG.nodes[9].attr.val == -1.0);
static_assert(OG.num_functions() == 8);

// Broadcasting Add2: (2,3,4,4) + (1,3,1,1).
constexpr var bcast(builder& g) {
    auto x = g.input("x", {2, 3, 4, 4});
    auto c = g.parameter("c", {1, 3, 1, 1});
    return x + c;
}
constexpr auto& BG = network<bcast>::graph;
static_assert(BG.nodes[2].shape == shape_t{2, 3, 4, 4} && BG.nodes[2].lay == layout::channel_first);

bool same_order(const auto& g, std::initializer_list<int> want) {
    if (g.num_order != int(want.size())) return false;
    int i = 0;
    for (int w : want)
        if (g.order[std::size_t(i++)] != w) return false;
    return true;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Run-time checks of the same facts (the graphs are ordinary constant data at run time).

TEST_CASE("graph: a residual x used twice is one node") {
    CHECK(RG.size() == 5);
    CHECK(RG.num_functions() == 4);
    CHECK(RG.num_consumers(1) == 2);
    CHECK(RG.input_of(4, 0) == 3);
    CHECK(RG.input_of(4, 1) == 1);
    CHECK(RG.nodes[4].op == op_kind::add2);
}

TEST_CASE("graph: visit order is nnabla's post-order DFS (docs/nnabla-semantics.md §0.3)") {
    CHECK(same_order(RG, {1, 2, 3, 4}));
    CHECK(same_order(network<residual_first>::graph, {1, 2, 3, 4}));
    CHECK(same_order(TB, {2, 3, 1, 4}));
    CHECK(same_order(network<with_dead>::graph, {2}));
    CHECK(same_order(MG, {4, 2, 3, 5}));
}

TEST_CASE("graph: several inputs and outputs") {
    REQUIRE(MG.num_outputs() == 2);
    CHECK(MG.outputs[0] == 4);
    CHECK(MG.outputs[1] == 5);
    CHECK(MG.count_leaves(op_kind::input) == 2);
    CHECK(MG.nodes[0].name.view() == "a");
    CHECK(MG.nodes[1].name.view() == "b");
    CHECK(MG.nodes[5].op == op_kind::mul2);
    CHECK(MG.nodes[5].shape == shape_t{2, 8});
}

TEST_CASE("graph: shapes, dtypes and layouts of nodes") {
    CHECK(LG.nodes[3].shape == shape_t{1, 6, 6, 16});
    CHECK(LG.nodes[3].lay == layout::channel_last);
    CHECK(LG.nodes[1].shape == shape_t{16, 3, 3, 3});
    CHECK(LG.nodes[4].lay == layout::channel_first);
    CHECK(LG.nodes[5].lay == layout::channel_last);
    CHECK(LG.nodes[8].lay == layout::none);
    CHECK(LG.nodes[8].shape == shape_t{1, 10});
    CHECK(LG.nodes[8].type == dtype::f32);
    CHECK(NG.nodes[3].shape == shape_t{1, 16, 16, 16});
    CHECK(NG.nodes[4].lay == layout::channel_last);
    CHECK(BG.nodes[2].shape == shape_t{2, 3, 4, 4});
}

TEST_CASE("graph: parameter names from nested scopes") {
    CHECK(param_id(SG, "cb1/conv/W") >= 0);
    CHECK(param_id(SG, "cb1/bn/gamma") >= 0);
    CHECK(param_id(SG, "stage2/cb1/c/conv/b") >= 0);
    CHECK(param_id(SG, "head/conv/W") >= 0);
    CHECK(param_id(SG, "conv/W") < 0);
    CHECK(SG.find(op_kind::batch_normalization, "cb1/bn") >= 0);
}

TEST_CASE("graph: weight sharing through the same parameter name") {
    CHECK(WG.count_leaves(op_kind::parameter) == 2);
    CHECK(WG.input_of(4, 1) == WG.input_of(5, 1));
    CHECK(WG.input_of(4, 2) == WG.input_of(5, 2));
    CHECK(WG.num_consumers(2) == 2);
    CHECK(WG.nodes[3].name.view() == "fc/affine/b");
}

TEST_CASE("graph: reshape with -1 and Concatenate's default axis") {
    CHECK(XG.nodes[1].shape == shape_t{2, 48});
    CHECK(XG.nodes[4].attr.axis == 3);
    CHECK(XG.nodes[4].shape == shape_t{1, 3, 4, 9});
    CHECK(XG.nodes[5].shape == shape_t{1, 6, 4, 4});
}

TEST_CASE("graph: default scope names of the parametric functions") {
    for (std::string_view n :
         {"conv/W", "conv/b", "affine/W", "affine/b", "bn/beta", "bn/gamma", "bn/mean", "bn/var", "deconv/W",
          "deconv/b", "depthwise_conv/W", "depthwise_conv/b", "embed/W"}) {
        CAPTURE(n);
        CHECK(param_id(PG, n) >= 0);
    }
    CHECK(PG.count_leaves(op_kind::parameter) == 13);
    CHECK(PG.find(op_kind::depthwise_convolution, "depthwise_conv") >= 0);
    CHECK(PG.find(op_kind::embed, "embed") >= 0);
}

TEST_CASE("graph: C++ operators build nnabla's functions") {
    CHECK(OG.nodes[2].op == op_kind::mul_scalar);
    CHECK(OG.nodes[2].attr.val == doctest::Approx(0.5));
    CHECK(OG.nodes[3].op == op_kind::add2);
    CHECK(OG.nodes[4].op == op_kind::mul2);
    CHECK(OG.nodes[7].attr.val == doctest::Approx(3.0));
    CHECK(OG.nodes[9].op == op_kind::add_scalar);
    CHECK(OG.nodes[9].attr.val == doctest::Approx(-1.0));
}
