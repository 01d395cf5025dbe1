// EXPECT: TopNError[^:]*: is a metric and has no gradient, but the loss depends on it
// LABELS: train
// TopNError is a metric (nnabla computes no gradient for it): a loss that depends on it does not compile
// (kata/ops/backward.hpp); as another output of the network it is allowed (tests/train/backward_vs_torch.cpp).
#include <kata/kata.hpp>
#include <kata/train/backward.hpp>

using namespace kata;

constexpr var net(builder& g) {
    auto x = g.input("x", {4, 5});
    auto t = g.input("t", {4, 1}, layout::none, dtype::i32);
    auto y = F::affine(x, g.parameter("fc/W", {5, 3}));
    auto s = g.scope("metric");
    return F::mean(F::softmax_cross_entropy(y, t)) + F::mean(F::top_n_error(y, t));
}

int main() { return train::training_graph<network<net>>::graph.num_functions(); }
