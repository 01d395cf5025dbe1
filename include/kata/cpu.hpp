// kata/cpu.hpp: the CPU back end (executor, kernels, memory planning) and parameter creation.
#pragma once
#include "kata.hpp"
#include "cpu/executor.hpp"
#include "parameters.hpp"
