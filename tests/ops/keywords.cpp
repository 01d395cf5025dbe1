// Order-free keyword arguments (kata/ops/keywords.hpp): for every F::, PF:: function and parametric
// class that takes them, a network written with keywords (in two different orders) is the same graph
// (nodes, edges, outputs) as the one written with designated initializers; make_args fills exactly the
// named members and keeps nnabla's defaults; every member of every argument struct that takes keywords
// has its keyword object. The errors (unknown, repeated keyword) are tests/compile_fail/keyword_*.cpp.
#include <doctest/doctest.h>

#include <string_view>

#include <kata/kata.hpp>

using namespace kata;
using namespace kata::kw;

namespace {

template <class A, class B>
constexpr bool same_graph() {
    return A::graph.nodes == B::graph.nodes && A::graph.edges == B::graph.edges &&
           A::graph.outputs == B::graph.outputs;
}

// ---- F:: -------------------------------------------------------------------------------------------

constexpr void f_designated(builder& g) {
    auto x = g.input("x", {2, 4, 9, 9});
    auto w = g.parameter("W", {6, 2, 3, 3});
    auto b = g.parameter("b", {6});
    auto h = F::convolution(x, w, b, {.pad = {1, 2}, .stride = {2, 1}, .dilation = {1, 2}, .group = 2});
    auto h2 = F::convolution(x, w, {.base_axis = 1, .pad = {1, 1}, .group = 2, .channel_last = false});
    auto dw = F::depthwise_convolution(x, g.parameter("dW", {8, 3, 3}), g.parameter("db", {8}),
                                       {.pad = {1, 1}, .stride = {2, 2}, .multiplier = 2});
    auto dw2 =
        F::depthwise_convolution(x, g.parameter("dW", {8, 3, 3}), {.dilation = {2, 1}, .multiplier = 2});
    auto dc = F::deconvolution(h, g.parameter("dcW", {6, 2, 3, 3}), g.parameter("dcb", {6}),
                               {.pad = {1, 1}, .stride = {2, 2}, .group = 3, .output_padding = {1, 1}});
    auto dc2 = F::deconvolution(h2, g.parameter("dcW", {6, 2, 3, 3}), {.dilation = {1, 2}, .group = 3});
    auto ddc = F::depthwise_deconvolution(dw, g.parameter("ddW", {8, 3, 3}), g.parameter("ddb", {4}),
                                          {.pad = {1, 0}, .divisor = 2});
    auto ddc2 =
        F::depthwise_deconvolution(dw2, g.parameter("ddW", {8, 3, 3}), {.stride = {2, 1}, .divisor = 4});
    auto m = g.parameter("mean", {1, 6, 1, 1});
    auto v = g.parameter("var", {1, 6, 1, 1});
    auto bn = F::batch_normalization(
        h, none, g.parameter("gamma", {1, 6, 1, 1}), m, v,
        {.axes = {1}, .naxes = 1, .decay_rate = 0.75, .eps = 1e-3, .batch_stat = false});
    auto fbn =
        F::fused_batch_normalization(h, g.parameter("beta", {1, 6, 1, 1}), g.parameter("gamma", {1, 6, 1, 1}),
                                     m, v, bn, {.axes = {-3}, .naxes = 1, .eps = 1e-4, .batch_stat = false});
    auto mp = F::max_pooling(fbn, {2, 2}, {.stride = {1, 2}, .ignore_border = false, .pad = {1, 0}});
    auto ap = F::average_pooling(fbn, {3, 2}, {.stride = {2, 2}, .pad = {1, 1}, .including_pad = false});
    auto sp = F::sum_pooling(x, {2, 3}, {.ignore_border = false, .channel_last = false});
    auto af = F::affine(mp, g.parameter("fcW", {6 * 6 * 5, 7}), g.parameter("fcb", {7}), {.base_axis = 1});
    auto af2 = F::affine(x, g.parameter("fcW2", {9, 5}), {.base_axis = 3});
    auto fq = F::fixed_point_quantize(af, {.sign = false, .n = 5, .delta = 0.25, .ste_fine_grained = false});
    g.output(F::sink({dc, dc2, ddc, ddc2, ap, sp, af2, fq}));
}

constexpr void f_keywords(builder& g) {
    auto x = g.input("x", {2, 4, 9, 9});
    auto w = g.parameter("W", {6, 2, 3, 3});
    auto b = g.parameter("b", {6});
    auto h = F::convolution(x, w, b, group = 2, dilation = {1, 2}, pad = {1, 2}, stride = {2, 1});
    auto h2 = F::convolution(x, w, channel_last = false, group = 2, pad = {1, 1}, base_axis = 1);
    auto dw = F::depthwise_convolution(x, g.parameter("dW", {8, 3, 3}), g.parameter("db", {8}),
                                       multiplier = 2, stride = {2, 2}, pad = {1, 1});
    auto dw2 = F::depthwise_convolution(x, g.parameter("dW", {8, 3, 3}), multiplier = 2, dilation = {2, 1});
    auto dc = F::deconvolution(h, g.parameter("dcW", {6, 2, 3, 3}), g.parameter("dcb", {6}),
                               output_padding = {1, 1}, group = 3, stride = {2, 2}, pad = {1, 1});
    auto dc2 = F::deconvolution(h2, g.parameter("dcW", {6, 2, 3, 3}), group = 3, dilation = {1, 2});
    auto ddc = F::depthwise_deconvolution(dw, g.parameter("ddW", {8, 3, 3}), g.parameter("ddb", {4}),
                                          divisor = 2, pad = {1, 0});
    auto ddc2 = F::depthwise_deconvolution(dw2, g.parameter("ddW", {8, 3, 3}), divisor = 4, stride = {2, 1});
    auto m = g.parameter("mean", {1, 6, 1, 1});
    auto v = g.parameter("var", {1, 6, 1, 1});
    auto bn = F::batch_normalization(h, none, g.parameter("gamma", {1, 6, 1, 1}), m, v, batch_stat = false,
                                     eps = 1e-3, decay_rate = 0.75, axes = {1});
    auto fbn =
        F::fused_batch_normalization(h, g.parameter("beta", {1, 6, 1, 1}), g.parameter("gamma", {1, 6, 1, 1}),
                                     m, v, bn, batch_stat = false, eps = 1e-4, axes = {-3});
    auto mp = F::max_pooling(fbn, {2, 2}, pad = {1, 0}, ignore_border = false, stride = {1, 2});
    auto ap = F::average_pooling(fbn, {3, 2}, including_pad = false, pad = {1, 1}, stride = {2, 2});
    auto sp = F::sum_pooling(x, {2, 3}, channel_last = false, ignore_border = false);
    auto af = F::affine(mp, g.parameter("fcW", {6 * 6 * 5, 7}), g.parameter("fcb", {7}), base_axis = 1);
    auto af2 = F::affine(x, g.parameter("fcW2", {9, 5}), base_axis = 3);
    auto fq = F::fixed_point_quantize(af, ste_fine_grained = false, delta = 0.25, n = 5, sign = false);
    g.output(F::sink({dc, dc2, ddc, ddc2, ap, sp, af2, fq}));
}

// The same keywords, each call in another order.
constexpr void f_keywords_permuted(builder& g) {
    auto x = g.input("x", {2, 4, 9, 9});
    auto w = g.parameter("W", {6, 2, 3, 3});
    auto b = g.parameter("b", {6});
    auto h = F::convolution(x, w, b, stride = {2, 1}, pad = {1, 2}, group = 2, dilation = {1, 2});
    auto h2 = F::convolution(x, w, base_axis = 1, pad = {1, 1}, channel_last = false, group = 2);
    auto dw = F::depthwise_convolution(x, g.parameter("dW", {8, 3, 3}), g.parameter("db", {8}), pad = {1, 1},
                                       multiplier = 2, stride = {2, 2});
    auto dw2 = F::depthwise_convolution(x, g.parameter("dW", {8, 3, 3}), dilation = {2, 1}, multiplier = 2);
    auto dc = F::deconvolution(h, g.parameter("dcW", {6, 2, 3, 3}), g.parameter("dcb", {6}), pad = {1, 1},
                               stride = {2, 2}, output_padding = {1, 1}, group = 3);
    auto dc2 = F::deconvolution(h2, g.parameter("dcW", {6, 2, 3, 3}), dilation = {1, 2}, group = 3);
    auto ddc = F::depthwise_deconvolution(dw, g.parameter("ddW", {8, 3, 3}), g.parameter("ddb", {4}),
                                          pad = {1, 0}, divisor = 2);
    auto ddc2 = F::depthwise_deconvolution(dw2, g.parameter("ddW", {8, 3, 3}), stride = {2, 1}, divisor = 4);
    auto m = g.parameter("mean", {1, 6, 1, 1});
    auto v = g.parameter("var", {1, 6, 1, 1});
    auto bn = F::batch_normalization(h, none, g.parameter("gamma", {1, 6, 1, 1}), m, v, axes = {1},
                                     decay_rate = 0.75, batch_stat = false, eps = 1e-3);
    auto fbn =
        F::fused_batch_normalization(h, g.parameter("beta", {1, 6, 1, 1}), g.parameter("gamma", {1, 6, 1, 1}),
                                     m, v, bn, axes = {-3}, eps = 1e-4, batch_stat = false);
    auto mp = F::max_pooling(fbn, {2, 2}, stride = {1, 2}, ignore_border = false, pad = {1, 0});
    auto ap = F::average_pooling(fbn, {3, 2}, stride = {2, 2}, including_pad = false, pad = {1, 1});
    auto sp = F::sum_pooling(x, {2, 3}, ignore_border = false, channel_last = false);
    auto af = F::affine(mp, g.parameter("fcW", {6 * 6 * 5, 7}), g.parameter("fcb", {7}), base_axis = 1);
    auto af2 = F::affine(x, g.parameter("fcW2", {9, 5}), base_axis = 3);
    auto fq = F::fixed_point_quantize(af, sign = false, n = 5, ste_fine_grained = false, delta = 0.25);
    g.output(F::sink({dc, dc2, ddc, ddc2, ap, sp, af2, fq}));
}

// ---- PF:: ------------------------------------------------------------------------------------------

constexpr void pf_designated(builder& g) {
    auto x = g.input("x", {2, 8, 12, 12});
    auto h = PF::convolution(x, 16, {3, 3},
                             {.pad = {1, 1},
                              .stride = {2, 1},
                              .dilation = {1, 2},
                              .group = 4,
                              .w_init = normal_init(0, 0.02),
                              .b_init = constant_init(0.5),
                              .fix_parameters = true,
                              .name = "conv1"});
    h = PF::batch_normalization(h, {.axes = {1},
                                    .naxes = 1,
                                    .decay_rate = 0.5,
                                    .eps = 1e-3,
                                    .batch_stat = false,
                                    .no_scale = true,
                                    .mean_init = constant_init(0.25),
                                    .name = "bn1"});
    h = PF::fused_batch_normalization(h, none, {.eps = 1e-4, .fix_parameters = true, .name = "fbn"});
    auto d = PF::deconvolution(
        h, 8, {2, 2},
        {.stride = {2, 2}, .group = 2, .output_padding = {1, 0}, .with_bias = false, .name = "up"});
    auto dw = PF::depthwise_convolution(x, {3, 3}, {.pad = {1, 1}, .multiplier = 2, .name = "dw"});
    auto ddw = PF::depthwise_deconvolution(dw, {3, 3}, {.multiplier = 4, .with_bias = false, .name = "ddw"});
    auto a = PF::affine(d, 10, {.w_init = uniform_init(-1, 1), .with_bias = false, .name = "fc"});
    auto a2 = PF::affine(ddw, shape_t{3, 2}, {.base_axis = 2, .name = "fc2"});
    auto q = PF::fixed_point_quantized_affine(
        a, 6, {.n_w = 4, .delta_w = 0.125, .quantize_b = false, .name = "qa"});
    auto q2 = PF::fixed_point_quantized_affine(a, shape_t{2, 3}, {.sign_w = false, .name = "qa2"});
    auto qc = PF::fixed_point_quantized_convolution(x, 4, {3, 3},
                                                    {.pad = {1, 1}, .group = 2, .n_b = 6, .name = "qc"});
    auto qd = PF::fixed_point_quantized_deconvolution(qc, 4, {2, 2},
                                                      {.stride = {2, 2}, .quantize_w = false, .name = "qd"});
    g.output(F::sink({q, q2, a2, qd}));
}

constexpr void pf_keywords(builder& g) {
    auto x = g.input("x", {2, 8, 12, 12});
    auto h = PF::convolution(x, 16, {3, 3}, name = "conv1", fix_parameters = true,
                             b_init = constant_init(0.5), w_init = normal_init(0, 0.02), group = 4,
                             dilation = {1, 2}, stride = {2, 1}, pad = {1, 1});
    h = PF::batch_normalization(h, name = "bn1", mean_init = constant_init(0.25), no_scale = true,
                                batch_stat = false, eps = 1e-3, decay_rate = 0.5, axes = {1});
    h = PF::fused_batch_normalization(h, none, name = "fbn", fix_parameters = true, eps = 1e-4);
    auto d = PF::deconvolution(h, 8, {2, 2}, name = "up", with_bias = false, output_padding = {1, 0},
                               group = 2, stride = {2, 2});
    auto dw = PF::depthwise_convolution(x, {3, 3}, name = "dw", multiplier = 2, pad = {1, 1});
    auto ddw = PF::depthwise_deconvolution(dw, {3, 3}, name = "ddw", with_bias = false, multiplier = 4);
    auto a = PF::affine(d, 10, name = "fc", with_bias = false, w_init = uniform_init(-1, 1));
    auto a2 = PF::affine(ddw, shape_t{3, 2}, name = "fc2", base_axis = 2);
    auto q =
        PF::fixed_point_quantized_affine(a, 6, name = "qa", delta_w = 0.125, n_w = 4, quantize_b = false);
    auto q2 = PF::fixed_point_quantized_affine(a, shape_t{2, 3}, name = "qa2", sign_w = false);
    auto qc =
        PF::fixed_point_quantized_convolution(x, 4, {3, 3}, name = "qc", n_b = 6, group = 2, pad = {1, 1});
    auto qd = PF::fixed_point_quantized_deconvolution(qc, 4, {2, 2}, name = "qd", quantize_w = false,
                                                      stride = {2, 2});
    g.output(F::sink({q, q2, a2, qd}));
}

constexpr void pf_keywords_permuted(builder& g) {
    auto x = g.input("x", {2, 8, 12, 12});
    auto h = PF::convolution(x, 16, {3, 3}, group = 4, pad = {1, 1}, w_init = normal_init(0, 0.02),
                             name = "conv1", stride = {2, 1}, fix_parameters = true, dilation = {1, 2},
                             b_init = constant_init(0.5));
    h = PF::batch_normalization(h, axes = {1}, no_scale = true, name = "bn1", eps = 1e-3,
                                mean_init = constant_init(0.25), decay_rate = 0.5, batch_stat = false);
    h = PF::fused_batch_normalization(h, none, eps = 1e-4, name = "fbn", fix_parameters = true);
    auto d = PF::deconvolution(h, 8, {2, 2}, stride = {2, 2}, output_padding = {1, 0}, name = "up", group = 2,
                               with_bias = false);
    auto dw = PF::depthwise_convolution(x, {3, 3}, pad = {1, 1}, name = "dw", multiplier = 2);
    auto ddw = PF::depthwise_deconvolution(dw, {3, 3}, multiplier = 4, name = "ddw", with_bias = false);
    auto a = PF::affine(d, 10, w_init = uniform_init(-1, 1), with_bias = false, name = "fc");
    auto a2 = PF::affine(ddw, shape_t{3, 2}, base_axis = 2, name = "fc2");
    auto q =
        PF::fixed_point_quantized_affine(a, 6, n_w = 4, quantize_b = false, name = "qa", delta_w = 0.125);
    auto q2 = PF::fixed_point_quantized_affine(a, shape_t{2, 3}, sign_w = false, name = "qa2");
    auto qc =
        PF::fixed_point_quantized_convolution(x, 4, {3, 3}, pad = {1, 1}, group = 2, name = "qc", n_b = 6);
    auto qd = PF::fixed_point_quantized_deconvolution(qc, 4, {2, 2}, stride = {2, 2}, name = "qd",
                                                      quantize_w = false);
    g.output(F::sink({q, q2, a2, qd}));
}

// ---- parametric classes ------------------------------------------------------------------------------

constexpr void classes_designated(builder& g) {
    auto x = g.input("x", {2, 4, 10, 10});
    Conv2d c(4, 8, {3, 3}, {.name = "c", .pad = {1, 1}, .group = 2, .fix_parameters = true, .rng = 313u});
    Deconv2d d(8, 4, {2, 2}, {.name = "d", .stride = {2, 2}, .with_bias = false, .output_padding = {1, 1}});
    BatchNorm2d bn(8, {.name = "bn", .eps = 1e-3, .batch_stat = false});
    BatchNormalization bn3(4, 3, {.name = "bn3", .axes = {2}, .decay_rate = 0.5});
    Affine fc(4 * 21 * 21, 5, {.name = "fc", .w_init = constant_init(0.1), .with_bias = false});
    Affine fc2(4 * 21 * 21, shape_t{2, 3}, {.name = "fc2", .rng = 7u});
    Embed e(10, 3, {.name = "e", .fix_parameters = true});
    auto h = d(bn(c(x)));
    g.output(fc(h));
    g.output(fc2(h));
    g.output(bn3(g.input("y", {2, 3, 4})));
    g.output(e(g.input("i", {5}, layout::none, dtype::i32)));
}

constexpr void classes_keywords(builder& g) {
    auto x = g.input("x", {2, 4, 10, 10});
    Conv2d c(4, 8, {3, 3}, kw::rng = 313u, fix_parameters = true, group = 2, pad = {1, 1}, name = "c");
    Deconv2d d(8, 4, {2, 2}, output_padding = {1, 1}, with_bias = false, stride = {2, 2}, name = "d");
    BatchNorm2d bn(8, batch_stat = false, eps = 1e-3, name = "bn");
    BatchNormalization bn3(4, 3, decay_rate = 0.5, axes = {2}, name = "bn3");
    Affine fc(4 * 21 * 21, 5, with_bias = false, w_init = constant_init(0.1), name = "fc");
    Affine fc2(4 * 21 * 21, shape_t{2, 3}, kw::rng = 7u, name = "fc2");
    Embed e(10, 3, fix_parameters = true, name = "e");
    auto h = d(bn(c(x)));
    g.output(fc(h));
    g.output(fc2(h));
    g.output(bn3(g.input("y", {2, 3, 4})));
    g.output(e(g.input("i", {5}, layout::none, dtype::i32)));
}

constexpr void classes_keywords_permuted(builder& g) {
    auto x = g.input("x", {2, 4, 10, 10});
    Conv2d c(4, 8, {3, 3}, name = "c", pad = {1, 1}, kw::rng = 313u, group = 2, fix_parameters = true);
    Deconv2d d(8, 4, {2, 2}, name = "d", stride = {2, 2}, output_padding = {1, 1}, with_bias = false);
    BatchNorm2d bn(8, name = "bn", batch_stat = false, eps = 1e-3);
    BatchNormalization bn3(4, 3, name = "bn3", axes = {2}, decay_rate = 0.5);
    Affine fc(4 * 21 * 21, 5, name = "fc", w_init = constant_init(0.1), with_bias = false);
    Affine fc2(4 * 21 * 21, shape_t{2, 3}, name = "fc2", kw::rng = 7u);
    Embed e(10, 3, name = "e", fix_parameters = true);
    auto h = d(bn(c(x)));
    g.output(fc(h));
    g.output(fc2(h));
    g.output(bn3(g.input("y", {2, 3, 4})));
    g.output(e(g.input("i", {5}, layout::none, dtype::i32)));
}

// Every member of `S` has a keyword object in kata::kw.
template <class S>
constexpr bool every_member_has_a_keyword() {
    bool ok = true;
    boost::hana::for_each(boost::hana::accessors<S>(), [&](auto p) {
        bool found = false;
        for (std::string_view k : keyword_names) found = found || k == arg_name(p);
        ok = ok && found;
    });
    return ok;
}

}  // namespace

