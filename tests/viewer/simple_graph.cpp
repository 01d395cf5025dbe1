// Tests of kata::SimpleGraph (nnabla's experimental SimpleGraph viewer, docs/nnabla-semantics.md §5).
//
// The DOT text is parsed back (nodes with their attributes, edges) and checked against counts computed
// independently from the graph (helpers in dot_test_util.hpp); rendering is checked with GraphViz's `dot`
// when it is installed. Failures, atomicity and PDF: simple_graph_render.cpp; more graph shapes and
// converter outputs: simple_graph_graphs.cpp.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <kata/converters.hpp>
#include <kata/kata.hpp>
#include <kata/viewer/simple_graph.hpp>

#include "dot_test_util.hpp"

using namespace kata;
using namespace viewer_test;
namespace fs = std::filesystem;

namespace {

// ---- networks -------------------------------------------------------------------------------------------

// The example of the brief: conv (c1/W, c1/b) -> BN (bn1) -> ReLU -> affine (f1).
constexpr var conv_bn_net(builder& g) {
    auto x = g.input("x", {1, 3, 32, 32});
    auto h = PF::convolution(x, 16, {3, 3}, {.pad = {1, 1}, .name = "c1"});
    h = F::relu(PF::batch_normalization(h, {.name = "bn1"}));
    return PF::affine(h, 10, {.name = "f1"});
}
using ConvBn = network<conv_bn_net>;

// A residual block: x is read by the first convolution and by the Add2; the first ReLU's output is
// read by two convolutions (a produced variable with several consumers).
constexpr var residual_net(builder& g) {
    auto x = g.input("x", {2, 8, 16, 16});
    auto h = F::relu(PF::batch_normalization(PF::convolution(x, 8, {3, 3}, {.pad = {1, 1}, .name = "res/c1"}),
                                             {.name = "res/bn1"}));
    auto a = PF::convolution(h, 8, {3, 3}, {.pad = {1, 1}, .name = "res/c2"});
    auto b = PF::convolution(h, 8, {1, 1}, {.with_bias = false, .name = "res/c3"});
    return F::relu(a + b + x);
}
using Residual = network<residual_net>;

// Several outputs; one output (a) is also consumed by another function.
constexpr void multi_net(builder& g) {
    auto x = g.input("x", {4, 6});
    auto y = g.input("y", {4, 6});
    auto a = PF::affine(x, 6, {.name = "fa"});
    auto b = F::sigmoid(a * y);
    g.output(a);
    g.output(b);
    g.output(F::tanh(y));
}
using Multi = network<multi_net>;

// One function of each colour class, without parametric scopes where arguments are checked.
constexpr var colours_net(builder& g) {
    auto x = g.input("image", {1, 4, 8, 8});
    auto h = PF::deconvolution(x, 4, {2, 2}, {.stride = {2, 2}, .name = "dc"});  // (1,4,16,16)
    h = PF::depthwise_convolution(h, {3, 3}, {.pad = {1, 1}, .name = "dw"});
    h = F::max_pooling(h, {2, 2});  // (1,4,8,8)
    h = F::unpooling(h, {2, 2});    // (1,4,16,16)
    h = F::leaky_relu(h, 0.25);
    h = F::mul_scalar(h, 0.5);
    h = F::add_scalar(h, 1.0);
    h = h - F::sigmoid(h);
    return F::average_pooling(h, {2, 2});
}
using Colours = network<colours_net>;

// Parameters at the root (empty scope) and a function using a parameter created with
// need_grad = false.
constexpr var root_params_net(builder& g) {
    auto x = g.input("x", {1, 2, 5, 5});
    auto w = g.parameter("W", {3, 2, 3, 3});
    auto b = g.parameter("b", {3}, {}, false);
    return F::convolution(x, w, b, {.pad = {1, 1}});
}
using RootParams = network<root_params_net>;

}  // namespace

