// EXPECT: no gradient for mean and var: create them with need_grad=false
// LABELS: train
// BatchNormalization's running statistics get no gradient: a training graph whose mean/var parameters
// have need_grad=true is a compile error saying so (PF::batch_normalization creates them with false).
#include <kata/kata.hpp>
#include <kata/train/backward.hpp>

using namespace kata;

constexpr var net(builder& g) {
    auto x = g.input("x", {4, 3, 2, 2});
    auto h = F::batch_normalization(x, g.parameter("beta", {1, 3, 1, 1}), g.parameter("gamma", {1, 3, 1, 1}),
                                    g.parameter("mean", {1, 3, 1, 1}), g.parameter("var", {1, 3, 1, 1}));
    return F::sum(h);
}

int main() { return train::training_graph<network<net>>::graph.num_functions(); }
