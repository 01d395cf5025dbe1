// The embedded back end's convolution family (kata/embedded/kernels/convolution.hpp): Convolution,
// DepthwiseConvolution, Deconvolution, DepthwiseDeconvolution, channel-first and channel-last, 1-D to
// 3-D, groups, pad/stride/dilation, output_padding, base_axis 2, with and without bias. Each case runs
// on the embedded kernels and is compared with the PyTorch twin of tests/fixtures/ops (the same
// fixtures and networks as tests/ops/convolution.cpp, deconvolution.cpp, deconvolution_3d_cl.cpp) and
// with the CPU executor (im2col + sgemm / direct NHWC: a different summation order).
// Tolerance: rtol 1e-5, atol 1e-5 (as the CPU tests: float32 sums of at most 54 products of N(0,1)).
#include <doctest/doctest.h>

#include "../support/embedded_check.hpp"

using namespace kata;
using kata::test::check_embedded;
using kata::test::load_fixture;

namespace {

constexpr double k_rtol = 1e-5, k_atol = 1e-5;

template <class Net>
void check(const char* name, std::initializer_list<const char*> params) {
    check_embedded<Net>(load_fixture(std::string("ops/") + name + ".npz"), params, {"y"}, k_rtol, k_atol);
}

// ---- Convolution ----
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
// ---- DepthwiseConvolution ----
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
// ---- Deconvolution ----
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
constexpr var deconv3d_cl(builder& g) {
    auto x = g.input("x", {1, 4, 3, 5, 3}, layout::channel_last);
    return F::deconvolution(x, g.parameter("W", {3, 3, 2, 3, 4}),
                            {.pad = {2, 0, 1},
                             .stride = {1, 3, 2},
                             .dilation = {2, 1, 1},
                             .channel_last = true,
                             .output_padding = {1, 2, 1}});
}
constexpr var deconv3d_cl_k1_opad(builder& g) {
    auto x = g.input("x", {2, 3, 4, 2, 4}, layout::channel_last);
    return F::deconvolution(x, g.parameter("W", {4, 1, 1, 1, 3}), g.parameter("b", {6}),
                            {.stride = {1, 2, 1},
                             .dilation = {2, 1, 3},
                             .group = 2,
                             .channel_last = true,
                             .output_padding = {1, 1, 2}});
}
// ---- DepthwiseDeconvolution ----
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

TEST_CASE("embedded Convolution channel-first: 1-D/2-D/3-D, groups, pad/stride/dilation, base_axis") {
    check<network<conv1d>>("conv1d", {"W", "b"});
    check<network<conv2d_group>>("conv2d_group", {"W", "b"});
    check<network<conv2d_1x1_group>>("conv2d_1x1_group", {"W"});
    check<network<conv2d_group_eq_c>>("conv2d_group_eq_c", {"W", "b"});
    check<network<conv3d_group>>("conv3d_group", {"W", "b"});
    check<network<conv2d_base_axis2>>("conv2d_base_axis2", {"W", "b"});
}
TEST_CASE("embedded Convolution channel-last: 1-D/2-D/3-D, groups") {
    check<network<conv2d_cl_group>>("conv2d_cl_group", {"W", "b"});
    check<network<conv2d_cl_1x1_group>>("conv2d_cl_1x1_group", {"W"});
    check<network<conv3d_cl_group>>("conv3d_cl_group", {"W", "b"});
    check<network<conv1d_cl>>("conv1d_cl", {"W", "b"});
}
TEST_CASE("embedded DepthwiseConvolution: multipliers 1, 2, 3") {
    check<network<depthwise_conv2d_mult2>>("depthwise_conv2d_mult2", {"W", "b"});
    check<network<depthwise_conv1d>>("depthwise_conv1d", {"W"});
    check<network<depthwise_conv2d_mult3>>("depthwise_conv2d_mult3", {"W", "b"});
}
TEST_CASE("embedded Deconvolution channel-first: groups, output_padding, 1x1") {
    check<network<deconv1d>>("deconv1d", {"W", "b"});
    check<network<deconv2d_group>>("deconv2d_group", {"W", "b"});
    check<network<deconv2d_1x1>>("deconv2d_1x1", {"W"});
    check<network<deconv3d_group>>("deconv3d_group", {"W", "b"});
}
TEST_CASE("embedded Deconvolution channel-last: 1-D/2-D/3-D, groups, output_padding") {
    check<network<deconv2d_cl_group>>("deconv2d_cl_group", {"W", "b"});
    check<network<deconv2d_cl_1x1_group>>("deconv2d_cl_1x1_group", {"W"});
    check<network<deconv1d_cl>>("deconv1d_cl", {"W", "b"});
    check<network<deconv3d_cl_group>>("deconv3d_cl_group", {"W", "b"});
    check<network<deconv3d_cl>>("deconv3d_cl", {"W"});
    check<network<deconv3d_cl_k1_opad>>("deconv3d_cl_k1_opad", {"W", "b"});
}
TEST_CASE("embedded DepthwiseDeconvolution: divisors 1 and 2") {
    check<network<depthwise_deconv2d_div2>>("depthwise_deconv2d_div2", {"W", "b"});
    check<network<depthwise_deconv1d>>("depthwise_deconv1d", {"W"});
}
