// kata/converters/unfused_batch_normalization.hpp
//
// UnfusedBatchNormalizationModifier (nnabla, docs/nnabla-semantics.md §2.7): FusedBatchNormalization(x, beta,
// gamma, mean, var[, z], relu) becomes BatchNormalization(x, beta, gamma, mean, var) [-> Add2(h, z)] -> ReLU
// with the fused function's arguments (axes, decay_rate, eps, batch_stat).
//
// kata vs upstream: each layer keeps ITS OWN parameters (upstream builds every BN with the parametric
// default scope `bn/`, so all unfused layers share one fresh, untrained parameter set); the Add2 is
// built as h + z, so unfusing a fused small_bn_resnet gives back exactly the original graph (upstream:
// z + h, the same values).
#pragma once

#include "function_modifier.hpp"

namespace kata {

struct UnfusedBatchNormalizationModifier {
    constexpr var modify(modify_context& c, function_ref f, std::span<const var> inputs) const {
        if (f.type() != op_kind::fused_batch_normalization || inputs.size() < 5) return keep;
        auto guard = c.g.scope(f.name());
        var h = F::batch_normalization(inputs[0], inputs[1], inputs[2], inputs[3], inputs[4],
                                       detail::bn_args_of(f.attr()));
        if (inputs.size() > 5) h = F::add2(h, inputs[5]);
        return F::relu(h);
    }
};

}  // namespace kata