TEST_CASE("SimpleGraph: conv-BN-ReLU-affine: counts, ids, scope and parameter labels") {
    dot_graph d = check_structure(ConvBn::graph);
    // 4 functions, 13 variables (x, c1/W, c1/b, 4 BN parameters, f1/W, f1/b, 4 outputs), 4+3+5+1+3 edges.
    CHECK(d.nodes.size() == 4 + 13);
    CHECK(d.edges.size() == 4 + 3 + 5 + 1 + 3);
    CHECK(d.nodes.at("Convolution-1").at("label") == "Convolution\nc1/conv");
    CHECK(d.nodes.at("BatchNormalization-1").at("label") == "BatchNormalization\nbn1/bn");
    CHECK(d.nodes.at("ReLU-1").at("label") == "ReLU");
    CHECK(d.nodes.at("Affine-1").at("label") == "Affine\nf1/affine");
    // Parameters: pink, short labels.
    auto pink = labels_with_fill(d, "pink");
    std::multiset<std::string> params(pink.begin(), pink.end());
    CHECK(params == std::multiset<std::string>{"W", "b", "beta", "gamma", "mean", "var", "W", "b"});
    // The convolution reads x, then W and b (its scope's parameters).
    std::vector<std::string> conv_inputs;
    for (const auto& [t, h] : d.edges)
        if (h == "Convolution-1") conv_inputs.push_back(d.nodes.at(t).at("label"));
    CHECK(conv_inputs == std::vector<std::string>{"x", "W", "b"});
    // Input: name as label, lightgray, no gradient (border = fill).
    const auto x = var_with_label(d, "x");
    CHECK(d.nodes.at(x).at("fillcolor") == "lightgray");
    CHECK(d.nodes.at(x).at("color") == "lightgray");
    // Intermediate variables are "h" and need gradients (parameters do): black border.
    int hs = 0;
    for (const auto& [id, a] : d.nodes)
        if (!is_function_id(id) && a.at("label") == "h") {
            ++hs;
            CHECK(a.at("fillcolor") == "lightgray");
            CHECK(a.at("color") == "black");
        }
    CHECK(hs == 4);
    // BN running statistics have need_grad = false: border = pink; beta/gamma black.
    for (const auto& [id, a] : d.nodes) {
        if (is_function_id(id) || a.at("fillcolor") != "pink") continue;
        const bool stat = a.at("label") == "mean" || a.at("label") == "var";
        CHECK(a.at("color") == (stat ? "pink" : "black"));
    }
}

TEST_CASE("SimpleGraph: the DOT text's exact beginning (ids, attribute order, escaping)") {
    const std::string text = SimpleGraph().create_graphviz_digraph<ConvBn>();
    const std::string head =
        "digraph {\n\tnode [style=filled]\n"
        "\t\"0-0\" -> \"Convolution-1\"\n"
        "\t\"0-0\" [label=\"x\" color=\"lightgray\" fillcolor=\"lightgray\" shape=\"circle\"]\n"
        "\t\"1-0\" -> \"Convolution-1\"\n"
        "\t\"1-0\" [label=\"W\" color=\"black\" fillcolor=\"pink\" shape=\"circle\"]\n";
    CHECK(text.substr(0, head.size()) == head);
    CHECK(text.find("\t\"Convolution-1\" [label=\"Convolution\\nc1/conv\" color=\"blue\" fontcolor=white "
                    "shape=square]\n") != std::string::npos);
    CHECK(text.substr(text.size() - 2) == "}\n");
    // Both template forms give the same text.
    CHECK(text == SimpleGraph().create_graphviz_digraph(ConvBn::graph));
}

TEST_CASE("SimpleGraph: residual DAG with a shared input and a shared intermediate") {
    dot_graph d = check_structure(Residual::graph);
    // x is one node, read by the first convolution and by an Add2.
    const auto x = var_with_label(d, "x");
    auto heads = heads_of(d, x);
    std::sort(heads.begin(), heads.end());
    CHECK(heads == std::vector<std::string>{"Add2-2", "Convolution-1"});
    // The first ReLU's output is one node read by two convolutions.
    std::string relu_out = heads_of(d, "ReLU-1").at(0);
    heads = heads_of(d, relu_out);
    std::sort(heads.begin(), heads.end());
    CHECK(heads == std::vector<std::string>{"Convolution-2", "Convolution-3"});
    // Scopes are the full nested scope; parameter labels are relative to it.
    CHECK(d.nodes.at("Convolution-1").at("label") == "Convolution\nres/c1/conv");
    CHECK(d.nodes.at("Convolution-3").at("label") ==
          "Convolution\nres/c3/conv");  // W only: dirname(res/c3/conv/W)
    CHECK(d.nodes.at("BatchNormalization-1").at("label") == "BatchNormalization\nres/bn1/bn");
    CHECK(d.nodes.at("Add2-1").at("color") == "purple");
    CHECK(d.nodes.at("ReLU-2").at("color") == "green");
    // Visit order: the left branch before the Add2 (ids count in visit order).
    CHECK(heads_of(d, "Convolution-2").size() == 1);
}

// The residual net after a converter pipeline (BN folded, then NHWC): the viewer draws the new type.
// The BN (batch_stat true by default in PF) is switched to test mode first, so it folds.
using ResidualConverted = convert<Residual, BatchNormBatchStatModifier{}, BatchNormalizationFoldingModifier{},
                                  ChannelLastModifier{}>;
