// EXPECT: QAffine: requant must have shape \(2, output channels\): x \(1,6\), W \(6,4\), b \(4,\), requant \(2,3\)
// LABELS: embedded
// The requantization table has 3 columns for 4 outputs (kata/ops/quantized.hpp checks it when the graph is built).
#include <kata/kata.hpp>
using namespace kata;
constexpr var net(builder& g) {
    auto x = g.input("x", {1, 6}, layout::none, dtype::i8);
    auto w = detail::typed_parameter(g, "W", {6, 4}, dtype::i8);
    auto b = detail::typed_parameter(g, "b", {4}, dtype::i32);
    auto rq = detail::typed_parameter(g, "requant", {2, 3}, dtype::i32);
    return F::qaffine(x, w, b, rq);
}
using Net = network<net>;
static_assert(Net::graph.num_functions() == 1);
