// kata/ops.hpp: every op definition (the F:: namespace).
#pragma once
#include "ops/affine.hpp"
#include "ops/batch_normalization.hpp"
#include "ops/convolution.hpp"
#include "ops/deconvolution.hpp"
#include "ops/elementwise.hpp"
#include "ops/fused_convolution.hpp"
#include "ops/pooling.hpp"
#include "ops/shape_ops.hpp"
#include "ops/quantized.hpp"
#include "ops/gradient.hpp"
#include "ops/loss.hpp"
#include "ops/reduction.hpp"
// The backward rules use every op above: last.
#include "ops/backward.hpp"
