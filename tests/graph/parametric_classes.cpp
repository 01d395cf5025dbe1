// Parametric function classes (issue 3, point 2; nnabla experimental.parametric_function_class,
// docs/nnabla-semantics.md §7): Affine/Linear, Convolution (Conv1d/2d/3d/ConvNd), Deconvolution
// (Deconv1d/2d/3d/DeconvNd), BatchNormalization (BatchNorm1d/2d/3d), Embed: parameter names, shapes,
// need_grad, initializers, the rng seed, and one test for each upstream defect kata fixes
// (docs/nnabla-semantics.md §10.14):
//   * Deconvolution's weight layout (inmaps != outmaps, group > 1 run against F::deconvolution),
//   * BatchNorm1d/2d/3d honour eps (outputs for eps = 0.1 and 1e-5 match the formula for each),
//   * Embed can be constructed and run,
//   * root-module parameter names have no leading '/'.
#include <doctest/doctest.h>

#include <kata/cpu.hpp>

#include <cmath>
#include <cstdint>
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
    bool operator==(const param_info&) const = default;
};

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

xt::xarray<float> ramp(std::vector<std::size_t> shape, std::uint32_t seed, float lo = -2, float hi = 2) {
    xt::xarray<float> a(shape);
    std::uint32_t s = seed;
    for (auto& v : a) {
        s = s * 1664525u + 1013904223u;
        v = float(lo + double(s >> 8) / double(1u << 24) * (hi - lo));
    }
    return a;
}

template <class Net>
const node& first_of(op_kind k) {
    for (const auto& n : Net::graph.nodes)
        if (n.op == k) return n;
    throw std::logic_error("no such node");
}

// ---- networks -----------------------------------------------------------------------------------

constexpr var named_modules(builder& g) {
    Conv2d conv1(3, 8, {3, 3}, {.name = "conv1", .pad = {1, 1}});
    BatchNorm2d bn1(8, {.name = "bn1"});
    Conv2d conv2(8, 4, {1, 1}, {.name = "conv2", .group = 2, .fix_parameters = true, .with_bias = false});
    Linear fc(4 * 6 * 6, 10, {.name = "fc"});
    auto x = g.input("x", {2, 3, 6, 6});
    return fc(conv2(bn1(conv1(x), true)));
}
// An unnamed module at the root: nnabla names its parameters "/W", "/b"; kata "W", "b".
constexpr var root_module(builder& g) {
    Affine a(6, 3);
    return a(g.input("x", {2, 6}));
}
// Module names compose with builder scopes and may themselves be paths ("block/conv").
constexpr var scoped_modules(builder& g) {
    auto x = g.input("x", {1, 2, 5, 5});
    auto s = g.scope("net");
    Conv2d c1(2, 2, {1, 1}, {.name = "block/conv"});
    Conv2d c2(2, 3, {3, 3}, {.name = "conv"});
    return c2(c1(x));
}
// Calling one object twice shares its parameters (like calling a Module twice).
constexpr var shared_module(builder& g) {
    Conv2d c(3, 3, {3, 3}, {.name = "shared", .pad = {1, 1}});
    auto x = g.input("x", {1, 3, 5, 5});
    return c(c(x));
}
constexpr var affine_tuple(builder& g) {
    Affine a(12, shape_t{2, 5}, {.name = "fc"});
    return a(g.input("x", {3, 3, 4}));
}
constexpr void bn_dims(builder& g) {
    BatchNorm1d b1(4, {.name = "b1"});
    BatchNorm2d b2(4, {.name = "b2", .fix_parameters = true});
    BatchNorm3d b3(4, {.name = "b3", .param_init = {.gamma = constant_init(2), .var = constant_init(4)}});
    BatchNormalization bl(5, 2, {.name = "blast", .axes = {-1}});
    auto y1 = b1(g.input("x1", {2, 4, 3}));
    auto y2 = b2(g.input("x2", {2, 4, 3, 3}), true);
    auto y3 = b3(g.input("x3", {2, 4, 2, 2, 2}));
    g.output(y1);
    g.output(y2);
    g.output(y3);
    g.output(bl(g.input("x4", {3, 5}), true));
}

