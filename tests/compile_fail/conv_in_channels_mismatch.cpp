// EXPECT: Convolution: input channels of x do not match W .*: x \(1,3,32,32\), W \(16,4,3,3\), group 1, channel_first
// F::convolution with an explicit weight whose in-channels (4) do not match x's channels (3).
#include <kata/kata.hpp>
using namespace kata;
constexpr var net(builder& g) {
    auto x = g.input("x", {1, 3, 32, 32});
    auto w = g.parameter("W", {16, 4, 3, 3});
    return F::convolution(x, w, {.pad = {1, 1}});
}
using Net = network<net>;
static_assert(Net::graph.num_functions() == 1);
