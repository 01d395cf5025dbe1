// EXPECT: cannot fold BatchNormalization .*bn.* into Deconvolution .*deconv.* with pad \(2,2\), stride \(2,1\)
// LABELS: converters
// Enough padding does not help a strided Deconvolution: with stride 2 an output position receives only
// the taps of its phase, so b + sum(W c1) over all taps is wrong everywhere. Refused at compile time.
#include <kata/converters.hpp>
#include "../converters/ref_nets.hpp"
constexpr kata::var net(kata::builder& g) {
    kata::var h = kata::PF::batch_normalization(g.input("x", {1, 4, 9, 9}), ref::bn(true, "bn"));
    return kata::PF::deconvolution(h, 4, {3, 3}, {.pad = {2, 2}, .stride = {2, 1}, .name = "deconv"});
}
using Opp = kata::convert<kata::network<net>, kata::BatchNormalizationFoldingModifier{.opposite = true}>;
static_assert(Opp::graph.num_functions() > 0);
