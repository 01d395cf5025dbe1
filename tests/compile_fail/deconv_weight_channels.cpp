// EXPECT: Deconvolution: W\.shape\[0\] must equal the input channels: x \(1,8,4,4\), W \(4,16,3,3\), group 1
// Deconvolution weight (I, O/g, kh, kw) whose first axis (4) is not x's channel count (8).
#include <kata/kata.hpp>
using namespace kata;
constexpr var net(builder& g) {
    auto x = g.input("x", {1, 8, 4, 4});
    auto w = g.parameter("W", {4, 16, 3, 3});
    return F::deconvolution(x, w);
}
using Net = network<net>;
static_assert(Net::graph.num_functions() == 1);
