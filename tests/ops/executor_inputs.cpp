// Executors at the xtensor boundary (issue 10 point 4, issue 15 point 1): inputs of every memory layout
// are read as their logical values, fixed shapes are known to the type, results can be owned.
//
//   * a transposed view (the README's NHWC flow: run(xt::transpose(nchw, {0, 2, 3, 1}))), a
//     column-major xt::xarray, a slice with a data offset, a slice with a step: each must give the
//     PyTorch fixture's output (tests/fixtures/ops/conv2d_cl_group.npz and conv1d_cl.npz, written by
//     tools/fixtures/make_op_fixtures.py; rtol = atol = 1e-5 as in convolution.cpp), on the live and on
//     the frozen executor (the frozen conv1d_cl runs the packed NHWC kernel). Before this change they
//     were read in memory order (wrong outputs, no error);
//   * int32 inputs (Embed's indices) through a transposed view and a pointer: closed form (rows of W);
//   * xt::xtensor_fixed inputs (shape checked at compile time; the wrong-shape case is
//     tests/compile_fail/executor_fixed_input_shape.cpp) and result<K>() / results() (owning
//     xt::xtensor_fixed copies whose shape is the graph's) that survive the next call;
//   * run-time-shaped inputs of the wrong shape throw binding_error naming the input and both shapes.
#include <doctest/doctest.h>

#include "../support/fixtures.hpp"  // kata (and its xtensor fix) before any other xtensor header

#include <cstdint>
#include <type_traits>

#include <xtensor/xstrided_view.hpp>
#include <xtensor/xview.hpp>

using namespace kata;
namespace kt = kata::test;

namespace {

constexpr double k_rtol = 1e-5, k_atol = 1e-5;

// = tests/ops/convolution.cpp's nets of the same fixtures
constexpr var conv2d_cl_group(builder& g) {
    auto x = g.input("x", {2, 9, 11, 6}, layout::channel_last);
    return F::convolution(
        x, g.parameter("W", {4, 3, 2, 3}), g.parameter("b", {4}),
        {.pad = {1, 0}, .stride = {2, 1}, .dilation = {1, 2}, .group = 2, .channel_last = true});
}
constexpr var conv1d_cl(builder& g) {
    auto x = g.input("x", {3, 13, 5}, layout::channel_last);
    return F::convolution(x, g.parameter("W", {7, 3, 5}), g.parameter("b", {7}),
                          {.pad = {1}, .stride = {3}, .dilation = {2}, .channel_last = true});
}
constexpr var embed_net(builder& g) {
    auto ids = g.input("ids", {3, 4}, layout::none, dtype::i32);
    return F::embed(ids, g.parameter("W", {6, 5}));
}

template <class Exec>
void check_layouts(Exec& run, const kt::fixture& fx) {
    const xt::xarray<float> x = fx["x"];
    const xt::xarray<float>& y = fx["y"];
    const std::size_t r = x.dimension();
    // A transposed view of a channel-first copy: strides (H W C ...) not row-major.
    xt::xarray<float> cf;
    if (r == 4)
        cf = xt::transpose(x, {0, 3, 1, 2});
    else
        cf = xt::transpose(x, {0, 2, 1});
    SUBCASE("transposed view") {
        if (r == 4)
            kt::check_close(run(xt::transpose(cf, {0, 2, 3, 1})), y, k_rtol, k_atol);
        else
            kt::check_close(run(xt::transpose(cf, {0, 2, 1})), y, k_rtol, k_atol);
    }
    SUBCASE("column-major xarray") {
        xt::xarray<float, xt::layout_type::column_major> xc = x;
        kt::check_close(run(xc), y, k_rtol, k_atol);
    }
    SUBCASE("contiguous view with a data offset") {
        std::vector<std::size_t> s(x.shape().begin(), x.shape().end());
        s.insert(s.begin(), 3);
        xt::xarray<float> big = xt::zeros<float>(s);
        xt::view(big, 1) = x;
        kt::check_close(run(xt::view(big, 1)), y, k_rtol, k_atol);
    }
    SUBCASE("slice with an offset along the second axis") {
        std::vector<std::size_t> s(x.shape().begin(), x.shape().end());
        s[1] += 3;
        xt::xarray<float> big = xt::ones<float>(s);
        xt::xstrided_slice_vector sv(r, xt::all());
        sv[1] = xt::range(2, std::ptrdiff_t(x.shape()[1]) + 2);
        xt::strided_view(big, sv) = x;
        kt::check_close(run(xt::strided_view(big, sv)), y, k_rtol, k_atol);
    }
    SUBCASE("slice with a step of 2 along the channels") {
        std::vector<std::size_t> s(x.shape().begin(), x.shape().end());
        s.back() *= 2;
        xt::xarray<float> big = xt::ones<float>(s);
        xt::xstrided_slice_vector sv(r, xt::all());
        sv.back() = xt::range(1, std::ptrdiff_t(s.back()), 2);
        xt::strided_view(big, sv) = x;
        kt::check_close(run(xt::strided_view(big, sv)), y, k_rtol, k_atol);
    }
    SUBCASE("pointer to contiguous values") {
        kt::check_close(run(static_cast<const float*>(x.data())), y, k_rtol, k_atol);
    }
}

template <class Net, cpu::parameter_mode Mode>
void check_fixture(const char* name) {
    const kt::fixture fx = kt::load_fixture(std::string("ops/") + name + ".npz");
    parameter_store store;
    kt::set_param(store, "W", fx["W"]);
    kt::set_param(store, "b", fx["b"]);
    cpu::executor<Net, Mode> run(store);
    check_layouts(run, fx);
}

}  // namespace