constexpr var big_grouped_conv(builder& g) {
    Conv2d c(64, 128, {3, 3}, {.name = "c", .group = 8});
    return c(g.input("x", {1, 64, 6, 6}));
}

}  // namespace

TEST_CASE("classes: nnabla Module parameter names '<module>/W', shapes and need_grad") {
    using Net = network<named_modules>;
    check_params(params_of<Net>(), {{"conv1/W", {8, 3, 3, 3}, true},
                                    {"conv1/b", {8}, true},
                                    {"bn1/beta", {1, 8, 1, 1}, true},
                                    {"bn1/gamma", {1, 8, 1, 1}, true},
                                    {"bn1/mean", {1, 8, 1, 1}, false},
                                    {"bn1/var", {1, 8, 1, 1}, false},
                                    {"conv2/W", {4, 4, 1, 1}, false},
                                    {"fc/W", {144, 10}, true},
                                    {"fc/b", {10}, true}});
    static_assert(Net::graph.nodes[Net::graph.outputs[0]].shape == shape_t{2, 10});
}

TEST_CASE("classes: a root module's parameters are 'W', 'b' (upstream: '/W', '/b')") {
    check_params(params_of<network<root_module>>(), {{"W", {6, 3}, true}, {"b", {3}, true}});
}

TEST_CASE("classes: module names nest under builder scopes, one object called twice shares parameters") {
    check_params(params_of<network<scoped_modules>>(), {{"net/block/conv/W", {2, 2, 1, 1}, true},
                                                        {"net/block/conv/b", {2}, true},
                                                        {"net/conv/W", {3, 2, 3, 3}, true},
                                                        {"net/conv/b", {3}, true}});
    using S = network<shared_module>;
    check_params(params_of<S>(), {{"shared/W", {3, 3, 3, 3}, true}, {"shared/b", {3}, true}});
    CHECK(S::graph.count(op_kind::convolution) == 2);
}

TEST_CASE("Affine: a tuple n_outmaps is flattened to its product, and so is the output (upstream)") {
    using Net = network<affine_tuple>;
    check_params(params_of<Net>(), {{"fc/W", {12, 10}, true}, {"fc/b", {10}, true}});
    static_assert(Net::graph.nodes[Net::graph.outputs[0]].shape == shape_t{3, 10});
    static_assert(Affine(12, shape_t{2, 5}).n_outmaps() == 10);
}

TEST_CASE("BatchNormalization / BatchNorm1d/2d/3d: shapes, param_init, fix_parameters, test flag") {
    using Net = network<bn_dims>;
    check_params(params_of<Net>(), {{"b1/beta", {1, 4, 1}, true},
                                    {"b1/gamma", {1, 4, 1}, true},
                                    {"b1/mean", {1, 4, 1}, false},
                                    {"b1/var", {1, 4, 1}, false},
                                    {"b2/beta", {1, 4, 1, 1}, false},
                                    {"b2/gamma", {1, 4, 1, 1}, false},
                                    {"b2/mean", {1, 4, 1, 1}, false},
                                    {"b2/var", {1, 4, 1, 1}, false},
                                    {"b3/beta", {1, 4, 1, 1, 1}, true},
                                    {"b3/gamma", {1, 4, 1, 1, 1}, true},
                                    {"b3/mean", {1, 4, 1, 1, 1}, false},
                                    {"b3/var", {1, 4, 1, 1, 1}, false},
                                    {"blast/beta", {1, 5}, true},
                                    {"blast/gamma", {1, 5}, true},
                                    {"blast/mean", {1, 5}, false},
                                    {"blast/var", {1, 5}, false}});
    parameter_store store;
    create_parameters<Net>(store);
    for (float v : store.at("b1/beta").data) CHECK(v == 0.0f);
    for (float v : store.at("b1/gamma").data) CHECK(v == 1.0f);
    for (float v : store.at("b1/mean").data) CHECK(v == 0.0f);
    for (float v : store.at("b1/var").data) CHECK(v == 1.0f);
    for (float v : store.at("b3/gamma").data) CHECK(v == 2.0f);  // param_init
    for (float v : store.at("b3/var").data) CHECK(v == 4.0f);
    for (float v : store.at("b3/beta").data) CHECK(v == 0.0f);
    // bn(x) uses the constructor's batch_stat (default true); bn(x, test=true) -> batch_stat false.
    std::vector<bool> batch_stat;
    std::vector<int> axis;
    for (const auto& n : Net::graph.nodes)
        if (n.op == op_kind::batch_normalization) {
            batch_stat.push_back(n.attr.batch_stat);
            axis.push_back(n.attr.axes[0]);
        }
    CHECK(batch_stat == std::vector<bool>{true, false, true, false});
    CHECK(axis == std::vector<int>{1, 1, 1, 1});  // axes = {-1} on 2-D -> 1
}