TEST_CASE("SimpleGraph: a converted graph (BN folding + channel-last)") {
    static_assert(ResidualConverted::graph.count(op_kind::batch_normalization) == 0);
    dot_graph d = check_structure(ResidualConverted::graph);
    CHECK(d.nodes.count("BatchNormalization-1") == 0);
    // The folded, transposed parameters are drawn as parameters with their names relative to the scope.
    CHECK(d.nodes.at("Convolution-1").at("label") == "Convolution\nres/c1/conv");
    CHECK(!labels_with_fill(d, "pink").empty());
    bool folded = false;
    for (const auto& l : labels_with_fill(d, "pink"))
        folded = folded || l.find("w-folded_cl") != std::string::npos;
    CHECK(folded);
    // Verbose mode shows the NHWC shapes (functions with a scope show the scope, not arguments).
    const std::string v = SimpleGraph("png", true).create_graphviz_digraph(ResidualConverted::graph);
    CHECK(v.find("(2, 16, 16, 8)") != std::string::npos);
    CHECK(v.find("(2, 8, 16, 16)") == std::string::npos);
}

TEST_CASE("SimpleGraph: several outputs, one of which is also consumed") {
    dot_graph d = check_structure(Multi::graph);
    CHECK(d.nodes.count("Affine-1") == 1);
    CHECK(d.nodes.count("Mul2-1") == 1);
    CHECK(d.nodes.count("Sigmoid-1") == 1);
    CHECK(d.nodes.count("Tanh-1") == 1);
    // y feeds Mul2 and Tanh.
    auto heads = heads_of(d, var_with_label(d, "y"));
    std::sort(heads.begin(), heads.end());
    CHECK(heads == std::vector<std::string>{"Mul2-1", "Tanh-1"});
    // The affine output is a single node (graph output and Mul2 input).
    const auto a_out = heads_of(d, "Affine-1").at(0);
    CHECK(heads_of(d, a_out) == std::vector<std::string>{"Mul2-1"});
    CHECK(d.nodes.at("Affine-1").at("label") == "Affine\nfa/affine");
    // tanh(y) does not need a gradient: y is an input.
    const auto t_out = heads_of(d, "Tanh-1").at(0);
    CHECK(d.nodes.at(t_out).at("color") == "lightgray");
}

TEST_CASE("SimpleGraph: default colours (Deconvolution and Unpooling gray, DepthwiseConvolution blue)") {
    dot_graph d = check_structure(Colours::graph);
    const std::map<std::string, std::string> want{
        {"Deconvolution-1", "gray"},    {"DepthwiseConvolution-1", "blue"},
        {"MaxPooling-1", "lightblue2"}, {"Unpooling-1", "gray"},
        {"LeakyReLU-1", "green"},       {"MulScalar-1", "purple"},
        {"AddScalar-1", "purple"},      {"Sub2-1", "purple"},
        {"Sigmoid-1", "gray"},          {"AveragePooling-1", "lightblue2"}};
    for (const auto& [id, colour] : want) {
        CAPTURE(id);
        REQUIRE(d.nodes.count(id) == 1);
        CHECK(d.nodes.at(id).at("color") == colour);
        CHECK(d.nodes.at(id).at("fontcolor") == "white");
        CHECK(!d.nodes.at(id).count("fillcolor"));  // filled with `color`
    }
    CHECK(d.nodes.size() == want.size() + expected(Colours::graph).variables);
    CHECK(d.nodes.at("Deconvolution-1").at("label") == "Deconvolution\ndc/deconv");
    // The default rules are the same as upstream's tests on the indexed id.
    CHECK(kata::detail::default_function_color("BatchNormalization") == "orange");
    CHECK(kata::detail::default_function_color("FusedBatchNormalization") == "orange");
    CHECK(kata::detail::default_function_color("Affine") == "red");
    CHECK(kata::detail::default_function_color("Div2") == "purple");
    CHECK(kata::detail::default_function_color("Concatenate") == "gray");
    CHECK(kata::detail::default_function_color("DepthwiseDeconvolution") == "gray");
}

