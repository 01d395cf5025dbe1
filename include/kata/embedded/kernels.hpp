// kata/embedded/kernels.hpp: every kernel of the embedded back end (kata/embedded/kernel.hpp), one
// header per op family. Together they cover every function op kind kata has (float32; BatchNormalization
// in test mode) and the int8 kinds QConvolution and QAffine.
#pragma once
#include "kernel.hpp"
#include "kernels/affine.hpp"
#include "kernels/batch_normalization.hpp"
#include "kernels/convolution.hpp"
#include "kernels/elementwise.hpp"
#include "kernels/pooling.hpp"
#include "kernels/quantized.hpp"
#include "kernels/shape_ops.hpp"
