// EXPECT: DepthwiseConvolution: W\.shape\[0\] must equal input channels \* multiplier: x \(1,4,8,8\), W \(6,3,3\), multiplier 2
// A depthwise weight with 6 filters for 4 channels x multiplier 2 (needs 8).
#include <kata/kata.hpp>
using namespace kata;
constexpr var net(builder& g) {
    auto x = g.input("x", {1, 4, 8, 8});
    auto w = g.parameter("W", {6, 3, 3});
    return F::depthwise_convolution(x, w, {.multiplier = 2});
}
using Net = network<net>;
static_assert(Net::graph.num_functions() == 1);
