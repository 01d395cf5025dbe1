// EXPECT: Softmax: axis 2 out of range for x \(2,10\)
// A 2-D input has axes 0 and 1 only.
#include <kata/kata.hpp>
using namespace kata;
constexpr var net(builder& g) {
    auto x = g.input("x", {2, 10});
    return F::softmax(x, 2);
}
using Net = network<net>;
static_assert(Net::graph.num_functions() == 1);
