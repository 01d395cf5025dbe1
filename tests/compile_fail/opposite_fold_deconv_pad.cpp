// EXPECT: cannot fold BatchNormalization .*dcn-deconv1/bn1.* into Deconvolution .*dcn-deconv1/deconv2.* with pad \(1,1\), stride \(1,1\).*pad >= dilation \(kernel - 1\) \+ output_padding = \(2,2\)
// LABELS: converters
// Opposite (BN -> Deconvolution) folding is exact only when every output position receives every tap
// (stride 1, pad >= dilation (k - 1) + output_padding): upstream's small_bn_opp_dcn (3x3, pad 1) is
// refused at compile time instead of giving wrong border values.
#include <kata/converters.hpp>
#include "../converters/ref_nets_folding.hpp"
using Net = kata::network<ref::small_bn_opp_dcn<2, false, 3, 1>>;
using Opp = kata::convert<Net, kata::BatchNormalizationFoldingModifier{.opposite = true}>;
static_assert(Opp::graph.num_functions() > 0);