TEST_CASE("Executor inputs: any memory layout gives the fixture's output (live, grouped 2-D)") {
    check_fixture<network<conv2d_cl_group>, cpu::parameter_mode::live>("conv2d_cl_group");
}
TEST_CASE("Executor inputs: any memory layout gives the fixture's output (frozen, grouped 2-D)") {
    check_fixture<network<conv2d_cl_group>, cpu::parameter_mode::frozen>("conv2d_cl_group");
}
TEST_CASE("Executor inputs: any memory layout gives the fixture's output (live, 1-D)") {
    check_fixture<network<conv1d_cl>, cpu::parameter_mode::live>("conv1d_cl");
}
TEST_CASE("Executor inputs: any memory layout gives the fixture's output (frozen packed NHWC, 1-D)") {
    static_assert(cpu::frozen_executor<network<conv1d_cl>>::num_prepared == 1);
    check_fixture<network<conv1d_cl>, cpu::parameter_mode::frozen>("conv1d_cl");
}

TEST_CASE("Executor inputs: int32 indices through a transposed view and a pointer") {
    using Net = network<embed_net>;
    parameter_store store;
    xt::xarray<float> w = xt::zeros<float>({6, 5});
    for (std::size_t i = 0; i < w.size(); ++i) w.data()[i] = 0.25f * float(i) - 3.0f;
    kt::set_param(store, "W", w);
    const xt::xarray<std::int32_t> ids = {{5, 0, 3, 3}, {1, 4, 2, 0}, {2, 5, 1, 4}};
    xt::xarray<float> want = xt::zeros<float>({3, 4, 5});
    for (std::size_t i = 0; i < 12; ++i)
        for (std::size_t j = 0; j < 5; ++j) want.data()[i * 5 + j] = w(std::size_t(ids.data()[i]), j);
    cpu::executor<Net> run(store);
    kt::check_equal(run(ids), want);
    const xt::xarray<std::int32_t> ids_t = xt::transpose(ids);
    kt::check_equal(run(xt::transpose(ids_t)), want);
    kt::check_equal(run(static_cast<const std::int32_t*>(ids.data())), want);
}

TEST_CASE("Executor inputs: xtensor_fixed in, owning xtensor_fixed results out") {
    using Net = network<conv2d_cl_group>;
    const kt::fixture fx = kt::load_fixture("ops/conv2d_cl_group.npz");
    parameter_store store;
    kt::set_param(store, "W", fx["W"]);
    kt::set_param(store, "b", fx["b"]);
    cpu::executor<Net> run(store);
    const xt::xtensor_fixed<float, xt::xshape<2, 9, 11, 6>> x = fx["x"];
    kt::check_close(run(x), fx["y"], k_rtol, k_atol);
    // (2, 9, 11, 6) -> (2, 5, 9, 4): kernel (3, 2), pad (1, 0), stride (2, 1), dilation (1, 2)
    auto r = run.result<0>();
    static_assert(std::is_same_v<decltype(r), xt::xtensor_fixed<float, xt::xshape<2, 5, 9, 4>>>);
    kt::check_close(r, fx["y"], k_rtol, k_atol);
    const auto [r0] = run.results();
    static_assert(std::is_same_v<decltype(r0), const xt::xtensor_fixed<float, xt::xshape<2, 5, 9, 4>>>);
    kt::check_equal(r0, r);
    const xt::xarray<float> other = xt::zeros<float>({2, 9, 11, 6});
    run(other);  // the view now holds the bias only; the owned result is unchanged
    kt::check_close(r, fx["y"], k_rtol, k_atol);
    CHECK_FALSE(xt::allclose(run.output<0>(), fx["y"]));
}

TEST_CASE("Executor inputs: a wrong run-time shape names the input and both shapes") {
    using Net = network<conv2d_cl_group>;
    const kt::fixture fx = kt::load_fixture("ops/conv2d_cl_group.npz");
    parameter_store store;
    kt::set_param(store, "W", fx["W"]);
    kt::set_param(store, "b", fx["b"]);
    cpu::executor<Net> run(store);
    const xt::xarray<float> x = fx["x"];
    CHECK_THROWS_WITH_AS(
        run(xt::transpose(x, {0, 2, 1, 3})),
        "kata::cpu::executor: input 'x' has shape (2,11,9,6) but the graph expects (2,9,11,6)",
        cpu::binding_error);
    const xt::xarray<float> flat = xt::zeros<float>({2 * 9 * 11 * 6});
    CHECK_THROWS_WITH_AS(run(flat),
                         "kata::cpu::executor: input 'x' has shape (1188,) but the graph expects (2,9,11,6)",
                         cpu::binding_error);
}
