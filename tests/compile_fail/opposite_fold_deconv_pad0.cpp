// EXPECT: cannot fold BatchNormalization .*dcn-deconv1/bn1.* into Deconvolution .*dcn-deconv1/deconv2.* with pad \(0,\), stride \(1,\).*= \(2,\)
// LABELS: converters
// Unlike a Convolution, a Deconvolution with pad 0 is NOT exact for opposite folding (for k > 1 the
// border outputs receive fewer taps): a 3x3 (here 1-D, k = 3) pad-0 Deconvolution after a BN is refused.
// The 1x1 pad-0 case is exact and folds (converters/bn_folding_deconv_opposite.cpp).
#include <kata/converters.hpp>
#include "../converters/ref_nets_folding.hpp"
using Net = kata::network<ref::small_bn_opp_dcn<1, false, 3, 0>>;
using Opp = kata::convert<Net, kata::BatchNormalizationFoldingModifier{.opposite = true}>;
static_assert(Opp::graph.num_functions() > 0);
