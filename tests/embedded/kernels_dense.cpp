// The embedded back end's Affine, BatchNormalization / FusedBatchNormalization (test mode) and Embed
// kernels (kata/embedded/kernels/affine.hpp, batch_normalization.hpp). Each case runs on the embedded
// kernels and is compared with the independent reference of tests/fixtures/ops (PyTorch twins, or the
// float64 closed form for BN axes torch has no channel axis for; same networks as tests/ops/affine.cpp,
// batch_normalization.cpp, batch_normalization_axes.cpp) and with the CPU executor. BN statistics are far
// from 0/1 (mean ~ N(0.5,1), var ~ U(0.5,2)). Embed: closed form (rows of W, zero rows out of range).
// Tolerance: rtol 1e-5, atol 1e-5 (as the CPU tests); Embed exact.
#include <doctest/doctest.h>

#include "../support/embedded_check.hpp"

#include <xtensor/xview.hpp>  // after kata/detail/xtensor_fix.hpp (through embedded_check.hpp)

using namespace kata;
using kata::test::check_embedded;
using kata::test::load_fixture;

namespace {

constexpr double k_rtol = 1e-5, k_atol = 1e-5;

// ---- Affine ----
constexpr var affine_2d(builder& g) {
    return F::affine(g.input("x", {5, 13}), g.parameter("W", {13, 7}), g.parameter("b", {7}));
}
constexpr var affine_4d(builder& g) {
    return F::affine(g.input("x", {3, 4, 5, 3}), g.parameter("W", {60, 9}), g.parameter("b", {9}));
}
constexpr var affine_base2_multiout(builder& g) {
    return F::affine(g.input("x", {2, 3, 5, 7}), g.parameter("W", {35, 4, 3}), g.parameter("b", {4, 3}),
                     {.base_axis = 2});
}
constexpr var affine_nobias(builder& g) {
    return F::affine(g.input("x", {3, 11}), g.parameter("W", {11, 5}));
}

// ---- BatchNormalization, test mode ----
enum class variant { full, no_bias, no_scale };

template <variant V>
constexpr var bn(builder& g, shape_t X, layout L, shape_t P, batch_normalization_args a) {
    auto x = g.input("x", X, L);
    var beta = V == variant::no_bias ? none : g.parameter("beta", P);
    var gamma = V == variant::no_scale ? none : g.parameter("gamma", P);
    return F::batch_normalization(x, beta, gamma, g.parameter("mean", P), g.parameter("var", P), a);
}
constexpr batch_normalization_args axes_args(std::initializer_list<int> axes, double eps) {
    batch_normalization_args a;
    a.naxes = 0;  // the default is axes = [1]
    for (int v : axes) a.axes[a.naxes++] = v;
    a.batch_stat = false;
    a.eps = eps;
    return a;
}
template <variant V>
constexpr var bn_test_nchw(builder& g) {
    return bn<V>(g, {3, 5, 7, 9}, layout::channel_first, {1, 5, 1, 1}, bn_axis(1, false, 1e-3));
}
template <variant V>
constexpr var bn_test_nhwc(builder& g) {
    return bn<V>(g, {3, 7, 9, 5}, layout::channel_last, {1, 1, 1, 5}, bn_axis(3, false, 1e-5));
}
template <variant V>
constexpr var bn_test_2d(builder& g) {
    return bn<V>(g, {6, 13}, layout::none, {1, 13}, bn_axis(1, false, 1e-4));
}
constexpr var bn_test_axes12(builder& g) {
    return bn<variant::full>(g, {3, 4, 5, 7}, layout::channel_first, {1, 4, 5, 1}, axes_args({1, 2}, 1e-5));
}
// tests/ops/batch_normalization_axes.cpp's cases (eps 1e-4).
constexpr var bn_test_axes13(builder& g) {
    return bn<variant::full>(g, {3, 4, 5, 6}, layout::channel_first, {1, 4, 1, 6}, axes_args({1, 3}, 1e-4));
}
constexpr var bn_test_axis0(builder& g) {
    return bn<variant::no_scale>(g, {5, 3, 4}, layout::channel_first, {5, 1, 1}, axes_args({0}, 1e-4));
}
constexpr var bn_test_axis2(builder& g) {
    return bn<variant::full>(g, {3, 4, 5, 7}, layout::channel_first, {1, 1, 5, 1}, axes_args({2}, 1e-4));
}
constexpr var bn_test_merge(builder& g) {
    return bn<variant::full>(g, {3, 4, 1, 5}, layout::channel_first, {1, 4, 1, 5}, axes_args({1, 3}, 1e-4));
}
constexpr var bn_test_ndhwc(builder& g) {
    return bn<variant::no_bias>(g, {2, 3, 4, 3, 5}, layout::channel_last, {1, 1, 1, 1, 5},
                                axes_args({-1}, 1e-4));
}
constexpr var bn_test_5d_024(builder& g) {
    return bn<variant::full>(g, {3, 2, 4, 3, 5}, layout::channel_first, {3, 1, 4, 1, 5},
                             axes_args({0, 2, 4}, 1e-4));
}
// ---- FusedBatchNormalization, test mode ----
constexpr var fbn(builder& g, shape_t X, layout L, shape_t P, batch_normalization_args a, bool residual) {
    auto x = g.input("x", X, L);
    var z = residual ? g.input("z", X, L) : none;
    return F::fused_batch_normalization(x, g.parameter("beta", P), g.parameter("gamma", P),
                                        g.parameter("mean", P), g.parameter("var", P), z, a);
}
template <bool Z>
constexpr var fbn_test_nchw(builder& g) {
    return fbn(g, {3, 5, 7, 9}, layout::channel_first, {1, 5, 1, 1}, bn_axis(1, false, 1e-5), Z);
}
template <bool Z>
constexpr var fbn_test_nhwc(builder& g) {
    return fbn(g, {2, 7, 5, 6}, layout::channel_last, {1, 1, 1, 6}, bn_axis(3, false, 1e-3), Z);
}
template <bool Z>
constexpr var fbn_test_axis2(builder& g) {
    return fbn(g, {3, 4, 5, 6}, layout::channel_first, {1, 1, 5, 1}, axes_args({2}, 1e-4), Z);
}

const std::initializer_list<const char*> bn_params = {"beta", "gamma", "mean", "var"};

template <class Net>
void check_bn(const char* name, const char* y) {
    check_embedded<Net>(load_fixture(std::string("ops/") + name + ".npz"), bn_params, {y}, k_rtol, k_atol);
}

// ---- Embed ----
constexpr var embed_net(builder& g) {
    return F::embed(g.input("idx", {2, 5}, layout::none, dtype::i32), g.parameter("W", {7, 3, 2}));
}

}  // namespace

