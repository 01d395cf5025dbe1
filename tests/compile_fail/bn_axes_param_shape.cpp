// EXPECT: BatchNormalization: gamma has shape \(1,6,1,1\) but x \(2,6,5,7\) with axes \[1,-2\] needs \(1,6,5,1\)
// axes [1, -2] (channel and height) with parameters sized for the channel axis alone: nnabla's parameter
// shape keeps every normalised axis.
#include <kata/kata.hpp>
using namespace kata;
constexpr var net(builder& g) {
    auto x = g.input("x", {2, 6, 5, 7});
    batch_normalization_args a;
    a.axes[0] = 1;
    a.axes[1] = -2;
    a.naxes = 2;
    const shape_t p{1, 6, 5, 1};
    return F::batch_normalization(x, g.parameter("beta", p), g.parameter("gamma", {1, 6, 1, 1}),
                                  g.parameter("mean", p), g.parameter("var", p), a);
}
using Net = network<net>;
static_assert(Net::graph.num_functions() == 1);
