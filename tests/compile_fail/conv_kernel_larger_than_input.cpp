// EXPECT: Convolution in scope \\?'conv\\?': input x \(1,3,4,4\) is smaller than the dilated kernel \(8,3,5,5\) on spatial axis 0 \(pad 0, dilation 1\)
// A 5x5 kernel on a 4x4 input without padding.
#include <kata/kata.hpp>
using namespace kata;
constexpr var net(builder& g) {
    auto x = g.input("x", {1, 3, 4, 4});
    return PF::convolution(x, 8, {5, 5});
}
using Net = network<net>;
static_assert(Net::graph.num_functions() == 1);
