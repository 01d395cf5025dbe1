// kata/core/op_kind.hpp
//
// The closed set of node kinds a kata graph can hold, used as ids, and each kind's identity: its
// nnabla type name (`Function.info.type_name`, what graph converters match on, docs/nnabla-semantics.md §0.2)
// and its class. Everything else about an op (its arguments, how it is rebuilt, printed, converted to
// channel-last, differentiated, exported) is its descriptor, next to its definition in kata/ops
// (kata/ops/descriptor.hpp, docs/extending.md).
//
// Why the identity row lives here and not in the descriptor: core code names and classifies nodes
// without the op definitions (builder diagnostics, the memory plan's in-place rule, graph dumps), and
// the op definitions are built on core. One row per kind, in enum order; a missing row is a compile
// error below, and tests/ops/descriptors.cpp checks the rows against the descriptors.
#pragma once

#include <cstddef>
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
    hard_swish,
    // int8 inference (kata/ops/quantized.hpp, docs/embedded.md): made by kata::Int8QuantizationModifier
    qconvolution,
    qaffine,
    // reductions and losses (kata/ops/reduction.hpp, kata/ops/loss.hpp)
    sum,
    mean,
    softmax_cross_entropy,
    squared_error,
    // more losses and metrics, and Dropout (kata/ops/loss.hpp; docs/training.md)
    sigmoid_cross_entropy,
    log_softmax,
    top_n_error,
    dropout,
    // gradient kinds: made by the training derivation (kata/train/backward.hpp, docs/training.md), one
    // descriptor and one CPU kernel each (kata/ops/gradient.hpp, kata/cpu/kernels/gradient.hpp)
    constant,
    accumulate_grad,
    affine_data_grad,
    affine_filter_grad,
    convolution_data_grad,
    convolution_filter_grad,
    relu_grad,
    leaky_relu_grad,
    sigmoid_grad,
    tanh_grad,
    max_pooling_grad,
    average_pooling_grad,
    global_average_pooling_grad,
    batch_normalization_grad,
    batch_normalization_gamma_grad,
    broadcast_grad,
    softmax_cross_entropy_grad,
    sum_pooling_grad,
    hard_swish_grad,
    embed_filter_grad,
    concatenate_grad,
    log_softmax_grad,
    dropout_grad,
    fixed_point_quantize_grad,
    sigmoid_cross_entropy_grad,
    count_  // keep last
};

inline constexpr std::size_t op_kind_count = std::size_t(op_kind::count_);

// What core passes need to know about a kind.
enum class op_class : std::uint8_t {
    leaf,                 // input, parameter
    elementwise_unary,    // one input, y[i] = f(x[i]): may run in place (memory plan)
    broadcasting_binary,  // numpy-broadcasting Add2/Sub2/Mul2/Div2
    inner_product,        // nnabla's "inner-product" functions, the ones BN folding rewrites (see
                          // docs/nnabla-semantics.md §2)
    other
};

struct op_identity {
    std::string_view name;  // nnabla's type name
    op_class cls = op_class::other;
};

