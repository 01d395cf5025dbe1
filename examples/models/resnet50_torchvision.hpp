// examples/models/resnet50_torchvision.hpp
//
// The rename rules that load torchvision's ResNet-50 weights into kata's ResNet-50
// (examples/models/resnet50.hpp) in one call:
//
//     // python: numpy.savez("resnet50_tv.npz", **{k: v.numpy() for k, v in model.state_dict().items()})
//     kata::parameter_store store;
//     store.load("resnet50_tv.npz", kata::models::resnet50_torchvision_mapping());
//
// What the rules do (torchvision name -> kata name, shape change):
//   conv1.weight                        -> conv1/conv/W                    (64, 3, 7, 7) as is
//   bn1.{weight,bias,running_mean,running_var}
//                                       -> conv1/bn/{gamma,beta,mean,var}  (C,) -> (1, C, 1, 1)
//   layerL.B.convK.weight               -> layerL/B/convK/conv/W           as is
//   layerL.B.bnK.*                      -> layerL/B/convK/bn/*             (C,) -> (1, C, 1, 1)
//   layerL.B.downsample.0.weight        -> layerL/B/downsample/conv/W      as is
//   layerL.B.downsample.1.*             -> layerL/B/downsample/bn/*        (C,) -> (1, C, 1, 1)
//   fc.weight                           -> fc/affine/W                     (out, in) -> (in, out): transposed
//   fc.bias                             -> fc/affine/b                     as is
//   *.num_batches_tracked               dropped (a training counter; nnabla/kata keep no such thing)
// For the channel-last network (resnet50_net<B, true>) pass channel_last = true: convolution weights
// are transposed to (out, kh, kw, in) and batch-norm vectors reshaped to (1, 1, 1, C).
//
// Any other entry is an error naming it (unmatched_entries::error): a file that is not a torchvision
// ResNet-50 state dict does not half-load. With load_mode::strict, every kata parameter must also
// come from the file. tests/io/mapped_load.cpp checks the rules against the full list of
// torchvision's state-dict entries (tests/fixtures/io/resnet50_torchvision_keys.txt, written by
// tools/fixtures/make_torchvision_fixtures.py) and against kata's ResNet-50 graph.
#pragma once

#include <kata/io/name_mapping.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace kata::models {

inline io::name_mapping resnet50_torchvision_mapping(bool channel_last = false) {
    using io::rename_rule;
    using io::tensor_transform;
    const tensor_transform conv =
        channel_last ? tensor_transform::transpose({0, 2, 3, 1}) : tensor_transform{};
    const tensor_transform bn = tensor_transform::reshape(
        channel_last ? std::vector<std::int64_t>{1, 1, 1, -1} : std::vector<std::int64_t>{1, -1, 1, 1});
    io::name_mapping m;
    m.rules.push_back(rename_rule::skip("**.num_batches_tracked"));
    m.rules.push_back({"conv1.weight", "conv1/conv/W", conv});
    m.rules.push_back({"layer*.*.conv*.weight", "layer*/*/conv*/conv/W", conv});
    m.rules.push_back({"layer*.*.downsample.0.weight", "layer*/*/downsample/conv/W", conv});
    const std::pair<const char*, const char*> bn_names[] = {
        {"weight", "gamma"}, {"bias", "beta"}, {"running_mean", "mean"}, {"running_var", "var"}};
    for (const auto& [torch_name, kata_name] : bn_names) {
        m.rules.push_back({std::string("bn1.") + torch_name, std::string("conv1/bn/") + kata_name, bn});
        m.rules.push_back(
            {std::string("layer*.*.bn*.") + torch_name, std::string("layer*/*/conv*/bn/") + kata_name, bn});
        m.rules.push_back({std::string("layer*.*.downsample.1.") + torch_name,
                           std::string("layer*/*/downsample/bn/") + kata_name, bn});
    }
    m.rules.push_back({"fc.weight", "fc/affine/W", tensor_transform::transpose({1, 0})});
    m.rules.push_back({"fc.bias", "fc/affine/b", {}});
    return m;
}

}  // namespace kata::models
