// kata/parameters.hpp
//
// Bridges a graph type's parameter nodes and a run-time parameter_store.
//
//     kata::parameter_store store(313);
//     kata::create_parameters<Net>(store);   // nnabla's get_parameter_or_create for every parameter
//     kata::sync_quantized_parameters<Net>(store);  // W_q = FixedPointQuantize(W) (fixed-point layers)
//
// Parameters are created in the order the network definition created them (the order nnabla's
// parametric functions would), from the initializer recorded in the graph (PF defaults: Glorot
// uniform for weights, constants for biases and batch-norm statistics). Existing entries are kept,
// as nnabla does; a shape mismatch is an error naming the parameter and both shapes.
#pragma once

// create_parameters and sync_quantized_parameters (over the store's core) ...
#include "create_parameters.hpp"
// ... and the whole store, parameter_store::save/load (.npz) included.
#include "io/parameter_store.hpp"
