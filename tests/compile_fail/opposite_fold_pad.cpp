// EXPECT: cannot fold BatchNormalization .*first-bn.* into Convolution .*first-conv.* with pad \(1,1\)
// LABELS: converters
// Opposite (BN -> conv) folding is exact only at padding 0: kata refuses upstream's pad-1 reference
// network (small_bn_opp_resnet) at compile time instead of producing wrong border values.
#include <kata/converters.hpp>
#include "../converters/ref_nets.hpp"
using Net = kata::network<ref::small_bn_opp_resnet<2, 1>>;
using Opp = kata::convert<Net, kata::BatchNormalizationFoldingModifier{.opposite = true}>;
static_assert(Opp::graph.num_functions() > 0);
