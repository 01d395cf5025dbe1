// Parametric functions (issue 3, point 1): nnabla names, scopes, parameter shapes, need_grad flags and
// initializers of PF::convolution / deconvolution / depthwise_* / affine / embed / batch_normalization /
// fused_batch_normalization, and the fixed-point quantized layers (affine, convolution and kata's
// deconvolution twin) checked against closed forms computed here.
//
// Statistics of the Glorot initializer: W ~ U(-l, l), l = sqrt(6 / (K (N + M))) (docs/nnabla-semantics.md
// §0.4). For n i.i.d. draws the sample variance s^2 has mean l^2/3 and standard deviation
// sqrt((E[X^4] - E[X^2]^2) / n) = sqrt((l^4/5 - l^4/9) / n) = l^2 sqrt(4 / (45 n)) (to first order);
// we require |s^2 - l^2/3| <= 6 of those (a false failure has probability < 1e-8, and the draws are
// seeded, so the outcome is deterministic anyway), |mean| <= 6 l / sqrt(3 n), every |w| <= l, and
// max |w| >= 0.99 l (P(fail) = 0.99^n, negligible for n >= 9216).
#include <doctest/doctest.h>

#include <kata/cpu.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <xtensor/xarray.hpp>

#include "../support/fixtures.hpp"

using namespace kata;

namespace {

struct param_info {
    std::string name;
    std::vector<std::int64_t> shape;
    bool need_grad;
};

// Parameters of a graph type in creation order.
template <class Net>
std::vector<param_info> params_of() {
    std::vector<param_info> r;
    for (const auto& n : Net::graph.nodes) {
        if (n.op != op_kind::parameter) continue;
        param_info p{std::string(n.name.view()), {}, n.need_grad};
        for (int i = 0; i < n.shape.rank; ++i) p.shape.push_back(n.shape.dims[i]);
        r.push_back(p);
    }
    return r;
}

void check_params(const std::vector<param_info>& got, const std::vector<param_info>& want) {
    REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        INFO("parameter #" << i << " " << want[i].name);
        CHECK(got[i].name == want[i].name);
        CHECK(got[i].shape == want[i].shape);
        CHECK(got[i].need_grad == want[i].need_grad);
    }
}

std::vector<std::size_t> ushape(std::initializer_list<std::size_t> l) { return l; }

// nnabla's FixedPointQuantize forward (docs/nnabla-semantics.md §3.5), computed independently of the kernel.
float fpq(float x, bool sign, int n, double delta) {
    const int nb = sign ? n - 1 : n;
    const double vmax = (std::pow(2.0, nb) - 1.0) * delta;
    const double vmin = sign ? -vmax : 0.0;
    if (x > vmax) return float(vmax);
    if (x < vmin) return float(vmin);
    const double q = std::floor(std::fabs(double(x)) / delta + 0.5) * delta;
    return float(x < 0 ? -q : q);
}
xt::xarray<float> fpq(const xt::xarray<float>& a, bool sign, int n, double delta) {
    xt::xarray<float> r = a;
    for (auto& v : r) v = fpq(v, sign, n, delta);
    return r;
}

// Deterministic test values in [-2, 2): a fixed LCG, no dependence on kata's generator.
xt::xarray<float> ramp(std::vector<std::size_t> shape, std::uint32_t seed) {
    xt::xarray<float> a(shape);
    std::uint32_t s = seed;
    for (auto& v : a) {
        s = s * 1664525u + 1013904223u;
        v = float(double(s >> 8) / double(1u << 24) * 4.0 - 2.0);
    }
    return a;
}

void check_glorot(const parameter& p, double lim) {
    const double n = double(p.data.size());
    double sum = 0, sum2 = 0, maxabs = 0;
    for (float v : p.data) {
        CHECK(std::fabs(v) <= float(lim));
        sum += v;
        maxabs = std::max(maxabs, double(std::fabs(v)));
    }
    const double mean = sum / n;
    for (float v : p.data) sum2 += (v - mean) * (v - mean);
    const double var = sum2 / (n - 1);
    const double sd_var = lim * lim * std::sqrt(4.0 / (45.0 * n));
    INFO("n " << n << " lim " << lim << " mean " << mean << " var " << var << " expected " << lim * lim / 3);
    CHECK(std::fabs(mean) <= 6 * lim / std::sqrt(3 * n));
    CHECK(std::fabs(var - lim * lim / 3) <= 6 * sd_var);
    CHECK(maxabs >= 0.99 * lim);
}

