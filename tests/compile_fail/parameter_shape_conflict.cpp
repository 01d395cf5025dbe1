// EXPECT: Parameter \\?'conv1/conv/W\\?' already exists with shape \(16,3,3,3\) but was requested with shape \(16,16,3,3\)
// Two PF::convolution calls share the scope name "conv1" but see different input channel counts.
#include <kata/kata.hpp>
using namespace kata;
constexpr var net(builder& g) {
    auto x = g.input("x", {1, 3, 8, 8});
    auto h = PF::convolution(x, 16, {3, 3}, {.pad = {1, 1}, .name = "conv1"});
    return PF::convolution(h, 16, {3, 3}, {.pad = {1, 1}, .name = "conv1"});
}
using Net = network<net>;
static_assert(Net::graph.num_functions() == 2);
