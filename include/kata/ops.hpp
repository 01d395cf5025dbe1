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