void check_constant(const parameter& p, float v, bool need_grad) {
    for (float x : p.data) CHECK(x == v);
    CHECK(p.need_grad == need_grad);
}

// ---- networks -----------------------------------------------------------------------------------

constexpr var conv_default(builder& g) {
    auto x = g.input("x", {2, 4, 9, 9});
    return PF::convolution(x, 6, {3, 5}, {.group = 2});
}
constexpr var conv_channel_last(builder& g) {
    auto x = g.input("x", {2, 9, 9, 4}, layout::channel_last);
    return PF::convolution(x, 6, {3, 5}, {.group = 2, .channel_last = true, .name = "convcl"});
}
constexpr var deconv_default(builder& g) {
    auto x = g.input("x", {2, 4, 5, 5});
    return PF::deconvolution(x, 6, {3, 5}, {.group = 2, .with_bias = true});
}
constexpr var deconv_channel_last(builder& g) {
    auto x = g.input("x", {2, 5, 5, 4}, layout::channel_last);
    return PF::deconvolution(x, 6, {3, 5}, {.group = 2, .channel_last = true, .fix_parameters = true});
}
constexpr var depthwise_both(builder& g) {
    auto x = g.input("x", {2, 3, 8, 8});
    auto h = PF::depthwise_convolution(x, {3, 3}, {.pad = {1, 1}, .multiplier = 2});
    return PF::depthwise_deconvolution(h, {3, 3}, {.pad = {1, 1}, .multiplier = 3, .with_bias = false});
}
constexpr var affine_nets(builder& g) {
    auto x = g.input("x", {2, 3, 4, 4});
    auto a = PF::affine(x, 10);
    auto b = PF::affine(x, shape_t{2, 5}, {.with_bias = false, .name = "fc2"});
    g.output(b);
    return a;
}
constexpr var embed_net(builder& g) {
    auto x = g.input("idx", {4, 7}, layout::none, dtype::i32);
    return PF::embed(x, 100, 16);
}
constexpr var bn_nets(builder& g) {
    auto x = g.input("x", {2, 5, 3, 3});
    auto y = PF::batch_normalization(x, {.batch_stat = false});
    auto z =
        PF::fused_batch_normalization(y, none, {.batch_stat = false, .fix_parameters = true, .name = "fbn"});
    auto h = g.input("h", {4, 7});
    g.output(PF::batch_normalization(h, {.batch_stat = false, .name = "bn1d"}));
    return z;
}
constexpr var nested_scopes(builder& g) {
    auto x = g.input("x", {1, 3, 8, 8});
    var h = none;
    {
        auto s1 = g.scope("cb1");
        h = PF::convolution(x, 4, {3, 3}, {.pad = {1, 1}});
        h = PF::batch_normalization(h, {.batch_stat = false});
        {
            auto s2 = g.scope("inner");
            h = PF::convolution(h, 4, {1, 1}, {.with_bias = false, .name = "pw"});
        }
    }
    return PF::affine(h, 3);
}

}  // namespace

TEST_CASE("PF::convolution: nnabla scope, shapes (channel-first and channel-last), flags") {
    check_params(params_of<network<conv_default>>(), {{"conv/W", {6, 2, 3, 5}, true}, {"conv/b", {6}, true}});
    check_params(params_of<network<conv_channel_last>>(),
                 {{"convcl/conv/W", {6, 3, 5, 2}, true}, {"convcl/conv/b", {6}, true}});
}

TEST_CASE("PF::deconvolution: W (inmaps, outmaps/group, k..), channel-last (inmaps, k.., outmaps/group)") {
    check_params(params_of<network<deconv_default>>(),
                 {{"deconv/W", {4, 3, 3, 5}, true}, {"deconv/b", {6}, true}});
    check_params(params_of<network<deconv_channel_last>>(),
                 {{"deconv/W", {4, 3, 5, 3}, false}, {"deconv/b", {6}, false}});
}

TEST_CASE("PF::depthwise_convolution / depthwise_deconvolution: scopes and shapes") {
    check_params(params_of<network<depthwise_both>>(), {{"depthwise_conv/W", {6, 3, 3}, true},
                                                        {"depthwise_conv/b", {6}, true},
                                                        {"depthwise_deconv/W", {6, 3, 3}, true}});
    static_assert(network<depthwise_both>::graph.nodes[network<depthwise_both>::graph.outputs[0]].shape ==
                  shape_t{2, 2, 8, 8});
}

