// Affine (forward, CPU) against torch.nn.functional.linear (W is nnabla's (in, out), i.e. the
// transpose of torch's weight; base_axis flattening; multi-dimensional W.shape[1:]).
// Tolerance: rtol 1e-5, atol 1e-5.
#include <doctest/doctest.h>

#include "../support/fixtures.hpp"

using namespace kata;
using kata::test::check_fixture_net;

namespace {

constexpr double k_rtol = 1e-5, k_atol = 1e-5;

constexpr var affine_2d(builder& g) {
    auto x = g.input("x", {5, 13});
    return F::affine(x, g.parameter("W", {13, 7}), g.parameter("b", {7}));
}
constexpr var affine_4d(builder& g) {
    auto x = g.input("x", {3, 4, 5, 3});
    return F::affine(x, g.parameter("W", {60, 9}), g.parameter("b", {9}));
}
constexpr var affine_base2_multiout(builder& g) {
    auto x = g.input("x", {2, 3, 5, 7});
    return F::affine(x, g.parameter("W", {35, 4, 3}), g.parameter("b", {4, 3}), {.base_axis = 2});
}
constexpr var affine_nobias(builder& g) {
    auto x = g.input("x", {3, 11});
    return F::affine(x, g.parameter("W", {11, 5}));
}

}  // namespace

TEST_CASE("Affine 2-D input vs torch") {
    check_fixture_net<network<affine_2d>>("affine_2d", {"W", "b"}, k_rtol, k_atol);
}
TEST_CASE("Affine 4-D input flattened from base_axis 1 vs torch") {
    check_fixture_net<network<affine_4d>>("affine_4d", {"W", "b"}, k_rtol, k_atol);
}
TEST_CASE("Affine base_axis 2 with W (35,4,3) vs torch") {
    static_assert(
        network<affine_base2_multiout>::graph.nodes[network<affine_base2_multiout>::graph.outputs[0]].shape ==
        shape_t{2, 3, 4, 3});
    check_fixture_net<network<affine_base2_multiout>>("affine_base2_multiout", {"W", "b"}, k_rtol, k_atol);
}
TEST_CASE("Affine without bias vs torch") {
    check_fixture_net<network<affine_nobias>>("affine_nobias", {"W"}, k_rtol, k_atol);
}
