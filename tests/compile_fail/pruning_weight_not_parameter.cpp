// EXPECT: PruningModifier: cannot prune Convolution .*conv.*: its weight is the graph input .*w.*, not a parameter
// LABELS: converters
// w-pruned is derived from the weight's parameter value by apply_conversion; a convolution whose
// weight is a graph input (or computed) cannot be pruned, so kata refuses it at compile time instead of
// silently keeping it (upstream prunes a snapshot of the current data).
#include <kata/converters.hpp>
constexpr kata::var net(kata::builder& g) {
    auto x = g.input("x", {1, 4, 8, 8});
    auto w = g.input("w", {8, 4, 3, 3});
    auto s = g.scope("conv");
    return kata::F::convolution(x, w);
}
using Pruned = kata::convert<kata::network<net>, kata::PruningModifier{.threshold = 0.1}>;
static_assert(Pruned::graph.num_functions() > 0);
