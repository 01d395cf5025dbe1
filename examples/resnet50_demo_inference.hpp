// The converted half of the ResNet-50 demo (examples/resnet50_demo.cpp), in a translation unit of its
// own (resnet50_demo_inference.cpp).
//
// Why two TUs: converting ResNet-50 (kata::convert over 442 nodes) and instantiating the frozen
// executor's kernels are the two heaviest compile-time costs of the demo; in one TU they pushed it past
// the 20 s compile-time budget of bench/compile_time.sh. Split, each TU stays well under it and the two
// compile in parallel. The interface is deliberately plain (no graph types cross it).
#pragma once

// The store's core (lookup, no .npz I/O): this half builds and runs executors over weights the other
// half loaded.
#include <kata/io/parameter_store_core.hpp>

#include <cstddef>
#include <memory>

namespace demo {

// ResNet-50 with every batch normalization folded into its convolution and converted to NHWC by
// nnabla's graph converters, its residual additions and ReLUs fused into the convolutions
// (kata::FuseConvolutionEpilogueModifier), run by kata's frozen executor.
class inference_resnet50 {
public:
    // Derives the converted parameters from the trained ones in `store` (kata::apply_conversion) and
    // binds a frozen executor to them (weights packed once, here).
    explicit inference_resnet50(kata::parameter_store& store);
    ~inference_resnet50();
    inference_resnet50(const inference_resnet50&) = delete;
    inference_resnet50& operator=(const inference_resnet50&) = delete;

    // x: (1, 224, 224, 3) NHWC floats. Returns the 1000 logits (valid until the next call).
    const float* operator()(const float* x_nhwc);

    // One copy of the weights: erases from `store` every parameter the converted network no longer
    // reads (the trained ones it was derived from: kata::drop_replaced_parameters) and those the
    // executor packed at bind time (release_prepared_parameters). Nothing else may read the store's
    // trained parameters afterwards. Returns how many parameters were erased.
    std::size_t keep_one_copy(kata::parameter_store& store);

    // The converted graph's census, for the demo's report.
    struct census {
        int functions, convolutions, fused_convolutions, batch_normalizations, channel_last_layers,
            transposes;
        std::size_t derived_parameters;
    };
    static census describe();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace demo
