// kata/train.hpp: kata's training side. Today: nnabla's solvers (kata::train::Sgd ... SgdW, also
// reachable as kata::S::Adam like nnabla's `import nnabla.solvers as S`). See docs/solvers.md.
#pragma once
#include "train/solvers.hpp"