TEST_CASE("Convolution: W (outmaps, inmaps/group, k..), Glorot with the FULL inmaps even when grouped") {
    using Net = network<big_grouped_conv>;
    check_params(params_of<Net>(), {{"c/W", {128, 8, 3, 3}, true}, {"c/b", {128}, true}});
    parameter_store store(99);
    create_parameters<Net>(store);
    const auto& w = store.at("c/W").data;
    const double lim = std::sqrt(6.0 / (9.0 * (64 + 128)));  // not 64/8
    double s2 = 0, mx = 0;
    for (float v : w) {
        CHECK(std::fabs(v) <= float(lim));
        s2 += double(v) * v;
        mx = std::max(mx, double(std::fabs(v)));
    }
    const double n = double(w.size()), var = s2 / n;
    // Sample second moment of U(-l, l): mean l^2/3, sd l^2 sqrt(4 / (45 n)); 6 sd. (With inmaps/group
    // the limit would be sqrt(6 / (9 (8 + 128))), i.e. a variance 41% larger: far outside.)
    CHECK(std::fabs(var - lim * lim / 3) <= 6 * lim * lim * std::sqrt(4.0 / (45 * n)));
    CHECK(mx >= 0.99 * lim);
}

// ---- Deconvolution layout (upstream bug fixed) --------------------------------------------------

namespace {
constexpr var deconv_class(builder& g) {
    Deconv2d up(4, 6, {3, 2}, {.name = "up", .pad = {1, 0}, .stride = {2, 1}, .group = 2});
    return up(g.input("x", {2, 4, 3, 4}));
}
constexpr var deconv_function(builder& g) {
    auto x = g.input("x", {2, 4, 3, 4});
    return F::deconvolution(x, g.parameter("W", {4, 3, 3, 2}), g.parameter("b", {6}),
                            {.pad = {1, 0}, .stride = {2, 1}, .group = 2});
}
constexpr var deconv1d_class(builder& g) {
    Deconv1d d(3, 5, {4}, {.name = "d", .stride = {3}, .with_bias = false});
    return d(g.input("x", {1, 3, 6}));
}
}  // namespace

