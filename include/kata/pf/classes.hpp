// kata/pf/classes.hpp: the parametric function classes (nnabla experimental.parametric_function_class):
// Affine/Linear, Convolution (Conv1d/2d/3d/ConvNd), Deconvolution (Deconv1d/2d/3d/DeconvNd),
// BatchNormalization (BatchNorm1d/2d/3d), Embed. See kata/pf/classes/module.hpp for naming and rng.
#pragma once
#include "classes/affine.hpp"
#include "classes/batch_normalization.hpp"
#include "classes/convolution.hpp"
#include "classes/deconvolution.hpp"
#include "classes/embed.hpp"
#include "classes/module.hpp"