TEST_CASE("keywords: F:: functions, keywords in any order == designated initializers") {
    using D = network<f_designated>;
    static_assert(D::graph.num_functions() == 17);
    static_assert(same_graph<D, network<f_keywords>>());
    static_assert(same_graph<D, network<f_keywords_permuted>>());
    CHECK(same_graph<D, network<f_keywords>>());
}

TEST_CASE("keywords: PF:: functions, keywords in any order == designated initializers") {
    using D = network<pf_designated>;
    static_assert(same_graph<D, network<pf_keywords>>());
    static_assert(same_graph<D, network<pf_keywords_permuted>>());
    // The non-default initializers and flags reached the parameters.
    constexpr int w = D::graph.find(op_kind::parameter, "conv1/conv/W");
    static_assert(w >= 0 && D::graph.nodes[w].init == normal_init(0, 0.02) && !D::graph.nodes[w].need_grad);
    static_assert(D::graph.find(op_kind::parameter, "bn1/bn/gamma") < 0);  // no_scale
    CHECK(same_graph<D, network<pf_keywords_permuted>>());
}

TEST_CASE("keywords: parametric classes, keywords in any order == designated initializers") {
    using D = network<classes_designated>;
    static_assert(same_graph<D, network<classes_keywords>>());
    static_assert(same_graph<D, network<classes_keywords_permuted>>());
    constexpr int w = D::graph.find(op_kind::parameter, "c/W");
    static_assert(w >= 0 && D::graph.nodes[w].init.has_seed && D::graph.nodes[w].init.seed == 313);
    CHECK(same_graph<D, network<classes_keywords>>());
}