TEST_CASE("Deconvolution: W (inmaps, outmaps/group, k..) so inmaps != outmaps and group > 1 work") {
    using Net = network<deconv_class>;
    using Ref = network<deconv_function>;
    // Upstream would create (outmaps, inmaps/group, k..) = (6, 2, 3, 2), which F.deconvolution rejects.
    check_params(params_of<Net>(), {{"up/W", {4, 3, 3, 2}, true}, {"up/b", {6}, true}});
    static_assert(Net::graph.nodes[Net::graph.outputs[0]].shape == shape_t{2, 6, 5, 5});
    check_params(params_of<network<deconv1d_class>>(), {{"d/W", {3, 5, 4}, true}});

    parameter_store store(3), ref;
    create_parameters<Net>(store);
    // Default init: Glorot with (inmaps 4, outmaps 6, K 6); b = 0.
    for (float v : store.at("up/W").data) CHECK(std::fabs(v) <= float(std::sqrt(6.0 / (6 * (4 + 6)))));
    for (float v : store.at("up/b").data) CHECK(v == 0.0f);
    kata::test::set_param(store, "up/b", ramp({6}, 1));
    kata::test::set_param(ref, "W", store.at("up/W").data);
    kata::test::set_param(ref, "b", store.at("up/b").data);
    const xt::xarray<float> x = ramp({2, 4, 3, 4}, 2);
    cpu::executor<Net> run(store);
    cpu::executor<Ref> run_ref(ref);
    const xt::xarray<float> y = run(x);
    kata::test::check_equal(y, run_ref(x));

    // Closed form for one output element: y[n, o, i, j] = b[o] + sum over the group's input channels
    // c and kernel taps (ki, kj) with i = 2 yi - 1 + ki, j = xj + kj of x[n, c, yi, xj] W[c, o % 3, ki, kj].
    const auto& W = store.at("up/W").data;
    const auto& b = store.at("up/b").data;
    for (std::size_t o : {0u, 4u})
        for (std::size_t i : {0u, 2u, 4u})
            for (std::size_t j : {0u, 3u, 4u}) {
                const std::size_t grp = o / 3, oc = o % 3;
                double acc = b(o);
                for (std::size_t c = grp * 2; c < grp * 2 + 2; ++c)
                    for (std::size_t yi = 0; yi < 3; ++yi)
                        for (std::size_t xj = 0; xj < 4; ++xj) {
                            const long ki = long(i) - (2 * long(yi) - 1), kj = long(j) - long(xj);
                            if (ki < 0 || ki >= 3 || kj < 0 || kj >= 2) continue;
                            acc += double(x(1, c, yi, xj)) * W(c, oc, std::size_t(ki), std::size_t(kj));
                        }
                CHECK(y(1, o, i, j) == doctest::Approx(acc).epsilon(1e-5));
            }
}

// ---- BatchNorm eps (upstream bug fixed) ---------------------------------------------------------

namespace {
template <int EpsMilli>
constexpr var bn_eps(builder& g) {
    BatchNorm2d bn(3, {.name = "bn", .eps = EpsMilli == 0 ? 1e-5 : EpsMilli / 1000.0});
    return bn(g.input("x", {2, 3, 2, 2}), /*test=*/true);
}
}  // namespace

TEST_CASE("BatchNorm2d honours eps: y = gamma (x - mean) / sqrt(var + eps) + beta for eps 0.1 and 1e-5") {
    using Small = network<bn_eps<0>>;
    using Big = network<bn_eps<100>>;
    CHECK(first_of<Small>(op_kind::batch_normalization).attr.eps == 1e-5);
    CHECK(first_of<Big>(op_kind::batch_normalization).attr.eps == 0.1);
    const xt::xarray<float> gamma = ramp({1, 3, 1, 1}, 1, 0.5f, 2.0f), beta = ramp({1, 3, 1, 1}, 2);
    const xt::xarray<float> mean = ramp({1, 3, 1, 1}, 3), var = ramp({1, 3, 1, 1}, 4, 0.01f, 0.2f);
    const xt::xarray<float> x = ramp({2, 3, 2, 2}, 5);
    auto expected = [&](double eps) {
        xt::xarray<float> y = x;
        for (std::size_t n = 0; n < 2; ++n)
            for (std::size_t c = 0; c < 3; ++c)
                for (std::size_t k = 0; k < 4; ++k) {
                    const double v = x.data()[(n * 3 + c) * 4 + k];
                    y.data()[(n * 3 + c) * 4 + k] =
                        float(gamma(0, c, 0, 0) * (v - mean(0, c, 0, 0)) / std::sqrt(var(0, c, 0, 0) + eps) +
                              beta(0, c, 0, 0));
                }
        return y;
    };
    auto run_with = [&]<class Net>(Net*) {
        parameter_store s;
        create_parameters<Net>(s);
        kata::test::set_param(s, "bn/gamma", gamma);
        kata::test::set_param(s, "bn/beta", beta);
        kata::test::set_param(s, "bn/mean", mean);
        kata::test::set_param(s, "bn/var", var);
        cpu::executor<Net> run(s);
        return xt::xarray<float>(run(x));
    };
    const xt::xarray<float> y_small = run_with((Small*)nullptr), y_big = run_with((Big*)nullptr);
    kata::test::check_close(y_small, expected(1e-5), 1e-5, 1e-5);
    kata::test::check_close(y_big, expected(0.1), 1e-5, 1e-5);
    // The outputs differ exactly as the formula predicts: (y - beta) scales by sqrt((var + 1e-5) / (var + 0.1)).
    for (std::size_t c = 0; c < 3; ++c) {
        const double ratio = std::sqrt((var(0, c, 0, 0) + 1e-5) / (var(0, c, 0, 0) + 0.1));
        CHECK(ratio < 0.9);
        const double a = y_big(0, c, 0, 0) - beta(0, c, 0, 0), b = y_small(0, c, 0, 0) - beta(0, c, 0, 0);
        CHECK(a == doctest::Approx(b * ratio).epsilon(1e-4));
    }
}

