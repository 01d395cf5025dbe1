// EXPECT: BatchNormalization: beta has shape \(1,8,1,1\) but x \(1,16,8,8\) with axes \[1\] needs \(1,16,1,1\)
// beta sized for 8 channels on a 16-channel input.
#include <kata/kata.hpp>
using namespace kata;
constexpr var net(builder& g) {
    auto x = g.input("x", {1, 16, 8, 8});
    auto beta = g.parameter("beta", {1, 8, 1, 1});
    auto gamma = g.parameter("gamma", {1, 16, 1, 1});
    auto mean = g.parameter("mean", {1, 16, 1, 1});
    auto var_ = g.parameter("var", {1, 16, 1, 1});
    return F::batch_normalization(x, beta, gamma, mean, var_);
}
using Net = network<net>;
static_assert(Net::graph.num_functions() == 1);
