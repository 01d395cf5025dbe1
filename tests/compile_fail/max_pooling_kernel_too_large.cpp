// EXPECT: MaxPooling: kernel larger than the padded input: x \(1,3,4,4\), kernel of 2 axes
// A 5x5 window (stride 1) on a 4x4 map.
#include <kata/kata.hpp>
using namespace kata;
constexpr var net(builder& g) {
    auto x = g.input("x", {1, 3, 4, 4});
    return F::max_pooling(x, {5, 5}, {.stride = {1, 1}});
}
using Net = network<net>;
static_assert(Net::graph.num_functions() == 1);
