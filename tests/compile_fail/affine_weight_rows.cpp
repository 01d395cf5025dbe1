// EXPECT: Affine: prod\(x\.shape\[base_axis:\]\) must equal W\.shape\[0\]: x \(2,3,4,4\), W \(40,10\), base_axis 1
// prod(3,4,4) = 48 but W has 40 rows.
#include <kata/kata.hpp>
using namespace kata;
constexpr var net(builder& g) {
    auto x = g.input("x", {2, 3, 4, 4});
    auto w = g.parameter("W", {40, 10});
    return F::affine(x, w);
}
using Net = network<net>;
static_assert(Net::graph.num_functions() == 1);