TEST_CASE("embedded Affine: 2-D, flattened 4-D, base_axis 2 with W (35,4,3), no bias") {
    auto check = []<class Net>(const char* name, std::initializer_list<const char*> p) {
        check_embedded<Net>(load_fixture(std::string("ops/") + name + ".npz"), p, {"y"}, k_rtol, k_atol);
    };
    check.operator()<network<affine_2d>>("affine_2d", {"W", "b"});
    check.operator()<network<affine_4d>>("affine_4d", {"W", "b"});
    check.operator()<network<affine_base2_multiout>>("affine_base2_multiout", {"W", "b"});
    check.operator()<network<affine_nobias>>("affine_nobias", {"W"});
}

TEST_CASE("embedded BatchNormalization test mode: NCHW, NHWC, 2-D, no_bias / no_scale") {
    check_bn<network<bn_test_nchw<variant::full>>>("bn_test_nchw", "y");
    check_bn<network<bn_test_nchw<variant::no_bias>>>("bn_test_nchw", "y_nobias");
    check_bn<network<bn_test_nchw<variant::no_scale>>>("bn_test_nchw", "y_noscale");
    check_bn<network<bn_test_nhwc<variant::full>>>("bn_test_nhwc", "y");
    check_bn<network<bn_test_nhwc<variant::no_scale>>>("bn_test_nhwc", "y_noscale");
    check_bn<network<bn_test_2d<variant::full>>>("bn_test_2d", "y");
    check_bn<network<bn_test_2d<variant::no_bias>>>("bn_test_2d", "y_nobias");
}