TEST_CASE("PF::affine: W (prod(x.shape[base_axis:]), *n_outmaps), multi-dim output kept") {
    using Net = network<affine_nets>;
    check_params(
        params_of<Net>(),
        {{"affine/W", {48, 10}, true}, {"affine/b", {10}, true}, {"fc2/affine/W", {48, 2, 5}, true}});
    static_assert(Net::graph.nodes[Net::graph.outputs[0]].shape ==
                  shape_t{2, 2, 5});  // g.output(b) came first
}

TEST_CASE("PF::embed: W (n_inputs, n_features) ~ U(-sqrt 3, sqrt 3)") {
    using Net = network<embed_net>;
    check_params(params_of<Net>(), {{"embed/W", {100, 16}, true}});
    parameter_store store(7);
    create_parameters<Net>(store);
    const parameter& w = store.at("embed/W");
    float lo = 10, hi = -10;
    for (float v : w.data) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
        CHECK(std::fabs(v) <= float(std::sqrt(3.0)));
    }
    CHECK(lo < -1.6f);
    CHECK(hi > 1.6f);
}

TEST_CASE("PF::batch_normalization / fused: shapes, constant inits, need_grad, fix_parameters") {
    using Net = network<bn_nets>;
    check_params(params_of<Net>(), {{"bn/beta", {1, 5, 1, 1}, true},
                                    {"bn/gamma", {1, 5, 1, 1}, true},
                                    {"bn/mean", {1, 5, 1, 1}, false},
                                    {"bn/var", {1, 5, 1, 1}, false},
                                    {"fbn/bn/beta", {1, 5, 1, 1}, false},
                                    {"fbn/bn/gamma", {1, 5, 1, 1}, false},
                                    {"fbn/bn/mean", {1, 5, 1, 1}, false},
                                    {"fbn/bn/var", {1, 5, 1, 1}, false},
                                    {"bn1d/bn/beta", {1, 7}, true},
                                    {"bn1d/bn/gamma", {1, 7}, true},
                                    {"bn1d/bn/mean", {1, 7}, false},
                                    {"bn1d/bn/var", {1, 7}, false}});
    parameter_store store;
    create_parameters<Net>(store);
    for (std::string s : {"bn", "bn1d/bn"}) {
        check_constant(store.at(s + "/beta"), 0.0f, true);
        check_constant(store.at(s + "/gamma"), 1.0f, true);
        check_constant(store.at(s + "/mean"), 0.0f, false);
        check_constant(store.at(s + "/var"), 1.0f, false);
    }
    check_constant(store.at("fbn/bn/beta"), 0.0f, false);
    check_constant(store.at("fbn/bn/gamma"), 1.0f, false);
    // get_parameters(grad_only=true) lists only the trainable ones.
    std::vector<std::string> trainable;
    for (const auto& [k, p] : store.get_parameters(true)) trainable.push_back(k);
    CHECK(trainable == std::vector<std::string>{"bn/beta", "bn/gamma", "bn1d/bn/beta", "bn1d/bn/gamma"});
}

TEST_CASE("PF scopes nest the nnabla way (g.scope(\"cb1\") -> cb1/conv/W)") {
    check_params(params_of<network<nested_scopes>>(), {{"cb1/conv/W", {4, 3, 3, 3}, true},
                                                       {"cb1/conv/b", {4}, true},
                                                       {"cb1/bn/beta", {1, 4, 1, 1}, true},
                                                       {"cb1/bn/gamma", {1, 4, 1, 1}, true},
                                                       {"cb1/bn/mean", {1, 4, 1, 1}, false},
                                                       {"cb1/bn/var", {1, 4, 1, 1}, false},
                                                       {"cb1/inner/pw/conv/W", {4, 4, 1, 1}, true},
                                                       {"affine/W", {256, 3}, true},
                                                       {"affine/b", {3}, true}});
    // Function nodes carry the scope they were created in.
    std::vector<std::string> conv_scopes;
    for (const auto& n : network<nested_scopes>::graph.nodes)
        if (n.op == op_kind::convolution) conv_scopes.emplace_back(n.name.view());
    CHECK(conv_scopes == std::vector<std::string>{"cb1/conv", "cb1/inner/pw/conv"});
}

