// EXPECT: MaxPooling: kernel larger than the padded input: x \(1,3,4,4\), kernel of 2 axes
// A 5x5 window on a 4x4 map with the default stride (= kernel): (4 - 5) / 5 truncates to 0 in C++,
// so the check must come before the division.
#include <kata/kata.hpp>
constexpr kata::var net(kata::builder& g) {
    auto x = g.input("x", {1, 3, 4, 4});
    return kata::F::max_pooling(x, {5, 5});
}
using Net = kata::network<net>;
static_assert(Net::graph.size() > 0);
