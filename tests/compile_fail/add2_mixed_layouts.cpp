// EXPECT: Add2: mixes layouts: x0 \(1,8,8,8\) is channel_first, x1 \(1,8,8,8\) is channel_last
// Adding an NCHW activation to an NHWC one of the same shape.
#include <kata/kata.hpp>
using namespace kata;
constexpr var net(builder& g) {
    auto a = g.input("a", {1, 8, 8, 8});
    auto b = g.input("b", {1, 8, 8, 8}, NHWC);
    return F::add2(a, b);
}
using Net = network<net>;
static_assert(Net::graph.num_functions() == 1);
