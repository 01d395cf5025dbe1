// kata/train/solvers.hpp
//
// Purpose: all of nnabla.solvers that kata has, and the alias kata::S (nnabla: `import nnabla.solvers
// as S`; then `kata::S::Adam solver({.alpha = 1e-3f});`). Semantics, state names and the differences
// from nnabla: docs/solvers.md.
#pragma once

#include "solver.hpp"
#include "solvers/adadelta.hpp"
#include "solvers/adagrad.hpp"
#include "solvers/adam.hpp"
#include "solvers/adamw.hpp"
#include "solvers/amsgrad.hpp"
#include "solvers/momentum.hpp"
#include "solvers/nesterov.hpp"
#include "solvers/rmsprop.hpp"
#include "solvers/sgd.hpp"
#include "solvers/sgdw.hpp"

namespace kata {
namespace S = train;
}  // namespace kata
