// Convolution and DepthwiseConvolution (forward, CPU) against PyTorch twins
// (tests/fixtures/ops/*.npz from tools/fixtures/make_op_fixtures.py: torch conv1d/2d/3d in float64;
// channel-last through permutes; depthwise = grouped conv with group C and W (C*m, 1, k..)).
// Tolerance: rtol 1e-5, atol 1e-5 (float32 sums of <= 54 products of N(0,1) values).
#include <doctest/doctest.h>

#include "../support/fixtures.hpp"

using namespace kata;
using kata::test::check_fixture_net;

namespace {

constexpr double k_rtol = 1e-5, k_atol = 1e-5;

constexpr var conv1d(builder& g) {
    auto x = g.input("x", {2, 5, 13});
    return F::convolution(x, g.parameter("W", {6, 5, 3}), g.parameter("b", {6}),
                          {.pad = {2}, .stride = {2}, .dilation = {2}});
}
constexpr var conv2d_group(builder& g) {
    auto x = g.input("x", {2, 6, 9, 11});
    return F::convolution(x, g.parameter("W", {4, 3, 3, 2}), g.parameter("b", {4}),
                          {.pad = {1, 0}, .stride = {2, 1}, .dilation = {1, 2}, .group = 2});
}
constexpr var conv2d_1x1_group(builder& g) {
    auto x = g.input("x", {2, 6, 5, 7});
    return F::convolution(x, g.parameter("W", {9, 2, 1, 1}), {.group = 3});
}
constexpr var conv2d_group_eq_c(builder& g) {
    auto x = g.input("x", {2, 5, 8, 9});
    return F::convolution(x, g.parameter("W", {10, 1, 3, 3}), g.parameter("b", {10}),
                          {.pad = {1, 2}, .stride = {2, 1}, .group = 5});
}
constexpr var conv3d_group(builder& g) {
    auto x = g.input("x", {1, 4, 5, 6, 7});
    return F::convolution(x, g.parameter("W", {6, 2, 3, 2, 3}), g.parameter("b", {6}),
                          {.pad = {1, 0, 1}, .stride = {1, 2, 2}, .dilation = {2, 1, 1}, .group = 2});
}
constexpr var conv2d_base_axis2(builder& g) {
    auto x = g.input("x", {2, 3, 4, 9, 7});
    return F::convolution(x, g.parameter("W", {5, 4, 3, 3}), g.parameter("b", {5}),
                          {.base_axis = 2, .pad = {1, 1}, .stride = {2, 1}});
}
constexpr var conv2d_cl_group(builder& g) {
    auto x = g.input("x", {2, 9, 11, 6}, layout::channel_last);
    return F::convolution(
        x, g.parameter("W", {4, 3, 2, 3}), g.parameter("b", {4}),
        {.pad = {1, 0}, .stride = {2, 1}, .dilation = {1, 2}, .group = 2, .channel_last = true});
}
constexpr var conv2d_cl_1x1_group(builder& g) {
    auto x = g.input("x", {2, 5, 7, 6}, layout::channel_last);
    return F::convolution(x, g.parameter("W", {9, 1, 1, 2}), {.group = 3, .channel_last = true});
}
constexpr var conv3d_cl_group(builder& g) {
    auto x = g.input("x", {1, 5, 6, 7, 4}, layout::channel_last);
    return F::convolution(
        x, g.parameter("W", {6, 3, 2, 3, 2}), g.parameter("b", {6}),
        {.pad = {1, 0, 1}, .stride = {1, 2, 2}, .dilation = {2, 1, 1}, .group = 2, .channel_last = true});
}
constexpr var conv1d_cl(builder& g) {
    auto x = g.input("x", {3, 13, 5}, layout::channel_last);
    return F::convolution(x, g.parameter("W", {7, 3, 5}), g.parameter("b", {7}),
                          {.pad = {1}, .stride = {3}, .dilation = {2}, .channel_last = true});
}

constexpr var depthwise_conv2d_mult2(builder& g) {
    auto x = g.input("x", {2, 5, 9, 8});
    return F::depthwise_convolution(x, g.parameter("W", {10, 3, 3}), g.parameter("b", {10}),
                                    {.pad = {1, 2}, .stride = {2, 1}, .dilation = {1, 2}, .multiplier = 2});
}
constexpr var depthwise_conv1d(builder& g) {
    auto x = g.input("x", {2, 3, 15});
    return F::depthwise_convolution(x, g.parameter("W", {3, 5}),
                                    {.pad = {2}, .stride = {3}, .dilation = {2}});
}
constexpr var depthwise_conv2d_mult3(builder& g) {
    auto x = g.input("x", {3, 4, 7, 9});
    return F::depthwise_convolution(x, g.parameter("W", {12, 2, 3}), g.parameter("b", {12}),
                                    {.pad = {0, 1}, .stride = {1, 2}, .dilation = {3, 1}, .multiplier = 3});
}

}  // namespace