TEST_CASE("embedded BatchNormalization test mode: several axes, axis 0, inner axes, 5-D") {
    check_bn<network<bn_test_axes12>>("bn_test_axes12", "y");
    check_bn<network<bn_test_axes13>>("bn_test_axes13", "y");
    check_bn<network<bn_test_axis0>>("bn_test_axis0", "y_noscale");
    check_bn<network<bn_test_axis2>>("bn_test_axis2", "y");
    check_bn<network<bn_test_merge>>("bn_test_merge", "y");
    check_bn<network<bn_test_ndhwc>>("bn_test_ndhwc", "y_nobias");
    check_bn<network<bn_test_5d_024>>("bn_test_5d_024", "y");
}

TEST_CASE("embedded FusedBatchNormalization test mode, with and without the residual") {
    check_bn<network<fbn_test_nchw<true>>>("fbn_test_nchw", "y_z");
    check_bn<network<fbn_test_nchw<false>>>("fbn_test_nchw", "y");
    check_bn<network<fbn_test_nhwc<true>>>("fbn_test_nhwc", "y_z");
    check_bn<network<fbn_test_nhwc<false>>>("fbn_test_nhwc", "y");
    check_bn<network<fbn_test_axis2<true>>>("fbn_test_axis2", "y_z");
    check_bn<network<fbn_test_axis2<false>>>("fbn_test_axis2", "y");
}

TEST_CASE("embedded Embed: int32 indices through the typed kernel_io, rows of W, zero rows out of range") {
    using Net = network<embed_net>;
    xt::xarray<float> W = xt::zeros<float>({7, 3, 2});
    for (std::size_t i = 0; i < W.size(); ++i) W.data()[i] = float(i) * 0.25f - 3.0f;
    const std::int32_t idx[10] = {3, 0, 6, -1, 7, 2, 2, 5, 1, 100};
    kata::parameter_store store;
    kata::test::set_param(store, "W", W);
    kata::test::embedded_store_executor<Net> run(store);
    run.execute(&idx[0]);
    const float* y = run.output_data<0>();
    for (int i = 0; i < 10; ++i) {
        const bool inside = idx[i] >= 0 && idx[i] < 7;
        for (int j = 0; j < 6; ++j) CHECK(y[i * 6 + j] == (inside ? W.data()[idx[i] * 6 + j] : 0.0f));
    }
}

TEST_CASE("the embedded executor reads inputs in place: a strided input is reported, not staged") {
    // kata::embedded::backend::stages_inputs = false: the executor's storage holds no input copies.
    using Net = network<affine_2d>;
    static_assert(kata::test::embedded_store_executor<Net>::staging_bytes == 0);
    static_assert(kata::cpu::executor<Net>::staging_bytes > 0);
    kata::parameter_store store;
    kata::test::set_param(store, "W", xt::ones<float>({13, 7}));
    kata::test::set_param(store, "b", xt::zeros<float>({7}));
    kata::test::embedded_store_executor<Net> run(store);
    const xt::xarray<float> wide = xt::ones<float>({5, 26});
    const auto every_other = xt::view(wide, xt::all(), xt::range(0, 26, 2));  // (5, 13), not contiguous
    CHECK_THROWS_WITH_AS(
        run.execute(every_other),
        doctest::Contains("input 'x' is not contiguous (row-major) and this backend does not copy"),
        kata::exec::binding_error);
    const xt::xarray<float> x = every_other;  // a contiguous copy runs
    run.execute(x);
    CHECK(run.output_data<0>()[0] == doctest::Approx(13.0f));
}
