// kata/cpu/executor.hpp
//
// Runs a graph type on the CPU: the CPU instances of kata's one executor (kata/exec/executor.hpp).
//
//     kata::parameter_store params;              // names -> xtensor values (kata/io)
//     kata::create_parameters<Net>(params, rng); // or load them from an .npz file
//     kata::cpu::executor<Net> run(params);      // binds parameters by name, plans memory once
//     auto y = run(x);                           // x: xt::xarray / xt::xtensor / xt::xtensor_fixed / a view
//     auto r = run.result<0>();                  // an owning xt::xtensor_fixed copy of output 0
//
//     executor<Net>        = exec::executor<Net, cpu::backend, exec::heap_arena, store_parameters, live>
//     frozen_executor<Net> = exec::executor<Net, cpu::backend, exec::heap_arena, store_parameters, frozen>
//
// What is decided at compile time: the execution order (nnabla's), every kernel's shapes and
// arguments (kernels are instantiated per op_instance), the activation memory plan and the scratch
// size. What happens at run time: one storage allocation in the constructor (exec::heap_arena), then
// each call binds the input pointers and runs the kernels: no heap allocation in steady state (after the
// first call, which may let OpenBLAS and the thread pool set themselves up;
// tests/ops/executor_allocations.cpp). The returned outputs are views into the storage, valid until the
// next call (result<K>() copies one).
//
// Inputs: a container or view of the declared shape (an xt::xtensor_fixed's shape is checked at compile
// time, others at every call); transposed, column-major or strided views are read correctly (gathered
// into a planned staging buffer), contiguous ones in place.
//
// Threads: the kernels split their work over kata's pool (kata/cpu/parallel.hpp), GEMMs included;
// OpenBLAS itself runs single-threaded because its threaded driver allocates at every call
// (kata/cpu/gemm.hpp). The constructor sets OpenBLAS's (process-wide) thread count to 1.
//
// Live executors (`executor<Net>`) look parameters up by name once, at construction, keep pointers to
// the store's `parameter` objects (stable addresses) and read their data pointer at every call, so
// loading new values into the same store is picked up (kata/io/parameter_source.hpp). Frozen executors
// (`executor<Net, parameter_mode::frozen>`, alias `frozen_executor<Net>`) pack the weights of their
// channel-last group-1 convolutions once, at construction and at every bind() (like
// torch.jit.freeze), and run those convolutions as the direct NHWC kernel (kernels/conv_nhwc.hpp) on
// the packed copy. Bias, residual Add2 and ReLU are fused into that kernel's epilogue where the graph says so:
// apply kata::FuseConvolutionEpilogueModifier (kata/converters/fuse_convolution_epilogue.hpp) to get
// FusedConvolution nodes, as the ResNet-50 demo does. Other ops run the same kernels as in a live
// executor. Changing a parameter's values without calling bind() again is not seen by a frozen executor.
//
// One copy of the weights (deploying): the packed convolutions never read the store's W and b after
// bind time, so a frozen executor can let the store drop them:
//     kata::cpu::frozen_executor<Net> run(store, kata::cpu::consume_parameters);  // erased as packed
//     run.release_prepared_parameters(store);                                    // or afterwards
// Parameters other kernels read at every call (Affine, unpacked convolutions) stay in the store.
// bind() after a release needs the parameters in the store again.
#pragma once

#include "../exec/executor.hpp"
#include "../io/parameter_source.hpp"
#include "../io/xtensor_boundary.hpp"
#include "backend.hpp"

namespace kata::cpu {

using exec::consume_parameters;
using exec::parameter_mode;

#if defined(__cpp_exceptions)
// Thrown when parameters or inputs do not match the graph type.
using binding_error = exec::binding_error;
#endif

template <graph_type Net, parameter_mode Mode = parameter_mode::live>
using executor = exec::executor<Net, backend, exec::heap_arena, store_parameters, Mode>;

// An executor whose parameters are read once (at construction and at every bind()), like a frozen
// inference module: channel-last convolutions run the direct NHWC kernel on weights packed at bind time,
// with bias, residual Add2 and ReLU in their epilogue where the graph has FusedConvolution nodes.
template <graph_type Net>
using frozen_executor = executor<Net, parameter_mode::frozen>;

}  // namespace kata::cpu
