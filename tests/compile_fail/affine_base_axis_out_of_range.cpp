// EXPECT: Affine in scope [^:]*fc[^:]*: base_axis 3 is out of range for x \(2,3,4\) \(0 <= base_axis < 3\)\\000
// PF::affine sizes W from prod(x.shape[base_axis:]); with base_axis past the last axis the old message
// named an invented weight ("x (2,3,4), W (1,10), base_axis 3"). The message must end after the range:
// no W is named (the regex anchors on the message's terminating \000 in the printed template argument).
#include <kata/kata.hpp>
using namespace kata;
constexpr var net(builder& g) {
    auto x = g.input("x", {2, 3, 4});
    return PF::affine(x, 10, {.base_axis = 3, .name = "fc"});
}
using Net = network<net>;
static_assert(Net::graph.num_functions() == 1);
