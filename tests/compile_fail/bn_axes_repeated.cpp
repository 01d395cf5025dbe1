// EXPECT: BatchNormalization: axis -3 repeats axis 1 in axes \[1,-3\] for x \(2,6,5,7\)
// axes [1, -3] on a 4-D input name the same axis twice.
#include <kata/kata.hpp>
using namespace kata;
constexpr var net(builder& g) {
    auto x = g.input("x", {2, 6, 5, 7});
    batch_normalization_args a;
    a.axes[0] = 1;
    a.axes[1] = -3;
    a.naxes = 2;
    const shape_t p{1, 6, 1, 1};
    return F::batch_normalization(x, g.parameter("beta", p), g.parameter("gamma", p), g.parameter("mean", p),
                                  g.parameter("var", p), a);
}
using Net = network<net>;
static_assert(Net::graph.num_functions() == 1);
