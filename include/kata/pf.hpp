// kata/pf.hpp: the parametric functions (the PF:: namespace).
#pragma once
#include "pf/affine.hpp"
#include "pf/batch_normalization.hpp"
#include "pf/convolution.hpp"
