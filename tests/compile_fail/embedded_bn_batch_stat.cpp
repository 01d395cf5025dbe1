// EXPECT: kata::embedded: BatchNormalization runs in test mode only \(batch_stat = false\)
// LABELS: embedded
// The embedded back end refuses training-mode BatchNormalization: it would write the running statistics,
// which an embedded build keeps as constants in flash.
#include <kata/embedded/kernels.hpp>
#include <kata/kata.hpp>
using namespace kata;
constexpr var net(builder& g) {
    auto x = g.input("x", {1, 3, 4, 4});
    const shape_t p{1, 3, 1, 1};
    return F::batch_normalization(x, g.parameter("beta", p), g.parameter("gamma", p), g.parameter("mean", p),
                                  g.parameter("var", p), bn_axis(1, true));
}
using Net = network<net>;
void run(const kata::exec::kernel_io& io) {
    constexpr int id = Net::graph.outputs[0];
    embedded::kernel<op_kind::batch_normalization>::run<exec::instance_of<Net::graph>(id)>(io);
}