TEST_CASE("SimpleGraph: fname_color_map by type name, vname_color_map by variable name") {
    SimpleGraph viewer("png", false, {{"Convolution", "yellow"}, {"ReLU", "#ff0000"}, {"Affine-1", "cyan"}},
                       {{"x", "navy"}, {"c1/conv/W", "cyan"}});
    dot_graph d = check_structure(ConvBn::graph, viewer);
    CHECK(d.nodes.at("Convolution-1").at("color") == "yellow");
    CHECK(d.nodes.at("ReLU-1").at("color") == "#ff0000");
    // Keys are type names: an indexed id is not a key; unmapped types keep their default colour.
    CHECK(d.nodes.at("Affine-1").at("color") == "red");
    CHECK(d.nodes.at("BatchNormalization-1").at("color") == "orange");
    // The input is coloured by name; its border follows the fill (no gradient).
    const auto x = var_with_label(d, "x");
    CHECK(d.nodes.at(x).at("fillcolor") == "navy");
    CHECK(d.nodes.at(x).at("color") == "navy");
    // Parameters stay pink even when their key is in the map (upstream order of the tests).
    CHECK(labels_with_fill(d, "cyan").empty());
    CHECK(labels_with_fill(d, "pink").size() == 8);
}

TEST_CASE("SimpleGraph: shapes in both modes") {
    for (bool verbose : {false, true}) {
        CAPTURE(verbose);
        dot_graph d = check_structure(Residual::graph, SimpleGraph("png", verbose));
        for (const auto& [id, a] : d.nodes) {
            if (is_function_id(id))
                CHECK(a.at("shape") == (verbose ? "box" : "square"));
            else
                CHECK(a.at("shape") == (verbose ? "" : "circle"));
        }
    }
}

TEST_CASE("SimpleGraph: verbose labels (shape tuples, need_grad, argument JSON)") {
    SimpleGraph viewer("png", true);
    dot_graph d = check_structure(ConvBn::graph, viewer);
    // Scoped functions keep the scope label even when verbose; parameters never show shapes.
    CHECK(d.nodes.at("Convolution-1").at("label") == "Convolution\nc1/conv");
    CHECK(labels_with_fill(d, "pink").size() == 8);
    for (const auto& l : labels_with_fill(d, "pink")) CHECK(l.find('\n') == std::string::npos);
    CHECK(d.nodes.count(var_with_label(d, "x\n(((1, 3, 32, 32), need_grad=False))")) == 1);
    CHECK(d.nodes.count(var_with_label(d, "h\n(((1, 10), need_grad=True))")) == 1);  // affine output
    CHECK(d.nodes.at("ReLU-1").at("label") == "ReLU\n({\"inplace\": false})");

    dot_graph c = check_structure(Colours::graph, viewer);
    CHECK(c.nodes.at("MaxPooling-1").at("label") ==
          "MaxPooling\n({\"kernel\": [2, 2], \"stride\": [2, 2], \"ignore_border\": true, \"pad\": [0, 0], "
          "\"channel_last\": false})");
    CHECK(
        c.nodes.at("AveragePooling-1").at("label") ==
        "AveragePooling\n({\"kernel\": [2, 2], \"stride\": [2, 2], \"ignore_border\": true, \"pad\": [0, 0], "
        "\"channel_last\": false, \"including_pad\": true})");
    CHECK(c.nodes.at("Unpooling-1").at("label") ==
          "Unpooling\n({\"kernel\": [2, 2], \"channel_last\": false})");
    CHECK(c.nodes.at("LeakyReLU-1").at("label") == "LeakyReLU\n({\"alpha\": 0.25, \"inplace\": false})");
    CHECK(c.nodes.at("MulScalar-1").at("label") == "MulScalar\n({\"val\": 0.5, \"inplace\": false})");
    CHECK(c.nodes.at("AddScalar-1").at("label") == "AddScalar\n({\"val\": 1.0, \"inplace\": false})");
    CHECK(c.nodes.at("Sub2-1").at("label") == "Sub2\n({\"inplace\": false})");
    CHECK(c.nodes.at("Sigmoid-1").at("label") == "Sigmoid\n({})");  // no arguments
    CHECK(c.nodes.count(var_with_label(c, "image\n(((1, 4, 8, 8), need_grad=False))")) == 1);

    // Root parameters: empty scope, so the label shows the arguments and parameters their full keys.
    dot_graph r = check_structure(RootParams::graph, viewer);
    CHECK(r.nodes.at("Convolution-1").at("label") ==
          "Convolution\n({\"base_axis\": 1, \"pad\": [1, 1], \"stride\": [1, 1], \"dilation\": [1, 1], "
          "\"group\": 1, \"channel_last\": false})");
    const auto w = var_with_label(r, "W");
    const auto b = var_with_label(r, "b");
    CHECK(r.nodes.at(w).at("color") == "black");
    CHECK(r.nodes.at(b).at("color") == "pink");  // need_grad = false
    CHECK(r.nodes.count(var_with_label(r, "h\n(((1, 3, 5, 5), need_grad=True))")) == 1);
}

