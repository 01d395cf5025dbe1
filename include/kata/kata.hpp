// kata/kata.hpp: the whole compile-time part of kata (graphs, ops, parametric functions).
// Execution back ends are separate: kata/cpu.hpp (xtensor + BLAS), kata/cuda/... (CUDA).
#pragma once
#include "core/graph.hpp"
#include "ops.hpp"
#include "pf.hpp"
#include "version.hpp"
