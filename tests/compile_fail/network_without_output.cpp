// EXPECT: invalid_graph<kata::message_string\{"network defines no output
// A void network function that never calls g.output().
#include <kata/kata.hpp>
using namespace kata;
constexpr void net(builder& g) {
    auto x = g.input("x", {1, 3, 8, 8});
    (void)F::relu(x);
}
using Net = network<net>;
static_assert(Net::graph.size() > 0);