TEST_CASE("SimpleGraph: JSON and DOT helpers") {
    using namespace kata::detail;
    CHECK(py_float(1e-5) == "1e-05");
    CHECK(py_float(0.9) == "0.9");
    CHECK(py_float(1.0) == "1.0");
    CHECK(py_float(-2.0) == "-2.0");
    CHECK(py_float(0.0625) == "0.0625");
    CHECK(py_shape(shape_t{10}) == "(10,)");
    CHECK(py_shape(shape_t{}) == "()");
    CHECK(dot_quote("a\"b\\c\nd") == "\"a\\\"b\\\\c\\nd\"");
    CHECK(json_quote("q\"") == "\"q\\\"\"");
    CHECK(dirname("a/b/W") == "a/b");
    CHECK(dirname("W") == "");
    CHECK(common_prefix({"c1/conv", "c1/conv/b"}) == "c1/conv");
    CHECK(common_prefix({"bn1", "bn1/gamma", "bn1/mean", "bn1/var"}) == "bn1");
}

namespace {
constexpr var quoted_names_net(builder& g) {
    auto x = g.input("in\"put\\x", {1, 4});
    return PF::affine(x, 2, {.name = "odd \"scope\""});
}
using QuotedNames = network<quoted_names_net>;
}  // namespace

TEST_CASE("SimpleGraph: names with quotes and backslashes are escaped") {
    dot_graph d = check_structure(QuotedNames::graph);
    CHECK(d.nodes.count(var_with_label(d, "in\"put\\x")) == 1);
    CHECK(d.nodes.at("Affine-1").at("label") == "Affine\nodd \"scope\"/affine");
    if (have_dot()) {
        auto dir = fresh_dir("quoted");
        auto out = SimpleGraph("svg").save(QuotedNames::graph, dir / "q");
        CHECK(read_file(out).find("<svg") != std::string::npos);
        fs::remove_all(dir);
    }
}

TEST_CASE("SimpleGraph: save renders PNG and SVG with dot") {
    if (!have_dot()) {
        MESSAGE("GraphViz's dot is not installed: rendering not checked");
        return;
    }
    auto dir = fresh_dir("save");
    SimpleGraph viewer;  // png
    auto png = viewer.save(Residual::graph, dir / "residual");
    CHECK(png == dir / "residual.png");
    const std::string bytes = read_file(png);
    REQUIRE(bytes.size() > 8);
    CHECK(bytes.substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
    // The DOT source stays (cleanup = false) and is the viewer's text.
    CHECK(read_file(dir / "residual") == viewer.create_graphviz_digraph(Residual::graph));

    auto svg = SimpleGraph("svg", true).save<ConvBn>(dir / "convbn", "", true);
    CHECK(svg == dir / "convbn.svg");
    const std::string s = read_file(svg);
    CHECK(s.find("<svg") != std::string::npos);
    CHECK(s.find("Convolution") != std::string::npos);
    CHECK(!fs::exists(dir / "convbn"));  // cleanup removed the source
    // Per-call format overrides the viewer's.
    auto svg2 = viewer.save(Multi::graph, dir / "multi", "svg");
    CHECK(read_file(svg2).find("<svg") != std::string::npos);
    // No temporary files are left behind.
    for (const auto& e : fs::directory_iterator(dir))
        CHECK(e.path().filename().string().find(".tmp-") == std::string::npos);
    // A file name starting with '-' is not taken for an option.
    {
        struct cwd_guard {
            fs::path old = fs::current_path();
            ~cwd_guard() { fs::current_path(old); }
        } guard;
        fs::current_path(dir);
        auto dash = viewer.save(ConvBn::graph, "-Tsvg");
        CHECK(read_file(dir / "-Tsvg.png").substr(0, 4) == "\x89PNG");
        CHECK(dash == fs::path("-Tsvg.png"));
    }
    fs::remove_all(dir);
}

TEST_CASE("SimpleGraph: view without a display renders and reports the file") {
    if (!have_dot()) return;
    scoped_env display("DISPLAY", nullptr);
    scoped_env wayland("WAYLAND_DISPLAY", nullptr);
    auto dir = fresh_dir("view");
    auto out = SimpleGraph("svg").view(Residual::graph, dir / "r");
    CHECK(out == dir / "r.svg");
    CHECK(fs::exists(out));
    CHECK(!fs::exists(dir / "r"));  // cleanup defaults to true
    auto tmp = SimpleGraph().view(ConvBn::graph);
    CHECK(fs::exists(tmp));
    CHECK(tmp.extension() == ".png");
    fs::remove(tmp);
    fs::remove_all(dir);
}
