// EXPECT: Embed in scope \\?'embed\\?': indices x \(4,7\) must be int32 and W \(100,16\) must have rank >= 2
// Embed indices given as float32 instead of int32.
#include <kata/kata.hpp>
using namespace kata;
constexpr var net(builder& g) {
    auto x = g.input("x", {4, 7});
    return PF::embed(x, 100, 16);
}
using Net = network<net>;
static_assert(Net::graph.num_functions() == 1);
