// kata/ops/gradient.hpp
//
// The gradient kinds: nodes that only the training derivation makes (kata/train/backward.hpp,
// docs/training.md), each an ordinary node of the training graph with its own descriptor here and its
// own CPU kernel (kata/cpu/kernels/gradient.hpp), so the one executor and its compile-time memory plan
// run forward and backward alike, and SimpleGraph draws them.
//
// Every gradient kind keeps the forward node's attributes (so its kernel sees stride, pad, groups...)
// and records in attributes::target the shape of the forward input whose gradient it computes (its
// output shape). Inputs:
//   Constant()                          y = val everywhere (the loss's seed gradient, val = 1)
//   AccumulateGrad(g, G)                G += g; G is the parameter's gradient buffer (a leaf named
//                                       "<key>@grad"); the output is a rank-0 placeholder
//   AffineDataGrad(dy, W)               dx = dy W^T            AffineFilterGrad(x, dy)       dW = x^T dy
//   ConvolutionDataGrad(dy, W)          dx (col2im of W^T dy)  ConvolutionFilterGrad(x, dy)  dW
//   ReLUGrad(dy, y), SigmoidGrad(dy, y), TanhGrad(dy, y), LeakyReLUGrad(dy, x)
//   MaxPoolingGrad(dy, x)               dy to the window's arg-max (first maximum, padding never wins)
//   AveragePoolingGrad(dy), GlobalAveragePoolingGrad(dy)
//   BatchNormalizationGrad(dy, x, mean, var[, gamma])   dx, batch statistics (batch_stat) or running
//   BatchNormalizationGammaGrad(dy, x, mean, var)       dgamma = sum(dy xhat) (shape of gamma)
//   BroadcastGrad(dy)                   dy broadcast back over the reduced axes, times val (Sum, Mean)
//   SoftmaxCrossEntropyGrad(dy, x, t)   dy (softmax(x) - onehot(t))
//   SumPoolingGrad(dy)                  dy to every valid input of the window
//   HardSwishGrad(dy, x)                dy (0 below -3, (2x + 3) / 6 in [-3, 3], 1 above)
//   EmbedFilterGrad(idx, dy)            dW[idx[i]] += dy[i]
//   ConcatenateGrad(dy)                 the slice [offset, offset + len) of dy along `axis`
//   LogSoftmaxGrad(dy, y)               dy - exp(y) sum(dy, axis)
//   DropoutGrad(dy)                     dy mask / (1 - p); the mask of forward node `offset` at this call
//   FixedPointQuantizeGrad(dy, x)       dy where min <= x <= max, 0 outside (ste_fine_grained)
//   SigmoidCrossEntropyGrad(dy, x, t)   dy (sigmoid(x) - t), t read as an integer (nnabla)
// They are not rebuilt by converters (descriptor rebuild = nullptr): convert the forward network, then
// derive its training graph.
#pragma once

#include "common.hpp"

namespace kata {

namespace grad {

// A gradient node of kind k: output shape `out` (recorded in attributes::target), layout `l`.
constexpr var make(op_kind k, std::initializer_list<var> ins, attributes a, const shape_t& out, layout l) {
    a.target = out;
    const var r = ins.begin()->g->function(k, ins, a, out, l);
    // A gradient has the dtype of the first floating-point input (the builder's default, the first
    // input's, would make Embed's filter gradient an int32 tensor: its first input is the indices).
    for (const var& v : ins)
        if (v.type() != dtype::i32 && v.type() != dtype::i8 && v.type() != dtype::u8) {
            r.g->nodes[std::size_t(r.id)].type = v.type();
            break;
        }
    return r;
}

// The seed: a tensor of `s` filled with `value`.
constexpr var constant(builder& g, const shape_t& s, double value) {
    attributes a;
    a.val = value;
    a.target = s;
    return g.function_n(op_kind::constant, nullptr, 0, a, s, layout::none);
}

}  // namespace grad

// ---- descriptors (descriptor.hpp) -----------------------------------------------------------------

namespace op_args {
struct constant {
    double val = 1.0;
};
}  // namespace op_args

namespace detail {
template <op_kind K>
struct gradient_traits {
    using args = op_args::none;
    static constexpr layout_rule channel_last = layout_rule::fallback;
    static constexpr args from_attributes(const attributes&) { return {}; }
};
}  // namespace detail

template <>
struct op_traits<op_kind::constant> {
    using args = op_args::constant;
    static constexpr layout_rule channel_last = layout_rule::fallback;
    static constexpr args from_attributes(const attributes& a) { return {a.val}; }
};
#define KATA_GRADIENT_TRAITS(K)                                                                              \
    template <>                                                                                              \
    struct op_traits<op_kind::K> : detail::gradient_traits<op_kind::K> {};
KATA_GRADIENT_TRAITS(accumulate_grad)
KATA_GRADIENT_TRAITS(affine_data_grad)
KATA_GRADIENT_TRAITS(affine_filter_grad)
KATA_GRADIENT_TRAITS(convolution_data_grad)
KATA_GRADIENT_TRAITS(convolution_filter_grad)
KATA_GRADIENT_TRAITS(relu_grad)
KATA_GRADIENT_TRAITS(leaky_relu_grad)
KATA_GRADIENT_TRAITS(sigmoid_grad)
KATA_GRADIENT_TRAITS(tanh_grad)
KATA_GRADIENT_TRAITS(max_pooling_grad)
KATA_GRADIENT_TRAITS(average_pooling_grad)
KATA_GRADIENT_TRAITS(global_average_pooling_grad)
KATA_GRADIENT_TRAITS(batch_normalization_grad)
KATA_GRADIENT_TRAITS(batch_normalization_gamma_grad)
KATA_GRADIENT_TRAITS(broadcast_grad)
KATA_GRADIENT_TRAITS(softmax_cross_entropy_grad)
KATA_GRADIENT_TRAITS(sum_pooling_grad)
KATA_GRADIENT_TRAITS(hard_swish_grad)
KATA_GRADIENT_TRAITS(embed_filter_grad)
KATA_GRADIENT_TRAITS(concatenate_grad)
KATA_GRADIENT_TRAITS(log_softmax_grad)
KATA_GRADIENT_TRAITS(dropout_grad)
KATA_GRADIENT_TRAITS(fixed_point_quantize_grad)
KATA_GRADIENT_TRAITS(sigmoid_cross_entropy_grad)
#undef KATA_GRADIENT_TRAITS

}  // namespace kata

KATA_ADAPT_ARGS(kata::op_args::constant, val);
