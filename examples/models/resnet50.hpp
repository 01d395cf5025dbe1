// examples/models/resnet50.hpp
//
// ResNet-50 as a kata graph, in the layout of nnabla's models.imagenet.ResNet50 / torchvision's
// resnet50 (v1.5: the stride of a down-sampling bottleneck is on its 3x3 convolution):
//     kata::models::resnet50<ChannelLast>(x)          the body on an existing input
//     kata::models::resnet50_net<Batch, ChannelLast>  a complete network definition
//
// Parameter names follow torchvision's module tree with nnabla-style parametric scopes, e.g.
// "layer2/0/conv2/conv/W", "layer2/0/downsample/bn/mean", "fc/affine/W", so that weights can be
// moved from a PyTorch state_dict by a mechanical rename: examples/models/resnet50_torchvision.hpp
// holds those rules (store.load(path, kata::models::resnet50_torchvision_mapping())).
//
// The definition is shared with ResNet-101 and ResNet-152 (examples/models/resnet.hpp, the same
// bottleneck network with other block counts).
#pragma once

#include "resnet.hpp"
