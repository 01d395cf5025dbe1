// Deconvolution (forward, CPU), channel-last 3-D: x (N, D, H, W, C), W (C, kd, kh, kw, O/g), y (N, D',
// H', W', O) (tests/ops/deconvolution.cpp covers channel-last 1-D / 2-D and channel-first 3-D).
// References: torch conv_transpose3d in float64 on the permuted (channel-first) tensors
// (tools/fixtures/make_op_fixtures.py, deconvolution_cases), with groups, pad, stride, dilation and
// output_padding different on every axis; the 1x1x1 case takes the pointwise path (no col2im, batch
// folded into the GEMM's M). Tolerance: rtol 1e-5, atol 1e-5 (as deconvolution.cpp).
#include <doctest/doctest.h>

#include "../support/fixtures.hpp"

using namespace kata;
using kata::test::check_fixture_net;

namespace {

constexpr double k_rtol = 1e-5, k_atol = 1e-5;

// group 3: C = 6, O = 3 * 2; y (2, 5, 8, 9, 6)
constexpr var deconv3d_cl_group(builder& g) {
    auto x = g.input("x", {2, 3, 4, 5, 6}, layout::channel_last);
    return F::deconvolution(x, g.parameter("W", {6, 2, 3, 2, 2}), g.parameter("b", {6}),
                            {.pad = {1, 0, 1},
                             .stride = {2, 1, 2},
                             .dilation = {1, 2, 1},
                             .group = 3,
                             .channel_last = true,
                             .output_padding = {1, 0, 1}});
}
// group 1, no bias; output_padding 1 < dilation 2 on axis 0 (stride 1), 2 < stride 3 on axis 1
constexpr var deconv3d_cl(builder& g) {
    auto x = g.input("x", {1, 4, 3, 5, 3}, layout::channel_last);
    return F::deconvolution(x, g.parameter("W", {3, 3, 2, 3, 4}),
                            {.pad = {2, 0, 1},
                             .stride = {1, 3, 2},
                             .dilation = {2, 1, 1},
                             .channel_last = true,
                             .output_padding = {1, 2, 1}});
}
constexpr var deconv3d_cl_1x1_group(builder& g) {
    auto x = g.input("x", {2, 3, 2, 3, 4}, layout::channel_last);
    return F::deconvolution(x, g.parameter("W", {4, 1, 1, 1, 3}), g.parameter("b", {6}),
                            {.group = 2, .channel_last = true});
}

// 1x1x1 with stride (1,2,1), dilation (2,1,3), output_padding (1,1,2): the general path; y (2, 4, 8, 4, 6)
constexpr var deconv3d_cl_k1_opad(builder& g) {
    auto x = g.input("x", {2, 3, 4, 2, 4}, layout::channel_last);
    return F::deconvolution(x, g.parameter("W", {4, 1, 1, 1, 3}), g.parameter("b", {6}),
                            {.stride = {1, 2, 1},
                             .dilation = {2, 1, 3},
                             .group = 2,
                             .channel_last = true,
                             .output_padding = {1, 1, 2}});
}

}  // namespace

TEST_CASE("Deconvolution 3-D channel_last group 3, pad/stride/dilation/output_padding vs torch") {
    check_fixture_net<network<deconv3d_cl_group>>("deconv3d_cl_group", {"W", "b"}, k_rtol, k_atol);
}
TEST_CASE(
    "Deconvolution 3-D channel_last group 1 no bias, output_padding below dilation or stride vs torch") {
    check_fixture_net<network<deconv3d_cl>>("deconv3d_cl", {"W"}, k_rtol, k_atol);
}
TEST_CASE("Deconvolution 3-D channel_last 1x1x1 group 2 (pointwise path) vs torch") {
    check_fixture_net<network<deconv3d_cl_1x1_group>>("deconv3d_cl_1x1_group", {"W", "b"}, k_rtol, k_atol);
}
TEST_CASE(
    "Deconvolution 3-D channel_last 1x1x1 with stride, dilation and output_padding (general path) vs torch") {
    check_fixture_net<network<deconv3d_cl_k1_opad>>("deconv3d_cl_k1_opad", {"W", "b"}, k_rtol, k_atol);
}