// ---- Glorot statistics --------------------------------------------------------------------------

namespace {
constexpr var big_conv(builder& g) {
    return PF::convolution(g.input("x", {1, 64, 5, 5}), 64, {3, 3}, {.group = 4});
}
constexpr var big_affine(builder& g) { return PF::affine(g.input("x", {1, 512}), 256); }
constexpr var big_deconv(builder& g) {
    return PF::deconvolution(g.input("x", {1, 128, 4, 4}), 64, {3, 3}, {.group = 2});
}
constexpr var big_depthwise(builder& g) {
    return PF::depthwise_convolution(g.input("x", {1, 256, 8, 8}), {5, 5}, {.multiplier = 2});
}
constexpr var big_depthwise_deconv(builder& g) {
    return PF::depthwise_deconvolution(g.input("x", {1, 512, 8, 8}), {5, 5}, {.multiplier = 2});
}
}  // namespace

TEST_CASE("Glorot uniform: bounds and variance lim^2/3, lim = sqrt(6 / (K (N + M)))") {
    parameter_store store(1234);
    SUBCASE("convolution (grouped: N is the full inmaps, as nnabla)") {
        create_parameters<network<big_conv>>(store);
        check_glorot(store.at("conv/W"), std::sqrt(6.0 / (9 * (64 + 64))));
        check_constant(store.at("conv/b"), 0.0f, true);
        CHECK(store.at("conv/W").data.size() == 64u * 16 * 9);
    }
    SUBCASE("affine") {
        create_parameters<network<big_affine>>(store);
        check_glorot(store.at("affine/W"), std::sqrt(6.0 / (512 + 256)));
        check_constant(store.at("affine/b"), 0.0f, true);
    }
    SUBCASE("deconvolution") {
        create_parameters<network<big_deconv>>(store);
        check_glorot(store.at("deconv/W"), std::sqrt(6.0 / (9 * (128 + 64))));
        check_constant(store.at("deconv/b"), 0.0f, true);
    }
    SUBCASE("depthwise convolution: N = C, M = C * multiplier") {
        create_parameters<network<big_depthwise>>(store);
        check_glorot(store.at("depthwise_conv/W"), std::sqrt(6.0 / (25 * (256 + 512))));
    }
    SUBCASE("depthwise deconvolution: N = C, M = C / divisor") {
        create_parameters<network<big_depthwise_deconv>>(store);
        check_glorot(store.at("depthwise_deconv/W"), std::sqrt(6.0 / (25 * (512 + 256))));
    }
}

TEST_CASE("Initial values are seeded: parameter_store(seed) draws numpy RandomState(seed)'s sequence") {
    using Net = network<big_conv>;
    parameter_store a(42), b(42), c(43);
    create_parameters<Net>(a);
    create_parameters<Net>(b);
    create_parameters<Net>(c);
    kata::test::check_equal(a.at("conv/W").data, b.at("conv/W").data);
    CHECK(a.at("conv/W").data != c.at("conv/W").data);
    // The first draws are RandomState(42).uniform(-l, l) in row-major order, rounded to float32.
    const double lim = std::sqrt(6.0 / (9 * (64 + 64)));
    kata::rng r(42);
    for (std::size_t i = 0; i < 16; ++i) CHECK(a.at("conv/W").data.data()[i] == float(r.uniform(-lim, lim)));
}

// ---- fixed-point quantized layers ---------------------------------------------------------------

namespace {
constexpr var fpq_affine(builder& g) {
    auto x = g.input("x", {2, 3, 2});
    return PF::fixed_point_quantized_affine(x, 4, {.n_w = 4, .delta_w = 0.25, .n_b = 6, .delta_b = 0.125});
}
constexpr var fpq_affine_noquant_w(builder& g) {
    auto x = g.input("x", {2, 6});
    return PF::fixed_point_quantized_affine(x, 3,
                                            {.fix_parameters = true, .quantize_w = false, .name = "fq"});
}
constexpr var fpq_conv(builder& g) {
    auto x = g.input("x", {1, 4, 5, 6});
    return PF::fixed_point_quantized_convolution(
        x, 2, {3, 3},
        {.pad = {1, 0}, .stride = {1, 2}, .group = 2, .sign_w = true, .n_w = 5, .delta_w = 0.125});
}
constexpr var fpq_deconv(builder& g) {
    auto x = g.input("x", {2, 4, 3, 3});
    return PF::fixed_point_quantized_deconvolution(
        x, 6, {2, 3},
        {.pad = {0, 1}, .stride = {2, 1}, .group = 2, .with_bias = false, .n_w = 3, .delta_w = 0.5});
}
// The same deconvolution reading an already-quantized weight directly.
constexpr var plain_deconv(builder& g) {
    auto x = g.input("x", {2, 4, 3, 3});
    return F::deconvolution(x, g.parameter("Wq", {4, 3, 2, 3}), none,
                            {.pad = {0, 1}, .stride = {2, 1}, .group = 2});
}
}  // namespace

