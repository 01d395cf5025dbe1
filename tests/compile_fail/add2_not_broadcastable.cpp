// EXPECT: Add2: shapes cannot be broadcast: x0 \(1,3,8,8\), x1 \(1,4,8,8\)
// 3 channels + 4 channels: neither is 1, so numpy broadcasting fails.
#include <kata/kata.hpp>
using namespace kata;
constexpr var net(builder& g) {
    auto a = g.input("a", {1, 3, 8, 8});
    auto b = g.input("b", {1, 4, 8, 8});
    return a + b;
}
using Net = network<net>;
static_assert(Net::graph.num_functions() == 1);