TEST_CASE("keywords: make_args sets exactly the named members") {
    // Untouched members keep nnabla's defaults.
    constexpr pf_convolution_args a = make_args<pf_convolution_args>(group = 4, pad = {2, 2});
    static_assert(args_equal(a, pf_convolution_args{.pad = {2, 2}, .group = 4}));
    static_assert(a.stride.n == 0 && a.with_bias && a.base_axis == 1 && a.name.empty());
    // A list on the batch-norm axes array sets naxes too.
    constexpr batch_normalization_args b = make_args<batch_normalization_args>(axes = {0, 2}, eps = 1e-3);
    static_assert(b.naxes == 2 && b.axes[0] == 0 && b.axes[1] == 2 && b.axes[2] == 0 && b.eps == 1e-3);
    static_assert(args_equal(make_args<batch_normalization_args>(), batch_normalization_args{}));
    // An over-long list is kept as such, so the op's length check reports it (as with {.pad = {1, 1, 1, 1}}).
    constexpr dims p = make_args<pooling_args>(pad = {1, 1, 1, 1}).pad;
    static_assert(p == dims{1, 1, 1, 1} && p.n == 4);
    // kata::dims values and std::string_view names are accepted as they are.
    static_assert(make_args<pooling_args>(stride = dims{3}).stride == dims{3});
    static_assert(make_args<pf_affine_args>(name = std::string_view("fc")).name == "fc");
    // Any member name through kata::keyword<"..."> (structs of one's own).
    static_assert(make_args<affine_args>(keyword<"base_axis">{} = 3).base_axis == 3);
    CHECK(a.group == 4);
}