TEST_CASE("PF::fixed_point_quantized_*: names, order, shapes, need_grad (W, W_q, b, b_q)") {
    check_params(params_of<network<fpq_affine>>(), {{"fp_quantized_affine/W", {6, 4}, true},
                                                    {"fp_quantized_affine/W_q", {6, 4}, false},
                                                    {"fp_quantized_affine/b", {4}, true},
                                                    {"fp_quantized_affine/b_q", {4}, false}});
    check_params(params_of<network<fpq_affine_noquant_w>>(), {{"fq/fp_quantized_affine/W", {6, 3}, false},
                                                              {"fq/fp_quantized_affine/b", {3}, false},
                                                              {"fq/fp_quantized_affine/b_q", {3}, false}});
    check_params(params_of<network<fpq_conv>>(), {{"fp_quantized_conv/W", {2, 2, 3, 3}, true},
                                                  {"fp_quantized_conv/W_q", {2, 2, 3, 3}, false},
                                                  {"fp_quantized_conv/b", {2}, true},
                                                  {"fp_quantized_conv/b_q", {2}, false}});
    check_params(params_of<network<fpq_deconv>>(), {{"fp_quantized_deconv/W", {4, 3, 2, 3}, true},
                                                    {"fp_quantized_deconv/W_q", {4, 3, 2, 3}, false}});
    // The graph: FixedPointQuantize(W), FixedPointQuantize(b), then the inner product.
    using G = network<fpq_affine>;
    CHECK(G::graph.count(op_kind::fixed_point_quantize) == 2);
    CHECK(G::graph.count(op_kind::affine) == 1);
    CHECK(network<fpq_affine_noquant_w>::graph.count(op_kind::fixed_point_quantize) == 1);
    // Default Glorot limits (conv: full inmaps 4, outmaps 2, K 9).
    parameter_store store(5);
    create_parameters<network<fpq_conv>>(store);
    check_constant(store.at("fp_quantized_conv/b"), 0.0f, true);
    for (float v : store.at("fp_quantized_conv/W").data)
        CHECK(std::fabs(v) <= float(std::sqrt(6.0 / (9 * 6))));
}

TEST_CASE("PF::fixed_point_quantized_affine = x . Q(W) + Q(b) (closed form)") {
    using Net = network<fpq_affine>;
    parameter_store store;
    create_parameters<Net>(store);
    const xt::xarray<float> W = ramp({6, 4}, 1), b = ramp({4}, 2) * 3.0f;  // some beyond the ranges
    kata::test::set_param(store, "fp_quantized_affine/W", W);
    kata::test::set_param(store, "fp_quantized_affine/b", b);
    // The executor never reads W_q/b_q: poison them.
    store.find("fp_quantized_affine/W_q")->data.fill(std::numeric_limits<float>::quiet_NaN());
    store.find("fp_quantized_affine/b_q")->data.fill(std::numeric_limits<float>::quiet_NaN());
    const xt::xarray<float> x = ramp({2, 3, 2}, 3);
    cpu::executor<Net> run(store);
    const xt::xarray<float> y = run(x);
    const xt::xarray<float> Wq = fpq(W, true, 4, 0.25), bq = fpq(b, true, 6, 0.125);
    CHECK(xt::amax(xt::abs(Wq))() == doctest::Approx(1.75));  // clipping reached: (2^3 - 1) * 0.25
    xt::xarray<float> want = xt::zeros<float>(std::vector<std::size_t>{2, 4});
    for (std::size_t n = 0; n < 2; ++n)
        for (std::size_t o = 0; o < 4; ++o) {
            double acc = bq(o);
            for (std::size_t i = 0; i < 6; ++i) acc += double(x.data()[n * 6 + i]) * Wq(i, o);
            want(n, o) = float(acc);
        }
    kata::test::check_close(y, want, 1e-5, 1e-5);

    // sync_quantized_parameters writes W_q = Q(W), b_q = Q(b) (what nnabla holds after a forward).
    sync_quantized_parameters<Net>(store);
    kata::test::check_equal(store.at("fp_quantized_affine/W_q").data, Wq);
    kata::test::check_equal(store.at("fp_quantized_affine/b_q").data, bq);
}

