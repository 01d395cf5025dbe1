// kata/cpu/kernels.hpp: every CPU kernel (one header per op family under kernels/).
#pragma once
#include "kernels/affine.hpp"
#include "kernels/batch_normalization.hpp"
#include "kernels/convolution.hpp"
#include "kernels/deconvolution.hpp"
#include "kernels/depthwise.hpp"
#include "kernels/elementwise.hpp"
#include "kernels/embed.hpp"
#include "kernels/fused_convolution.hpp"
#include "kernels/pooling.hpp"
#include "kernels/shape_ops.hpp"
#include "kernels/gradient.hpp"
