// EXPECT: Affine in scope [^:]*q[^:]*: base_axis -1 is out of range for x \(2,5\) \(0 <= base_axis < 2\)\\000
// The fixed-point parametric Affine sizes W like PF::affine: a bad base_axis is reported without
// naming an invented weight (the old message said "W (1,3)").
#include <kata/kata.hpp>
using namespace kata;
constexpr var net(builder& g) {
    auto x = g.input("x", {2, 5});
    return PF::fixed_point_quantized_affine(x, 3, {.base_axis = -1, .name = "q"});
}
using Net = network<net>;
static_assert(Net::graph.num_functions() == 1);
