// EXPECT: Convolution: bias b \(8,\) must have shape \(16,\)
// The bias has 8 entries but W has 16 output channels.
#include <kata/kata.hpp>
using namespace kata;
constexpr var net(builder& g) {
    auto x = g.input("x", {1, 3, 16, 16});
    auto w = g.parameter("W", {16, 3, 3, 3});
    auto b = g.parameter("b", {8});
    return F::convolution(x, w, b);
}
using Net = network<net>;
static_assert(Net::graph.num_functions() == 1);
