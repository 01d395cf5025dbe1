// EXPECT: Convolution in scope \\?'conv1/conv\\?': pad has 3 entries but the op has 2 spatial dimensions
// A 3-entry pad on a 2-D convolution.
#include <kata/kata.hpp>
using namespace kata;
constexpr var net(builder& g) {
    auto x = g.input("x", {1, 3, 16, 16});
    return PF::convolution(x, 8, {3, 3}, {.pad = {1, 1, 1}, .name = "conv1"});
}
using Net = network<net>;
static_assert(Net::graph.num_functions() == 1);
