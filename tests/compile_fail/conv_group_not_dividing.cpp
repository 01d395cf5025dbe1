// EXPECT: Convolution in scope \\?'conv1/conv\\?': input channels are not divisible by group: x \(1,6,8,8\), W \(8,1,3,3\), group 4
// group=4 does not divide the 6 input channels.
#include <kata/kata.hpp>
using namespace kata;
constexpr var net(builder& g) {
    auto x = g.input("x", {1, 6, 8, 8});
    return PF::convolution(x, 8, {3, 3}, {.group = 4, .name = "conv1"});
}
using Net = network<net>;
static_assert(Net::graph.num_functions() == 1);
