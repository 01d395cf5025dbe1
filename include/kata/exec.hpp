// kata/exec.hpp: the backend-neutral execution layer (op instances, kernel contract, memory plan,
// storage policies, parameter sources, the executor template). No xtensor, no threads, no exceptions
// on its core path: it compiles for bare metal (-fno-exceptions -fno-rtti). Hosts add
// kata/io/xtensor_boundary.hpp for xtensor outputs; kata/cpu.hpp brings the CPU backend.
#pragma once
#include "exec/binding.hpp"
#include "exec/buffer.hpp"
#include "exec/constant_parameters.hpp"
#include "exec/executor.hpp"
#include "exec/inputs.hpp"
#include "exec/kernel_io.hpp"
#include "exec/memory_plan.hpp"
#include "exec/op_instance.hpp"
#include "exec/storage.hpp"
