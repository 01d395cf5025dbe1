// EXPECT: IdentityModifier\(copy_value=true\): input .*x.* has shape \(1,3,32,32\) but its replacement has shape \(4,3,32,32\)
// LABELS: converters
// copy_value requires the replacement input to have the original's shape (nnabla: a ValueError).
#include <kata/converters.hpp>
#include "../converters/ref_nets.hpp"
using Net = kata::network<ref::small_bn_resnet<2, true, false>>;
using Id = kata::convert<Net, kata::IdentityModifier{.inputs = {{"x", {4, 3, 32, 32}}}, .copy_value = true}>;
static_assert(Id::graph.num_functions() > 0);