TEST_CASE("keywords: every member of every keyword-taking struct has its keyword object") {
    static_assert(every_member_has_a_keyword<convolution_args>());
    static_assert(every_member_has_a_keyword<depthwise_convolution_args>());
    static_assert(every_member_has_a_keyword<deconvolution_args>());
    static_assert(every_member_has_a_keyword<depthwise_deconvolution_args>());
    static_assert(every_member_has_a_keyword<affine_args>());
    static_assert(every_member_has_a_keyword<batch_normalization_args>());
    static_assert(every_member_has_a_keyword<pooling_args>());
    static_assert(every_member_has_a_keyword<fixed_point_quantize_args>());
    static_assert(every_member_has_a_keyword<pf_convolution_args>());
    static_assert(every_member_has_a_keyword<pf_deconvolution_args>());
    static_assert(every_member_has_a_keyword<pf_depthwise_convolution_args>());
    static_assert(every_member_has_a_keyword<pf_affine_args>());
    static_assert(every_member_has_a_keyword<pf_batch_normalization_args>());
    static_assert(every_member_has_a_keyword<pf_fixed_point_quantized_affine_args>());
    static_assert(every_member_has_a_keyword<pf_fixed_point_quantized_convolution_args>());
    static_assert(every_member_has_a_keyword<pf_fixed_point_quantized_deconvolution_args>());
    static_assert(every_member_has_a_keyword<convolution_options>());
    static_assert(every_member_has_a_keyword<deconvolution_options>());
    static_assert(every_member_has_a_keyword<affine_options>());
    static_assert(every_member_has_a_keyword<batch_norm_options>());
    static_assert(every_member_has_a_keyword<embed_options>());
    CHECK(std::size(keyword_names) > 0);
}
