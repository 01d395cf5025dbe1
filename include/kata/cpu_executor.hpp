// kata/cpu_executor.hpp: the CPU executors without parameter creation and without file I/O: kata.hpp,
// the execution layer (kata/exec.hpp), kata::cpu::executor / frozen_executor with xtensor at their
// boundary, and kata::parameter_store's lookup core (kata/io/parameter_store_core.hpp) to bind them.
// For translation units that build and run a network over a store filled elsewhere (another TU
// creates or loads the parameters, as examples/resnet50_demo_inference.hpp does): they skip the NPY/ZIP
// code, the name mapping and <filesystem>, which kata/cpu.hpp brings through kata/parameters.hpp
// (create_parameters, parameter_store::save/load). kata/cpu.hpp includes this header.
#pragma once
#include "kata.hpp"
#include "exec.hpp"
#include "cpu/executor.hpp"
