// kata/cpu.hpp: the CPU back end (executors, kernels) with the execution layer it instantiates
// (kata/exec.hpp: storage policies, parameter sources, memory planning), xtensor at the executors'
// boundary (kata/io/xtensor_boundary.hpp) and parameter creation.
#pragma once
#include "cpu_executor.hpp"  // the executors (kata.hpp, exec.hpp, cpu/executor.hpp)
#include "parameters.hpp"
