// EXPECT: ReLUGrad in scope [^ ]*head[^ ]* has no backward rule yet
// LABELS: train
// A training graph through an op kind without a backward rule does not compile; the message names the
// kind and its scope (kata/train/backward.hpp). The gradient kinds have none (no double backward).
#include <kata/kata.hpp>
#include <kata/train/backward.hpp>

using namespace kata;

constexpr var net(builder& g) {
    auto x = g.input("x", {2, 5});
    auto h = F::affine(x, g.parameter("fc/W", {5, 3}));
    auto s = g.scope("head");
    return F::sum(grad::make(op_kind::relu_grad, {h, h}, attributes{}, h.shape(), h.lay()));
}

int main() { return train::training_graph<network<net>>::graph.num_functions(); }
