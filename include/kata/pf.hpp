// kata/pf.hpp: the parametric functions (the PF:: namespace) and the parametric function classes.
#pragma once
#include "pf/affine.hpp"
#include "pf/batch_normalization.hpp"
#include "pf/convolution.hpp"
#include "pf/fixed_point_quantized.hpp"
#include "pf/classes.hpp"
