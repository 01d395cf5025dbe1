// BatchNormalization and FusedBatchNormalization (forward, CPU) against torch.batch_norm (float64):
// test mode (running statistics) and batch_stat mode (batch statistics; the running mean/var updated
// in the parameter store as nnabla does: r = decay*r + (1-decay)*batch_stat, with the unbiased batch
// variance n/(n-1) for the running variance -- torch's rule with momentum = 1 - decay); channel-first
// (axes=[1]), channel-last (axes=[3]), 2-D affine outputs and several axes (axes=[1,2], mapped onto
// torch through a reshape); no_bias / no_scale (beta / gamma absent: kata::none); fused BN with and
// without the residual input. Statistics are far from 0/1: mean ~ N(0.5,1), var ~ U(0.5,2),
// gamma ~ U(0.5,1.5), beta ~ N(0,1), x shifted and scaled.
// Tolerance: rtol 1e-5, atol 1e-5 for y and the updated running statistics.
#include <doctest/doctest.h>

#include "../support/fixtures.hpp"
#include "bn_fixture_check.hpp"

using namespace kata;
namespace kt = kata::test;

namespace {

using kt::check_bn;

constexpr double k_rtol = 1e-5, k_atol = 1e-5;

enum class variant { full, no_bias, no_scale };

// BN network on input x (shape X, layout L), parameters "beta" "gamma" "mean" "var" of shape P.
template <variant V>
constexpr var bn(builder& g, shape_t X, layout L, shape_t P, batch_normalization_args a) {
    auto x = g.input("x", X, L);
    var beta = V == variant::no_bias ? none : g.parameter("beta", P);
    var gamma = V == variant::no_scale ? none : g.parameter("gamma", P);
    return F::batch_normalization(x, beta, gamma, g.parameter("mean", P), g.parameter("var", P), a);
}
constexpr var fbn(builder& g, shape_t X, layout L, shape_t P, batch_normalization_args a, bool residual) {
    auto x = g.input("x", X, L);
    var z = residual ? g.input("z", X, L) : none;
    return F::fused_batch_normalization(x, g.parameter("beta", P), g.parameter("gamma", P),
                                        g.parameter("mean", P), g.parameter("var", P), z, a);
}
constexpr batch_normalization_args axes12(bool batch_stat, double eps, double decay) {
    batch_normalization_args a;
    a.axes[0] = 1;
    a.axes[1] = 2;
    a.naxes = 2;
    a.batch_stat = batch_stat;
    a.eps = eps;
    a.decay_rate = decay;
    return a;
}

// ---- test mode ----
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
template <variant V>
constexpr var bn_test_axes12(builder& g) {
    return bn<V>(g, {3, 4, 5, 7}, layout::channel_first, {1, 4, 5, 1}, axes12(false, 1e-5, 0.9));
}
// ---- batch_stat ----
template <variant V>
constexpr var bn_train_nchw(builder& g) {
    return bn<V>(g, {4, 5, 6, 7}, layout::channel_first, {1, 5, 1, 1}, bn_axis(1, true, 1e-5, 0.7));
}
template <variant V>
constexpr var bn_train_nhwc(builder& g) {
    return bn<V>(g, {3, 5, 7, 6}, layout::channel_last, {1, 1, 1, 6}, bn_axis(-1, true, 1e-4, 0.9));
}
template <variant V>
constexpr var bn_train_axes12(builder& g) {
    return bn<V>(g, {5, 3, 4, 7}, layout::channel_first, {1, 3, 4, 1}, axes12(true, 1e-5, 0.8));
}
template <variant V>
constexpr var bn_train_2d(builder& g) {
    return bn<V>(g, {9, 7}, layout::none, {1, 7}, bn_axis(1, true, 1e-5, 0.9));
}
// ---- fused ----
template <bool Z>
constexpr var fbn_test_nchw(builder& g) {
    return fbn(g, {3, 5, 7, 9}, layout::channel_first, {1, 5, 1, 1}, bn_axis(1, false, 1e-5), Z);
}
template <bool Z>
constexpr var fbn_test_nhwc(builder& g) {
    return fbn(g, {2, 7, 5, 6}, layout::channel_last, {1, 1, 1, 6}, bn_axis(3, false, 1e-3), Z);
}
template <bool Z>
constexpr var fbn_train_nchw(builder& g) {
    return fbn(g, {4, 5, 3, 7}, layout::channel_first, {1, 5, 1, 1}, bn_axis(1, true, 1e-5, 0.9), Z);
}
template <bool Z>
constexpr var fbn_train_nhwc(builder& g) {
    return fbn(g, {3, 5, 7, 6}, layout::channel_last, {1, 1, 1, 6}, bn_axis(3, true, 1e-5, 0.8), Z);
}

}  // namespace

