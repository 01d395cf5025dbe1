// EXPECT: name too long \(kata::name_string holds 95 characters\): \\?'block_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\\?'
// A 96-character parameter scope does not fit kata::name_string (95 characters + NUL).
#include <kata/kata.hpp>
using namespace kata;
constexpr var net(builder& g) {
    auto x = g.input("x", {1, 3, 8, 8});
    auto s = g.scope(
        "block_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    return PF::convolution(x, 8, {3, 3});
}
using Net = network<net>;
static_assert(Net::graph.num_functions() == 1);
