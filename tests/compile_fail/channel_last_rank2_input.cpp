// EXPECT: ChannelLastModifier: input .*feat.* \(4,10\) has no channel and spatial axes \(rank < 3\)
// LABELS: converters
// Naming a 2-D input (batch, features) for the channel-last conversion: it has no channel axis to move,
// so kata refuses at compile time (upstream's hard-coded 4-D transposes would fail at run time).
#include <kata/converters.hpp>
#include <kata/kata.hpp>
constexpr kata::var net(kata::builder& g) {
    using namespace kata;
    var x = g.input("x", {1, 3, 8, 8});
    var f = g.input("feat", {4, 10});
    g.output(PF::convolution(x, 4, {3, 3}, {.name = "conv"}));
    return PF::affine(f, 5, {.name = "fc"});
}
using Net = kata::network<net>;
using Cl = kata::convert<Net, kata::ChannelLastModifier{{"x", "feat"}}>;
static_assert(Cl::graph.num_functions() > 0);
