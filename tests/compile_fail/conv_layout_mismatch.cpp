// EXPECT: Convolution in scope \\?'conv\\?': input x \(1,3,32,32\) is channel_first but the op was called with channel_last=true
// channel_last convolution applied to a channel-first (NCHW) input.
#include <kata/kata.hpp>
using namespace kata;
constexpr var net(builder& g) {
    auto x = g.input("x", {1, 3, 32, 32});
    return PF::convolution(x, 16, {3, 3}, {.channel_last = true});
}
using Net = network<net>;
static_assert(Net::graph.num_functions() == 1);
