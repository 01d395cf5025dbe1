// kata/core/op_kind.hpp
//
// The closed set of node kinds a kata graph can hold. Each function kind maps to nnabla's
// `Function.info.type_name`, which is what graph converters match on (spec section 0.2).
#pragma once

#include <cstdint>
#include <string_view>

namespace kata {

enum class op_kind : std::uint8_t {
    // leaves
    input,      // a graph input (nnabla: a parentless Variable given by the user)
    parameter,  // a named parameter (nnabla: a registered parameter Variable)
    // functions
    convolution,
    fused_convolution,  // Convolution + [residual Add2] + [ReLU] (kata/converters/fuse_convolution_epilogue.hpp)
    depthwise_convolution,
    deconvolution,
    depthwise_deconvolution,
    affine,
    embed,
    batch_normalization,
    fused_batch_normalization,
    relu,
    leaky_relu,
    sigmoid,
    tanh,
    add2,
    sub2,
    mul2,
    div2,
    add_scalar,
    mul_scalar,
    max_pooling,
    average_pooling,
    sum_pooling,
    unpooling,
    global_average_pooling,
    concatenate,
    reshape,
    transpose,
    softmax,
    identity,
    fixed_point_quantize,
    sink,
    count_  // keep last
};

constexpr std::string_view type_name(op_kind k) {
    switch (k) {
    case op_kind::input: return "Input";
    case op_kind::parameter: return "Parameter";
    case op_kind::convolution: return "Convolution";
    case op_kind::fused_convolution: return "FusedConvolution";
    case op_kind::depthwise_convolution: return "DepthwiseConvolution";
    case op_kind::deconvolution: return "Deconvolution";
    case op_kind::depthwise_deconvolution: return "DepthwiseDeconvolution";
    case op_kind::affine: return "Affine";
    case op_kind::embed: return "Embed";
    case op_kind::batch_normalization: return "BatchNormalization";
    case op_kind::fused_batch_normalization: return "FusedBatchNormalization";
    case op_kind::relu: return "ReLU";
    case op_kind::leaky_relu: return "LeakyReLU";
    case op_kind::sigmoid: return "Sigmoid";
    case op_kind::tanh: return "Tanh";
    case op_kind::add2: return "Add2";
    case op_kind::sub2: return "Sub2";
    case op_kind::mul2: return "Mul2";
    case op_kind::div2: return "Div2";
    case op_kind::add_scalar: return "AddScalar";
    case op_kind::mul_scalar: return "MulScalar";
    case op_kind::max_pooling: return "MaxPooling";
    case op_kind::average_pooling: return "AveragePooling";
    case op_kind::sum_pooling: return "SumPooling";
    case op_kind::unpooling: return "Unpooling";
    case op_kind::global_average_pooling: return "GlobalAveragePooling";
    case op_kind::concatenate: return "Concatenate";
    case op_kind::reshape: return "Reshape";
    case op_kind::transpose: return "Transpose";
    case op_kind::softmax: return "Softmax";
    case op_kind::identity: return "Identity";
    case op_kind::fixed_point_quantize: return "FixedPointQuantize";
    case op_kind::sink: return "Sink";
    case op_kind::count_: break;
    }
    return "?";
}

constexpr bool is_leaf(op_kind k) { return k == op_kind::input || k == op_kind::parameter; }
constexpr bool is_function(op_kind k) { return !is_leaf(k); }

// nnabla's "inner-product" functions: the ones BN folding rewrites (spec section 2).
constexpr bool is_inner_product(op_kind k) {
    return k == op_kind::affine || k == op_kind::convolution || k == op_kind::deconvolution;
}

constexpr bool is_elementwise_unary(op_kind k) {
    switch (k) {
    case op_kind::relu:
    case op_kind::leaky_relu:
    case op_kind::sigmoid:
    case op_kind::tanh:
    case op_kind::add_scalar:
    case op_kind::mul_scalar:
    case op_kind::fixed_point_quantize:
    case op_kind::identity: return true;
    default: return false;
    }
}

constexpr bool is_binary_arith(op_kind k) {
    return k == op_kind::add2 || k == op_kind::sub2 || k == op_kind::mul2 || k == op_kind::div2;
}

}  // namespace kata
