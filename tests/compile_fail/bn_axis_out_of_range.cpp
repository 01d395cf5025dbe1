// EXPECT: BatchNormalization: axis 4 out of range for x \(1,16,8,8\)
// Normalising over axis 4 of a 4-D input.
#include <kata/kata.hpp>
using namespace kata;
constexpr var net(builder& g) {
    auto x = g.input("x", {1, 16, 8, 8});
    auto p = g.parameter("p", {1, 16, 1, 1});
    return F::batch_normalization(x, p, p, p, p, bn_axis(4));
}
using Net = network<net>;
static_assert(Net::graph.num_functions() == 1);
