// kata/ops/backward_rules.hpp
//
// The backward rules of the op kinds that have one, declared here and defined in kata/ops/backward.hpp.
//
// Why split: an op's descriptor (op_traits<K>, next to its F:: definition) names its rule, and a rule
// builds its gradient with other ops' F:: functions (Add2's rule needs F::sum and F::reshape, Affine's
// needs F::sum, ...). Declaring every rule before the op headers and defining them after all of them
// (kata/ops.hpp includes backward.hpp last) keeps each op header free of the others.
#pragma once

#include <span>

#include "descriptor.hpp"

namespace kata::backward_rule {

#define KATA_DECLARE_BACKWARD_RULE(NAME)                                                                     \
    constexpr void NAME(builder& g, const attributes& a, std::span<const var> in, var y, var dy,             \
                        std::span<const bool> need, std::span<var> dx)
KATA_DECLARE_BACKWARD_RULE(affine);
KATA_DECLARE_BACKWARD_RULE(convolution);
KATA_DECLARE_BACKWARD_RULE(depthwise_convolution);
KATA_DECLARE_BACKWARD_RULE(deconvolution);
KATA_DECLARE_BACKWARD_RULE(fused_convolution);
KATA_DECLARE_BACKWARD_RULE(fused_batch_normalization);
KATA_DECLARE_BACKWARD_RULE(sum_pooling);
KATA_DECLARE_BACKWARD_RULE(unpooling);
KATA_DECLARE_BACKWARD_RULE(embed);
KATA_DECLARE_BACKWARD_RULE(hard_swish);
KATA_DECLARE_BACKWARD_RULE(batch_normalization);
KATA_DECLARE_BACKWARD_RULE(relu);
KATA_DECLARE_BACKWARD_RULE(leaky_relu);
KATA_DECLARE_BACKWARD_RULE(sigmoid);
KATA_DECLARE_BACKWARD_RULE(tanh);
KATA_DECLARE_BACKWARD_RULE(identity);
KATA_DECLARE_BACKWARD_RULE(add2);
KATA_DECLARE_BACKWARD_RULE(sub2);
KATA_DECLARE_BACKWARD_RULE(mul2);
KATA_DECLARE_BACKWARD_RULE(div2);
KATA_DECLARE_BACKWARD_RULE(softmax);
KATA_DECLARE_BACKWARD_RULE(transpose);
KATA_DECLARE_BACKWARD_RULE(concatenate);
KATA_DECLARE_BACKWARD_RULE(add_scalar);
KATA_DECLARE_BACKWARD_RULE(mul_scalar);
KATA_DECLARE_BACKWARD_RULE(reshape);
KATA_DECLARE_BACKWARD_RULE(max_pooling);
KATA_DECLARE_BACKWARD_RULE(average_pooling);
KATA_DECLARE_BACKWARD_RULE(global_average_pooling);
KATA_DECLARE_BACKWARD_RULE(sum);
KATA_DECLARE_BACKWARD_RULE(mean);
KATA_DECLARE_BACKWARD_RULE(softmax_cross_entropy);
KATA_DECLARE_BACKWARD_RULE(squared_error);
KATA_DECLARE_BACKWARD_RULE(sigmoid_cross_entropy);
KATA_DECLARE_BACKWARD_RULE(log_softmax);
KATA_DECLARE_BACKWARD_RULE(top_n_error);
KATA_DECLARE_BACKWARD_RULE(dropout);
KATA_DECLARE_BACKWARD_RULE(fixed_point_quantize);
KATA_DECLARE_BACKWARD_RULE(depthwise_deconvolution);
#undef KATA_DECLARE_BACKWARD_RULE

}  // namespace kata::backward_rule
