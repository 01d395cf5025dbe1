// EXPECT: FusedBatchNormalization in scope \\?'bn\\?': residual z \(1,8,4,4\) must have the shape of x \(1,8,8,8\)
// The residual input z of a fused BN must have x's shape.
#include <kata/kata.hpp>
using namespace kata;
constexpr var net(builder& g) {
    auto x = g.input("x", {1, 8, 8, 8});
    auto z = g.input("z", {1, 8, 4, 4});
    return PF::fused_batch_normalization(x, z);
}
using Net = network<net>;
static_assert(Net::graph.num_functions() == 1);