// ---- Embed (upstream cannot be constructed) -----------------------------------------------------

namespace {
constexpr var embed_class(builder& g) {
    Embed emb(10, 4, {.name = "emb"});
    return emb(g.input("idx", {2, 3}, layout::none, dtype::i32));
}
}  // namespace

TEST_CASE("Embed: constructs and runs, W (n_inputs, n_features) ~ U(-sqrt 3, sqrt 3), rows are looked up") {
    using Net = network<embed_class>;
    check_params(params_of<Net>(), {{"emb/W", {10, 4}, true}});
    static_assert(Net::graph.nodes[Net::graph.outputs[0]].shape == shape_t{2, 3, 4});
    parameter_store store(11);
    create_parameters<Net>(store);
    const auto& W = store.at("emb/W").data;
    for (float v : W) CHECK(std::fabs(v) <= float(std::sqrt(3.0)));
    // The first draws are RandomState(11).uniform(-sqrt 3, sqrt 3).
    kata::rng r(11);
    CHECK(W(0, 0) == float(r.uniform(-std::sqrt(3.0), std::sqrt(3.0))));
    xt::xarray<std::int32_t> idx = {{3, 0, 9}, {9, 1, 3}};
    cpu::executor<Net> run(store);
    const xt::xarray<float> y = run(idx);
    for (std::size_t i = 0; i < 2; ++i)
        for (std::size_t j = 0; j < 3; ++j)
            for (std::size_t f = 0; f < 4; ++f) CHECK(y(i, j, f) == W(std::size_t(idx(i, j)), f));
}

// ---- rng: a per-class seed ----------------------------------------------------------------------

namespace {
constexpr var seeded_then_plain(builder& g) {
    Conv2d c(3, 4, {3, 3}, {.name = "seeded", .rng = 7});
    Linear fc(4 * 3 * 3, 5, {.name = "fc"});
    return fc(c(g.input("x", {1, 3, 5, 5})));
}
constexpr var plain_only(builder& g) {
    Linear fc(4 * 3 * 3, 5, {.name = "fc"});
    return fc(g.input("x", {1, 4, 3, 3}));
}
}  // namespace

TEST_CASE("rng: a seeded class draws from RandomState(seed), independent of the store's generator") {
    using Net = network<seeded_then_plain>;
    parameter_store a(1), b(2), c(1);
    create_parameters<Net>(a);
    create_parameters<Net>(b);
    create_parameters<network<plain_only>>(c);
    // Same W whatever the store's seed ...
    kata::test::check_equal(a.at("seeded/W").data, b.at("seeded/W").data);
    // ... and it is RandomState(7).uniform(-l, l), l = sqrt(6 / (9 (3 + 4))).
    const double lim = std::sqrt(6.0 / (9.0 * 7));
    kata::rng r(7);
    for (float v : a.at("seeded/W").data) CHECK(v == float(r.uniform(-lim, lim)));
    // The store's generator was not advanced by the seeded layer: fc/W is what a store with only fc gets.
    kata::test::check_equal(a.at("fc/W").data, c.at("fc/W").data);
    CHECK(a.at("fc/W").data != b.at("fc/W").data);
}
