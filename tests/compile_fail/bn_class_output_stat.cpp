// EXPECT: output_stat=true is not supported
// kata::BatchNormalization's output_stat (extra batch mean/var outputs) cannot be represented: kata
// functions have one output. Building such a graph is a compile-time error naming the option.
#include <kata/kata.hpp>

constexpr kata::var net(kata::builder& g) {
    kata::BatchNorm2d bn(3, {.name = "bn", .output_stat = true});
    return bn(g.input("x", {1, 3, 4, 4}));
}
using Net = kata::network<net>;
static_assert(Net::graph.size() > 0);
