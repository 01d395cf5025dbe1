// kata/converters.hpp: graph converters (nnabla.experimental.graph_converters): kata::convert and every
// function modifier. apply_conversion (run time, xtensor) is included too. See docs/converters.md.
#pragma once
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
#include "converters/apply_conversion.hpp"
