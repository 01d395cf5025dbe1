// EXPECT: FixedPointQuantize: needs n > 0 .*got n=0 delta=0\.062500 sign=true
// n = 0 bits.
#include <kata/kata.hpp>
using namespace kata;
constexpr var net(builder& g) {
    auto x = g.input("x", {1, 3, 4, 4});
    return F::fixed_point_quantize(x, {.n = 0});
}
using Net = network<net>;
static_assert(Net::graph.num_functions() == 1);
