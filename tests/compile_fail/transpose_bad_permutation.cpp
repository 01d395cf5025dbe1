// EXPECT: Transpose: axes are not a permutation of the 4 axes of x \(1,3,8,8\)
// Axis 2 appears twice, axis 3 never.
#include <kata/kata.hpp>
using namespace kata;
constexpr var net(builder& g) {
    auto x = g.input("x", {1, 3, 8, 8});
    return F::transpose(x, {0, 2, 2, 1});
}
using Net = network<net>;
static_assert(Net::graph.num_functions() == 1);
