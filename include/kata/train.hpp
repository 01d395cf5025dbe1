// kata/train.hpp: kata's training side: nnabla's solvers (kata::train::Sgd ... SgdW, also reachable as
// kata::S::Adam like nnabla's `import nnabla.solvers as S`; docs/solvers.md), the compiled training step
// (training_graph, cpu_executor) and nnabla's experimental trainers (Updater, Evaluator, Trainer,
// NaiveClassificationTrainer, NaiveRegressionTrainer, DynamicLossScalingUpdater) with checkpoints
// (docs/training.md).
#pragma once
#include "train/backward.hpp"
#include "train/checkpoint.hpp"
#include "train/evaluator.hpp"
#include "train/loss_scaling.hpp"
#include "train/naive_trainers.hpp"
#include "train/solvers.hpp"
#include "train/trainer.hpp"
#include "train/updater.hpp"
