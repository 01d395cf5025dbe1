// EXPECT: cannot fold BatchNormalization .*first-bn.* into Convolution .*first-conv.* with pad \(1,1\)
// LABELS: converters
// Opposite (BN -> conv) folding of a channel-last Convolution is exact only at padding 0 as well:
// upstream's pad-1 small_bn_opp_resnet written channel-last is refused at compile time.
#include "../converters/ref_nets_folding.hpp"
#include <kata/converters.hpp>
using Net = kata::network<ref::small_bn_opp_resnet_l<2, true, 1>>;
using Opp =
    kata::convert<Net, kata::BatchNormalizationFoldingModifier{.opposite = true, .channel_last = true}>;
static_assert(Opp::graph.num_functions() > 0);