TEST_CASE("Convolution 1-D pad/stride/dilation vs torch") {
    check_fixture_net<network<conv1d>>("conv1d", {"W", "b"}, k_rtol, k_atol);
}
TEST_CASE("Convolution 2-D group/pad/stride/dilation vs torch") {
    check_fixture_net<network<conv2d_group>>("conv2d_group", {"W", "b"}, k_rtol, k_atol);
}
TEST_CASE("Convolution 2-D 1x1 group 3, no bias vs torch") {
    check_fixture_net<network<conv2d_1x1_group>>("conv2d_1x1_group", {"W"}, k_rtol, k_atol);
}
TEST_CASE("Convolution 2-D group == C (one input channel per group) vs torch") {
    check_fixture_net<network<conv2d_group_eq_c>>("conv2d_group_eq_c", {"W", "b"}, k_rtol, k_atol);
}
TEST_CASE("Convolution 3-D group 2 vs torch") {
    check_fixture_net<network<conv3d_group>>("conv3d_group", {"W", "b"}, k_rtol, k_atol);
}
TEST_CASE("Convolution 2-D base_axis 2 vs torch") {
    check_fixture_net<network<conv2d_base_axis2>>("conv2d_base_axis2", {"W", "b"}, k_rtol, k_atol);
}
TEST_CASE("Convolution 2-D channel_last group 2 vs torch") {
    check_fixture_net<network<conv2d_cl_group>>("conv2d_cl_group", {"W", "b"}, k_rtol, k_atol);
}
TEST_CASE("Convolution 2-D channel_last 1x1 group 3 vs torch") {
    check_fixture_net<network<conv2d_cl_1x1_group>>("conv2d_cl_1x1_group", {"W"}, k_rtol, k_atol);
}
TEST_CASE("Convolution 3-D channel_last group 2 vs torch") {
    check_fixture_net<network<conv3d_cl_group>>("conv3d_cl_group", {"W", "b"}, k_rtol, k_atol);
}
TEST_CASE("Convolution 1-D channel_last vs torch") {
    check_fixture_net<network<conv1d_cl>>("conv1d_cl", {"W", "b"}, k_rtol, k_atol);
}
TEST_CASE("DepthwiseConvolution 2-D multiplier 2 vs torch") {
    check_fixture_net<network<depthwise_conv2d_mult2>>("depthwise_conv2d_mult2", {"W", "b"}, k_rtol, k_atol);
}
TEST_CASE("DepthwiseConvolution 1-D no bias vs torch") {
    check_fixture_net<network<depthwise_conv1d>>("depthwise_conv1d", {"W"}, k_rtol, k_atol);
}
TEST_CASE("DepthwiseConvolution 2-D multiplier 3 vs torch") {
    check_fixture_net<network<depthwise_conv2d_mult3>>("depthwise_conv2d_mult3", {"W", "b"}, k_rtol, k_atol);
}