TEST_CASE("PF::fixed_point_quantized_affine with quantize_w = false uses W as is") {
    using Net = network<fpq_affine_noquant_w>;
    parameter_store store;
    create_parameters<Net>(store);
    const xt::xarray<float> W = ramp({6, 3}, 4), b = ramp({3}, 5);
    kata::test::set_param(store, "fq/fp_quantized_affine/W", W);
    kata::test::set_param(store, "fq/fp_quantized_affine/b", b);
    const xt::xarray<float> x = ramp({2, 6}, 6);
    cpu::executor<Net> run(store);
    const xt::xarray<float> y = run(x);
    const xt::xarray<float> bq = fpq(b, true, 8, 0.0625);
    xt::xarray<float> want = xt::zeros<float>(std::vector<std::size_t>{2, 3});
    for (std::size_t n = 0; n < 2; ++n)
        for (std::size_t o = 0; o < 3; ++o) {
            double acc = bq(o);
            for (std::size_t i = 0; i < 6; ++i) acc += double(x(n, i)) * W(i, o);
            want(n, o) = float(acc);
        }
    kata::test::check_close(y, want, 1e-5, 1e-5);
}

TEST_CASE("PF::fixed_point_quantized_convolution = grouped convolution with Q(W), Q(b) (closed form)") {
    using Net = network<fpq_conv>;
    parameter_store store;
    create_parameters<Net>(store);
    const xt::xarray<float> W = ramp({2, 2, 3, 3}, 7), b = ramp({2}, 8);
    kata::test::set_param(store, "fp_quantized_conv/W", W);
    kata::test::set_param(store, "fp_quantized_conv/b", b);
    const xt::xarray<float> x = ramp({1, 4, 5, 6}, 9);
    cpu::executor<Net> run(store);
    const xt::xarray<float> y = run(x);
    const xt::xarray<float> Wq = fpq(W, true, 5, 0.125), bq = fpq(b, true, 8, 0.0625);
    // pad (1, 0), stride (1, 2): Ho = 5 + 2 - 3 + 1 = 5, Wo = (6 - 3) / 2 + 1 = 2; group 2.
    xt::xarray<float> want = xt::zeros<float>(std::vector<std::size_t>{1, 2, 5, 2});
    for (int o = 0; o < 2; ++o)
        for (int i = 0; i < 5; ++i)
            for (int j = 0; j < 2; ++j) {
                double acc = bq(o);
                for (int c = 0; c < 2; ++c)
                    for (int ki = 0; ki < 3; ++ki)
                        for (int kj = 0; kj < 3; ++kj) {
                            const int yi = i + ki - 1, xj = j * 2 + kj;
                            if (yi < 0 || yi >= 5) continue;
                            acc += double(Wq(o, c, ki, kj)) * x(0, o * 2 + c, yi, xj);  // group g = o
                        }
                want(0, o, i, j) = float(acc);
            }
    kata::test::check_close(y, want, 1e-5, 1e-5);
}

TEST_CASE("PF::fixed_point_quantized_deconvolution = F::deconvolution with Q(W)") {
    using Net = network<fpq_deconv>;
    using Ref = network<plain_deconv>;
    parameter_store store, ref;
    create_parameters<Net>(store);
    const xt::xarray<float> W = ramp({4, 3, 2, 3}, 10);
    kata::test::set_param(store, "fp_quantized_deconv/W", W);
    kata::test::set_param(ref, "Wq", fpq(W, true, 3, 0.5));
    const xt::xarray<float> x = ramp({2, 4, 3, 3}, 11);
    cpu::executor<Net> run(store);
    cpu::executor<Ref> run_ref(ref);
    const xt::xarray<float> y = run(x);
    static_assert(Net::graph.nodes[Net::graph.outputs[0]].shape == shape_t{2, 6, 6, 3});
    kata::test::check_equal(y, run_ref(x));
}
