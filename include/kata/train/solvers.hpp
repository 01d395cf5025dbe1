// kata/train/solvers.hpp
//
// Purpose: all of nnabla.solvers that kata has, and the alias kata::S (nnabla: `import nnabla.solvers
// as S`; then `kata::S::Adam solver({.alpha = 1e-3f});`). Semantics, state names and the differences
// from nnabla: docs/solvers.md.
#pragma once

#include <kata/train/solver.hpp>
#include <kata/train/solvers/adadelta.hpp>
#include <kata/train/solvers/adagrad.hpp>
#include <kata/train/solvers/adam.hpp>
#include <kata/train/solvers/adamw.hpp>
#include <kata/train/solvers/amsgrad.hpp>
#include <kata/train/solvers/momentum.hpp>
#include <kata/train/solvers/nesterov.hpp>
#include <kata/train/solvers/rmsprop.hpp>
#include <kata/train/solvers/sgd.hpp>
#include <kata/train/solvers/sgdw.hpp>

namespace kata {
namespace S = train;
}  // namespace kata