// One row per op_kind, in enum order.
inline constexpr op_identity op_identities[] = {
    {"Input", op_class::leaf},
    {"Parameter", op_class::leaf},
    {"Convolution", op_class::inner_product},
    {"FusedConvolution", op_class::other},
    {"DepthwiseConvolution", op_class::other},
    {"Deconvolution", op_class::inner_product},
    {"DepthwiseDeconvolution", op_class::other},
    {"Affine", op_class::inner_product},
    {"Embed", op_class::other},
    {"BatchNormalization", op_class::other},
    {"FusedBatchNormalization", op_class::other},
    {"ReLU", op_class::elementwise_unary},
    {"LeakyReLU", op_class::elementwise_unary},
    {"Sigmoid", op_class::elementwise_unary},
    {"Tanh", op_class::elementwise_unary},
    {"Add2", op_class::broadcasting_binary},
    {"Sub2", op_class::broadcasting_binary},
    {"Mul2", op_class::broadcasting_binary},
    {"Div2", op_class::broadcasting_binary},
    {"AddScalar", op_class::elementwise_unary},
    {"MulScalar", op_class::elementwise_unary},
    {"MaxPooling", op_class::other},
    {"AveragePooling", op_class::other},
    {"SumPooling", op_class::other},
    {"Unpooling", op_class::other},
    {"GlobalAveragePooling", op_class::other},
    {"Concatenate", op_class::other},
    {"Reshape", op_class::other},
    {"Transpose", op_class::other},
    {"Softmax", op_class::other},
    {"Identity", op_class::elementwise_unary},
    {"FixedPointQuantize", op_class::elementwise_unary},
    {"Sink", op_class::other},
    {"HardSwish", op_class::elementwise_unary},
    {"QConvolution", op_class::other},  // not inner_product: BN folding must not rewrite int8 layers
    {"QAffine", op_class::other},
    {"Sum", op_class::other},
    {"Mean", op_class::other},
    {"SoftmaxCrossEntropy", op_class::other},
    {"SquaredError", op_class::other},
    {"SigmoidCrossEntropy", op_class::other},
    {"LogSoftmax", op_class::other},
    {"TopNError", op_class::other},
    {"Dropout", op_class::other},
    {"Constant", op_class::other},
    {"AccumulateGrad", op_class::other},
    {"AffineDataGrad", op_class::other},
    {"AffineFilterGrad", op_class::other},
    {"ConvolutionDataGrad", op_class::other},
    {"ConvolutionFilterGrad", op_class::other},
    {"ReLUGrad", op_class::other},
    {"LeakyReLUGrad", op_class::other},
    {"SigmoidGrad", op_class::other},
    {"TanhGrad", op_class::other},
    {"MaxPoolingGrad", op_class::other},
    {"AveragePoolingGrad", op_class::other},
    {"GlobalAveragePoolingGrad", op_class::other},
    {"BatchNormalizationGrad", op_class::other},
    {"BatchNormalizationGammaGrad", op_class::other},
    {"BroadcastGrad", op_class::other},
    {"SoftmaxCrossEntropyGrad", op_class::other},
    {"SumPoolingGrad", op_class::other},
    {"HardSwishGrad", op_class::other},
    {"EmbedFilterGrad", op_class::other},
    {"ConcatenateGrad", op_class::other},
    {"LogSoftmaxGrad", op_class::other},
    {"DropoutGrad", op_class::other},
    {"FixedPointQuantizeGrad", op_class::other},
    {"SigmoidCrossEntropyGrad", op_class::other},
};
static_assert(sizeof(op_identities) / sizeof(op_identities[0]) == op_kind_count,
              "kata: every op_kind needs its row in op_identities (name, class), in enum order");

constexpr const op_identity& identity_of(op_kind k) {
    return op_identities[std::size_t(k) < op_kind_count ? std::size_t(k) : 0];
}

constexpr std::string_view type_name(op_kind k) {
    return std::size_t(k) < op_kind_count ? identity_of(k).name : "?";
}

// The kinds only the training derivation makes (kata/train/backward.hpp): never rebuilt by converters.
constexpr bool is_gradient_kind(op_kind k) { return k >= op_kind::constant && k < op_kind::count_; }

constexpr bool is_leaf(op_kind k) { return k == op_kind::input || k == op_kind::parameter; }
constexpr bool is_function(op_kind k) { return !is_leaf(k); }

// nnabla's "inner-product" functions: the ones BN folding rewrites (see
// docs/nnabla-semantics.md §2).
constexpr bool is_inner_product(op_kind k) { return identity_of(k).cls == op_class::inner_product; }
constexpr bool is_elementwise_unary(op_kind k) { return identity_of(k).cls == op_class::elementwise_unary; }
constexpr bool is_binary_arith(op_kind k) { return identity_of(k).cls == op_class::broadcasting_binary; }

}  // namespace kata
