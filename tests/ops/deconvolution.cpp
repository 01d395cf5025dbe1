// Deconvolution and DepthwiseDeconvolution (forward, CPU) against PyTorch twins
// (tests/fixtures/ops/*.npz from tools/fixtures/make_op_fixtures.py: torch conv_transpose1d/2d/3d in
// float64 with output_padding and groups; channel-last W (C, k.., O/g) through permutes; depthwise
// deconvolution with divisor d = conv_transpose with groups C/d and W (C, 1, k..)).
// Tolerance: rtol 1e-5, atol 1e-5.
#include <doctest/doctest.h>

#include "../support/fixtures.hpp"

using namespace kata;
using kata::test::check_fixture_net;

namespace {

constexpr double k_rtol = 1e-5, k_atol = 1e-5;

constexpr var deconv1d(builder& g) {
    auto x = g.input("x", {2, 4, 7});
    return F::deconvolution(x, g.parameter("W", {4, 3, 3}), g.parameter("b", {3}),
                            {.pad = {1}, .stride = {2}, .dilation = {2}, .output_padding = {1}});
}
constexpr var deconv2d_group(builder& g) {
    auto x = g.input("x", {2, 6, 5, 7});
    return F::deconvolution(
        x, g.parameter("W", {6, 2, 3, 2}), g.parameter("b", {6}),
        {.pad = {1, 0}, .stride = {2, 3}, .dilation = {1, 2}, .group = 3, .output_padding = {1, 2}});
}
constexpr var deconv2d_1x1(builder& g) {
    auto x = g.input("x", {2, 4, 5, 3});
    return F::deconvolution(x, g.parameter("W", {4, 5, 1, 1}));
}
constexpr var deconv3d_group(builder& g) {
    auto x = g.input("x", {1, 4, 3, 4, 5});
    return F::deconvolution(x, g.parameter("W", {4, 3, 2, 3, 2}), g.parameter("b", {6}),
                            {.pad = {0, 1, 1},
                             .stride = {2, 1, 2},
                             .dilation = {1, 1, 2},
                             .group = 2,
                             .output_padding = {1, 0, 1}});
}
constexpr var deconv2d_cl_group(builder& g) {
    auto x = g.input("x", {2, 5, 7, 6}, layout::channel_last);
    return F::deconvolution(x, g.parameter("W", {6, 3, 2, 2}), g.parameter("b", {6}),
                            {.pad = {1, 1},
                             .stride = {2, 2},
                             .dilation = {1, 2},
                             .group = 3,
                             .channel_last = true,
                             .output_padding = {1, 0}});
}
constexpr var deconv2d_cl_1x1_group(builder& g) {
    auto x = g.input("x", {3, 5, 3, 4}, layout::channel_last);
    return F::deconvolution(x, g.parameter("W", {4, 1, 1, 3}), {.group = 2, .channel_last = true});
}
constexpr var deconv1d_cl(builder& g) {
    auto x = g.input("x", {2, 7, 3}, layout::channel_last);
    return F::deconvolution(x, g.parameter("W", {3, 3, 5}), g.parameter("b", {5}),
                            {.pad = {2}, .stride = {3}, .channel_last = true, .output_padding = {2}});
}
constexpr var depthwise_deconv2d_div2(builder& g) {
    auto x = g.input("x", {2, 6, 5, 7});
    return F::depthwise_deconvolution(x, g.parameter("W", {6, 3, 3}), g.parameter("b", {3}),
                                      {.pad = {1, 0}, .stride = {2, 1}, .dilation = {1, 2}, .divisor = 2});
}
constexpr var depthwise_deconv1d(builder& g) {
    auto x = g.input("x", {2, 4, 9});
    return F::depthwise_deconvolution(x, g.parameter("W", {4, 5}),
                                      {.pad = {2}, .stride = {3}, .dilation = {2}});
}

}  // namespace

TEST_CASE("Deconvolution 1-D pad/stride/dilation/output_padding vs torch") {
    check_fixture_net<network<deconv1d>>("deconv1d", {"W", "b"}, k_rtol, k_atol);
}
TEST_CASE("Deconvolution 2-D group 3 with output_padding vs torch") {
    check_fixture_net<network<deconv2d_group>>("deconv2d_group", {"W", "b"}, k_rtol, k_atol);
}
TEST_CASE("Deconvolution 2-D 1x1 no bias vs torch") {
    check_fixture_net<network<deconv2d_1x1>>("deconv2d_1x1", {"W"}, k_rtol, k_atol);
}
TEST_CASE("Deconvolution 3-D group 2 with output_padding vs torch") {
    check_fixture_net<network<deconv3d_group>>("deconv3d_group", {"W", "b"}, k_rtol, k_atol);
}
TEST_CASE("Deconvolution 2-D channel_last group 3 with output_padding vs torch") {
    check_fixture_net<network<deconv2d_cl_group>>("deconv2d_cl_group", {"W", "b"}, k_rtol, k_atol);
}
TEST_CASE("Deconvolution 2-D channel_last 1x1 group 2 vs torch") {
    check_fixture_net<network<deconv2d_cl_1x1_group>>("deconv2d_cl_1x1_group", {"W"}, k_rtol, k_atol);
}
TEST_CASE("Deconvolution 1-D channel_last with output_padding vs torch") {
    check_fixture_net<network<deconv1d_cl>>("deconv1d_cl", {"W", "b"}, k_rtol, k_atol);
}
TEST_CASE("DepthwiseDeconvolution 2-D divisor 2 vs torch") {
    check_fixture_net<network<depthwise_deconv2d_div2>>("depthwise_deconv2d_div2", {"W", "b"}, k_rtol,
                                                        k_atol);
}
TEST_CASE("DepthwiseDeconvolution 1-D no bias vs torch") {
    check_fixture_net<network<depthwise_deconv1d>>("depthwise_deconv1d", {"W"}, k_rtol, k_atol);
}