TEST_CASE("BatchNormalization test mode, NCHW axes=[1] vs torch") {
    check_bn<network<bn_test_nchw<variant::full>>>("bn_test_nchw", "y", false);
    check_bn<network<bn_test_nchw<variant::no_bias>>>("bn_test_nchw", "y_nobias", false);
    check_bn<network<bn_test_nchw<variant::no_scale>>>("bn_test_nchw", "y_noscale", false);
}
TEST_CASE("BatchNormalization test mode, NHWC axes=[3] vs torch") {
    check_bn<network<bn_test_nhwc<variant::full>>>("bn_test_nhwc", "y", false);
    check_bn<network<bn_test_nhwc<variant::no_scale>>>("bn_test_nhwc", "y_noscale", false);
}
TEST_CASE("BatchNormalization test mode, 2-D (N,C) vs torch") {
    check_bn<network<bn_test_2d<variant::full>>>("bn_test_2d", "y", false);
    check_bn<network<bn_test_2d<variant::no_bias>>>("bn_test_2d", "y_nobias", false);
}
TEST_CASE("BatchNormalization test mode, axes=[1,2] vs torch (reshaped)") {
    check_bn<network<bn_test_axes12<variant::full>>>("bn_test_axes12", "y", false);
}
TEST_CASE("BatchNormalization batch_stat, NCHW: output and running statistics vs torch") {
    check_bn<network<bn_train_nchw<variant::full>>>("bn_train_nchw", "y", true);
    check_bn<network<bn_train_nchw<variant::no_bias>>>("bn_train_nchw", "y_nobias", true);
    check_bn<network<bn_train_nchw<variant::no_scale>>>("bn_train_nchw", "y_noscale", true);
}
TEST_CASE("BatchNormalization batch_stat, NHWC axes=[-1]: output and running statistics vs torch") {
    check_bn<network<bn_train_nhwc<variant::full>>>("bn_train_nhwc", "y", true);
}
TEST_CASE("BatchNormalization batch_stat, axes=[1,2]: output and running statistics vs torch") {
    check_bn<network<bn_train_axes12<variant::full>>>("bn_train_axes12", "y", true);
    check_bn<network<bn_train_axes12<variant::no_scale>>>("bn_train_axes12", "y_noscale", true);
}
TEST_CASE("BatchNormalization batch_stat, 2-D: output and running statistics vs torch") {
    check_bn<network<bn_train_2d<variant::full>>>("bn_train_2d", "y", true);
}
TEST_CASE("BatchNormalization batch_stat: the running statistics accumulate over calls") {
    // Two calls on the same x: r2 = d*(d*r0 + (1-d)*s) + (1-d)*s, checked against the fixture's one-step
    // update r1 as r2 = d*r1 + (1-d)*(r1 - d*r0)/(1-d) = d*r1 + r1 - d*r0.
    const kt::fixture fx = kt::load_fixture("ops/bn_train_nchw.npz");
    kata::parameter_store store;
    for (const char* p : {"beta", "gamma", "mean", "var"}) kt::set_param(store, p, fx[p]);
    kata::cpu::executor<network<bn_train_nchw<variant::full>>> run(store);
    const xt::xarray<float> x = fx["x"];
    run(x);
    kt::check_close(run(x), fx["y"], k_rtol, k_atol);  // y uses batch statistics only
    const double d = 0.7;
    const xt::xarray<double> m0 = xt::cast<double>(fx["mean"]), m1 = xt::cast<double>(fx["mean_new"]);
    const xt::xarray<double> v0 = xt::cast<double>(fx["var"]), v1 = xt::cast<double>(fx["var_new"]);
    kt::check_close(store.find("mean")->data, xt::xarray<double>(d * m1 + m1 - d * m0), k_rtol, k_atol);
    kt::check_close(store.find("var")->data, xt::xarray<double>(d * v1 + v1 - d * v0), k_rtol, k_atol);
}
TEST_CASE("FusedBatchNormalization test mode, NCHW, with and without residual vs torch") {
    check_bn<network<fbn_test_nchw<true>>>("fbn_test_nchw", "y_z", false);
    check_bn<network<fbn_test_nchw<false>>>("fbn_test_nchw", "y", false);
}
TEST_CASE("FusedBatchNormalization test mode, NHWC, with and without residual vs torch") {
    check_bn<network<fbn_test_nhwc<true>>>("fbn_test_nhwc", "y_z", false);
    check_bn<network<fbn_test_nhwc<false>>>("fbn_test_nhwc", "y", false);
}
TEST_CASE("FusedBatchNormalization batch_stat, NCHW, with and without residual vs torch") {
    check_bn<network<fbn_train_nchw<true>>>("fbn_train_nchw", "y_z", true);
    check_bn<network<fbn_train_nchw<false>>>("fbn_train_nchw", "y", true);
}
TEST_CASE("FusedBatchNormalization batch_stat, NHWC, with and without residual vs torch") {
    check_bn<network<fbn_train_nhwc<true>>>("fbn_train_nhwc", "y_z", true);
    check_bn<network<fbn_train_nhwc<false>>>("fbn_train_nhwc", "y", true);
}
