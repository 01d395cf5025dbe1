// EXPECT: Concatenate: input 1 \(1,4,9,8\) does not match x0 \(1,3,8,8\) outside axis 1
// Concatenating on the channel axis, but the heights differ (8 vs 9).
#include <kata/kata.hpp>
using namespace kata;
constexpr var net(builder& g) {
    auto a = g.input("a", {1, 3, 8, 8});
    auto b = g.input("b", {1, 4, 9, 8});
    return F::concatenate({a, b}, 1);
}
using Net = network<net>;
static_assert(Net::graph.num_functions() == 1);
