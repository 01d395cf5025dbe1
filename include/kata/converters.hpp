// kata/converters.hpp: graph converters (nnabla.experimental.graph_converters): kata::convert and every
// function modifier, i.e. the structural rewrites (constexpr code: no xtensor, no file I/O). The
// parameter values a conversion implies are computed by kata::apply_conversion<C>(store), in
// <kata/converters/apply_conversion.hpp> (run time, xtensor, parameter_store). See docs/converters.md.
// Includes the op definitions (F::, PF::) too.
#pragma once
#include "ops.hpp"  // F:: and PF::, so that a network written for conversion needs no other include
#include "pf.hpp"
#include "converters/function_modifier.hpp"
#include "converters/graph_converter.hpp"
#include "converters/add_bias.hpp"
#include "converters/batch_normalization_folding_inner.hpp"
#include "converters/batch_normalization_folding_opposite.hpp"
#include "converters/batch_normalization_folding.hpp"
#include "converters/batch_normalization_self_folding.hpp"
#include "converters/fused_batch_normalization.hpp"
#include "converters/unfused_batch_normalization.hpp"
#include "converters/remove_function.hpp"
#include "converters/test_mode.hpp"
#include "converters/identity.hpp"
#include "converters/no_grad.hpp"
#include "converters/channel_last.hpp"
#include "converters/fuse_convolution_epilogue.hpp"
#include "converters/pruning.hpp"
#include "converters/int8_quantization.hpp"
#include "converters/legacy/identity_converter.hpp"
#include "converters/legacy/batch_normalization_linear_converter.hpp"
#include "converters/legacy/batch_normalization_folded_converter.hpp"
#include "converters/legacy/fixed_point_weight_converter.hpp"
#include "converters/legacy/fixed_point_activation_converter.hpp"
#include "converters/legacy/sequential_converter.hpp"
