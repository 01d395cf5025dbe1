// EXPECT: Reshape: cannot reshape \(1,3,8,8\) to \(1,100\) \(different number of elements\)
// 192 elements cannot become 100.
#include <kata/kata.hpp>
using namespace kata;
constexpr var net(builder& g) {
    auto x = g.input("x", {1, 3, 8, 8});
    return F::reshape(x, {1, 100});
}
using Net = network<net>;
static_assert(Net::graph.num_functions() == 1);
