// kata/ops/backward.hpp
//
// The backward rules named by the op descriptors (declared in backward_rules.hpp). Each builds, into the
// training graph under construction, the gradient of every input k with need[k] from the forward
// inputs `in`, the forward output `y` and the output gradient `dy`, with F:: ops and the gradient kinds
// of gradient.hpp. The derivation (kata/train/backward.hpp) sums the gradients of a variable read by
// several functions with Add2. The math (docs/training.md) follows nnabla's backward functions:
//   Affine        dx = dy W^T, dW = x^T dy, db = sum of dy over the batch axes
//   Convolution   dx = ConvolutionDataGrad, dW = ConvolutionFilterGrad, db = sum over all but channels
//   BatchNorm     batch_stat: dx through the batch statistics; test mode: dx = dy gamma / sqrt(var + eps);
//                 dbeta = sum dy, dgamma = sum dy xhat; mean and var get none (nnabla's PF creates them
//                 with need_grad=false; asking for them is a compile error)
//   Add2/Sub2/Mul2  the broadcast operand's gradient is summed back to its shape
//   MaxPooling    to the arg-max of each window; AveragePooling spread over the window's divisor
//   Div2, Softmax, Transpose  with forward ops only (Div2, Mul2, Sum, Sub2, Transpose)
//   SigmoidCrossEntropy  SigmoidCrossEntropyGrad: dx = dy (sigmoid(x) - t); the target gets none
//   LogSoftmax    LogSoftmaxGrad: dx = dy - exp(y) sum(dy, axis)
//   Dropout       DropoutGrad: dy mask / (1 - p), the forward's mask (same stream, same call)
//   TopNError     a metric: a loss depending on it is a compile error
//   FixedPointQuantize  straight-through: dx = dy (ste_fine_grained: only where min <= x <= max)
//   DepthwiseDeconvolution  the deconvolution's rule with group = C / divisor (W viewed as (C, 1, k..))
#pragma once

#include "affine.hpp"
#include "batch_normalization.hpp"
#include "convolution.hpp"
#include "deconvolution.hpp"
#include "fused_convolution.hpp"
#include "elementwise.hpp"
#include "gradient.hpp"
#include "loss.hpp"
#include "pooling.hpp"
#include "reduction.hpp"
#include "shape_ops.hpp"

namespace kata::backward_rule {

namespace detail {

// d (shape of a broadcast result) summed back to shape s (numpy broadcasting in reverse).
constexpr var sum_to(var d, const shape_t& s) {
    const shape_t& ds = d.shape();
    if (ds == s) return d;
    axis_list axes;
    const int lead = ds.rank - s.rank;
    for (int i = 0; i < ds.rank; ++i)
        if (i < lead || (s.dims[i - lead] == 1 && ds.dims[i] != 1)) axes.v[axes.n++] = i;
    var r = axes.n ? F::sum(d, axes, true) : d;
    return r.shape() == s ? r : F::reshape(r, s);
}

// Every axis of a rank-`rank` tensor but `keep`.
constexpr axis_list all_but(int rank, int keep) {
    axis_list l;
    for (int i = 0; i < rank; ++i)
        if (i != keep) l.v[l.n++] = i;
    return l;
}

// Every axis of a rank-`rank` tensor except the `n` axes in `keep` (non-negative, any order).
constexpr axis_list all_but(int rank, const int* keep, int n) {
    axis_list l;
    for (int i = 0; i < rank; ++i) {
        bool kept = false;
        for (int j = 0; j < n; ++j) kept = kept || keep[j] == i;
        if (!kept) l.v[l.n++] = i;
    }
    return l;
}

}  // namespace detail

#define KATA_BACKWARD_RULE(NAME)                                                                             \
    constexpr void NAME([[maybe_unused]] builder& g, [[maybe_unused]] const attributes& a,                   \
                        [[maybe_unused]] std::span<const var> in, [[maybe_unused]] var y,                    \
                        [[maybe_unused]] var dy, [[maybe_unused]] std::span<const bool> need,                \
                        [[maybe_unused]] std::span<var> dx)

KATA_BACKWARD_RULE(affine) {
    if (need[0]) dx[0] = grad::make(op_kind::affine_data_grad, {dy, in[1]}, a, in[0].shape(), in[0].lay());
    if (need[1]) dx[1] = grad::make(op_kind::affine_filter_grad, {in[0], dy}, a, in[1].shape(), layout::none);
    if (in.size() > 2 && need[2]) {
        axis_list batch;
        for (int i = 0; i < a.base_axis; ++i) batch.v[batch.n++] = i;
        var db = F::sum(dy, batch, false);
        dx[2] = db.shape() == in[2].shape() ? db : F::reshape(db, in[2].shape());
    }
}

KATA_BACKWARD_RULE(convolution) {
    if (need[0])
        dx[0] = grad::make(op_kind::convolution_data_grad, {dy, in[1]}, a, in[0].shape(), in[0].lay());
    if (need[1])
        dx[1] = grad::make(op_kind::convolution_filter_grad, {in[0], dy}, a, in[1].shape(), in[1].lay());
    if (in.size() > 2 && need[2]) {
        const int rank = dy.ndim();
        dx[2] = F::sum(dy, detail::all_but(rank, a.channel_last ? rank - 1 : a.base_axis), false);
    }
}

// DepthwiseConvolution is a grouped convolution with one input channel per group (group = C, W viewed as
// (C * multiplier, 1, k..)): the convolution's gradient kinds with group = C.
KATA_BACKWARD_RULE(depthwise_convolution) {
    attributes b = a;
    b.group = in[0].shape().dims[a.base_axis];
    b.channel_last = false;
    if (need[0])
        dx[0] = grad::make(op_kind::convolution_data_grad, {dy, in[1]}, b, in[0].shape(), in[0].lay());
    if (need[1])
        dx[1] = grad::make(op_kind::convolution_filter_grad, {in[0], dy}, b, in[1].shape(), in[1].lay());
    if (in.size() > 2 && need[2]) dx[2] = F::sum(dy, detail::all_but(dy.ndim(), a.base_axis), false);
}

// Deconvolution is the adjoint of a convolution with the same W: dx = Convolution(dy, W), and dW is that
// convolution's filter gradient with the roles of x and dy swapped.
KATA_BACKWARD_RULE(deconvolution) {
    const int sp = a.spatial_dims;
    if (need[0])
        dx[0] = F::convolution(dy, in[1], none,
                               {a.base_axis, kata::detail::dims_of(a.pad, sp),
                                kata::detail::dims_of(a.stride, sp), kata::detail::dims_of(a.dilation, sp),
                                a.group, a.channel_last});
    if (need[1])
        dx[1] = grad::make(op_kind::convolution_filter_grad, {dy, in[0]}, a, in[1].shape(), in[1].lay());
    if (in.size() > 2 && need[2]) {
        const int rank = dy.ndim();
        dx[2] = F::sum(dy, detail::all_but(rank, a.channel_last ? rank - 1 : a.base_axis), false);
    }
}

// DepthwiseDeconvolution with divisor d is a grouped deconvolution with C/d groups of d input channels
// and one output channel each (W (C, k..) viewed as (C, 1, k..)): Deconvolution's rule with that group.
KATA_BACKWARD_RULE(depthwise_deconvolution) {
    const int sp = a.spatial_dims;
    const std::int64_t groups = y.shape().dims[a.base_axis];
    attributes b = a;
    b.group = groups;
    b.channel_last = false;
    if (need[0]) {
        shape_t w4;
        w4.push_back(in[1].shape().dims[0]);
        w4.push_back(1);
        for (int i = 1; i < in[1].ndim(); ++i) w4.push_back(in[1].shape().dims[i]);
        dx[0] = F::convolution(dy, F::reshape(in[1], w4), none,
                               {a.base_axis, kata::detail::dims_of(a.pad, sp),
                                kata::detail::dims_of(a.stride, sp), kata::detail::dims_of(a.dilation, sp),
                                groups, false});
    }
    if (need[1])
        dx[1] = grad::make(op_kind::convolution_filter_grad, {dy, in[0]}, b, in[1].shape(), in[1].lay());
    if (in.size() > 2 && need[2]) dx[2] = F::sum(dy, detail::all_but(dy.ndim(), a.base_axis), false);
}

KATA_BACKWARD_RULE(batch_normalization) {
    const std::size_t n = in.size();
    std::size_t i = 1;
    const std::size_t beta = a.no_bias ? n : i++;
    const std::size_t gamma = a.no_scale ? n : i++;
    const std::size_t mean = n - 2, variance = n - 1;
    if (need[mean] || need[variance]) {
        auto m = g.prefix(op_kind::batch_normalization);
        m.append("no gradient for mean and var: create them with need_grad=false (as PF::batch_normalization "
                 "does)");
        g.fail(m);
        return;
    }
    const var x = in[0];
    if (need[0]) {
        if (gamma < n)
            dx[0] = grad::make(op_kind::batch_normalization_grad, {dy, x, in[mean], in[variance], in[gamma]},
                               a, x.shape(), x.lay());
        else
            dx[0] = grad::make(op_kind::batch_normalization_grad, {dy, x, in[mean], in[variance]}, a,
                               x.shape(), x.lay());
    }
    // Any set of normalised axes (nnabla's axes=[...]): beta's gradient sums dy over all the other axes.
    if (beta < n && need[beta]) dx[beta] = F::sum(dy, detail::all_but(x.ndim(), a.axes, a.naxes), true);
    if (gamma < n && need[gamma])
        dx[gamma] = grad::make(op_kind::batch_normalization_gamma_grad, {dy, x, in[mean], in[variance]}, a,
                               in[gamma].shape(), in[gamma].lay());
}

// relu(BN(x) [+ z]): the ReLU's gradient, then BatchNormalization's rule; z gets the ReLU's gradient.
KATA_BACKWARD_RULE(fused_batch_normalization) {
    const var g1 = grad::make(op_kind::relu_grad, {dy, y}, a, y.shape(), y.lay());
    if (in.size() > 5 && need[5]) dx[5] = g1;
    attributes b = a;
    b.no_bias = b.no_scale = false;
    batch_normalization(g, b, in.first(5), y, g1, need.first(5), dx.first(5));
}

// Convolution [+ bias] [+ z] [then ReLU]: the ReLU's gradient (if any), the residual's, Convolution's rule.
KATA_BACKWARD_RULE(fused_convolution) {
    const var g1 = a.nonlinearity == nonlinearity_kind::relu
                       ? grad::make(op_kind::relu_grad, {dy, y}, a, y.shape(), y.lay())
                       : dy;
    const std::size_t nconv = a.has_bias ? 3 : 2;
    if (a.has_residual && need[nconv]) dx[nconv] = g1;
    convolution(g, a, in.first(nconv), y, g1, need.first(nconv), dx.first(nconv));
}

KATA_BACKWARD_RULE(relu) {
    if (need[0]) dx[0] = grad::make(op_kind::relu_grad, {dy, y}, a, in[0].shape(), in[0].lay());
}
KATA_BACKWARD_RULE(leaky_relu) {
    if (need[0]) dx[0] = grad::make(op_kind::leaky_relu_grad, {dy, in[0]}, a, in[0].shape(), in[0].lay());
}
KATA_BACKWARD_RULE(sigmoid) {
    if (need[0]) dx[0] = grad::make(op_kind::sigmoid_grad, {dy, y}, a, in[0].shape(), in[0].lay());
}
KATA_BACKWARD_RULE(tanh) {
    if (need[0]) dx[0] = grad::make(op_kind::tanh_grad, {dy, y}, a, in[0].shape(), in[0].lay());
}
KATA_BACKWARD_RULE(identity) {
    if (need[0]) dx[0] = dy;
}
KATA_BACKWARD_RULE(add2) {
    for (int k = 0; k < 2; ++k)
        if (need[k]) dx[k] = detail::sum_to(dy, in[k].shape());
}
KATA_BACKWARD_RULE(sub2) {
    if (need[0]) dx[0] = detail::sum_to(dy, in[0].shape());
    if (need[1]) dx[1] = F::mul_scalar(detail::sum_to(dy, in[1].shape()), -1.0);
}
KATA_BACKWARD_RULE(mul2) {
    if (need[0]) dx[0] = detail::sum_to(F::mul2(dy, in[1]), in[0].shape());
    if (need[1]) dx[1] = detail::sum_to(F::mul2(dy, in[0]), in[1].shape());
}
// y = x0 / x1: dx0 = dy / x1, dx1 = -dy y / x1.
KATA_BACKWARD_RULE(div2) {
    if (need[0]) dx[0] = detail::sum_to(F::div2(dy, in[1]), in[0].shape());
    if (need[1]) dx[1] = F::mul_scalar(detail::sum_to(F::div2(F::mul2(dy, y), in[1]), in[1].shape()), -1.0);
}
// dx = y (dy - sum(dy y, axis, keep_dims)).
KATA_BACKWARD_RULE(softmax) {
    if (need[0]) dx[0] = F::mul2(y, F::sub2(dy, F::sum(F::mul2(dy, y), {a.axis}, true)));
}
// dx = dy transposed by the inverse permutation.
KATA_BACKWARD_RULE(transpose) {
    if (!need[0]) return;
    int inverse[max_rank]{};
    for (int i = 0; i < a.naxes; ++i) inverse[a.axes[i]] = i;
    dx[0] = kata::detail::transpose_n(dy, inverse, a.naxes);
}
// Each input's gradient is its slice of dy along the axis.
KATA_BACKWARD_RULE(concatenate) {
    attributes b = a;
    b.offset = 0;
    for (std::size_t k = 0; k < in.size(); ++k) {
        if (need[k]) dx[k] = grad::make(op_kind::concatenate_grad, {dy}, b, in[k].shape(), in[k].lay());
        b.offset += in[k].shape().dims[a.axis];
    }
}
KATA_BACKWARD_RULE(add_scalar) {
    if (need[0]) dx[0] = dy;
}
KATA_BACKWARD_RULE(mul_scalar) {
    if (need[0]) dx[0] = F::mul_scalar(dy, a.val);
}
KATA_BACKWARD_RULE(reshape) {
    if (need[0]) dx[0] = F::reshape(dy, in[0].shape());
}
KATA_BACKWARD_RULE(max_pooling) {
    if (need[0]) dx[0] = grad::make(op_kind::max_pooling_grad, {dy, in[0]}, a, in[0].shape(), in[0].lay());
}
KATA_BACKWARD_RULE(average_pooling) {
    if (need[0]) dx[0] = grad::make(op_kind::average_pooling_grad, {dy}, a, in[0].shape(), in[0].lay());
}
KATA_BACKWARD_RULE(sum_pooling) {
    if (need[0]) dx[0] = grad::make(op_kind::sum_pooling_grad, {dy}, a, in[0].shape(), in[0].lay());
}
// Unpooling repeats each element kernel times: its adjoint sums each (non-overlapping) kernel block.
KATA_BACKWARD_RULE(unpooling) {
    if (!need[0]) return;
    const dims k = kata::detail::dims_of(a.kernel, a.spatial_dims);
    pooling_args p;
    p.stride = k;
    p.channel_last = a.channel_last;
    dx[0] = F::sum_pooling(dy, k, p);
}
// The indices get no gradient.
KATA_BACKWARD_RULE(embed) {
    if (need[1]) dx[1] = grad::make(op_kind::embed_filter_grad, {in[0], dy}, a, in[1].shape(), in[1].lay());
}
KATA_BACKWARD_RULE(hard_swish) {
    if (need[0]) dx[0] = grad::make(op_kind::hard_swish_grad, {dy, in[0]}, a, in[0].shape(), in[0].lay());
}
KATA_BACKWARD_RULE(global_average_pooling) {
    if (need[0])
        dx[0] = grad::make(op_kind::global_average_pooling_grad, {dy}, a, in[0].shape(), in[0].lay());
}
KATA_BACKWARD_RULE(sum) {
    if (!need[0]) return;
    attributes b = a;
    b.val = 1.0;
    dx[0] = grad::make(op_kind::broadcast_grad, {dy}, b, in[0].shape(), in[0].lay());
}
KATA_BACKWARD_RULE(mean) {
    if (!need[0]) return;
    attributes b = a;
    b.val = 1.0 / double(kata::detail::reduced_count(in[0].shape(), a));
    dx[0] = grad::make(op_kind::broadcast_grad, {dy}, b, in[0].shape(), in[0].lay());
}
KATA_BACKWARD_RULE(softmax_cross_entropy) {
    if (need[0])
        dx[0] = grad::make(op_kind::softmax_cross_entropy_grad, {dy, in[0], in[1]}, a, in[0].shape(),
                           in[0].lay());
}
KATA_BACKWARD_RULE(squared_error) {
    if (!need[0] && !need[1]) return;
    const var t = F::mul2(dy, F::sub2(in[0], in[1]));
    if (need[0]) dx[0] = F::mul_scalar(t, 2.0);
    if (need[1]) dx[1] = F::mul_scalar(t, -2.0);
}

// dx = dy (sigmoid(x) - t), t read as an integer like the forward's. nnabla refuses the target's gradient ("Label can not be propagated down").
KATA_BACKWARD_RULE(sigmoid_cross_entropy) {
    if (need[1]) {
        auto m = g.prefix(op_kind::sigmoid_cross_entropy);
        m.append("the target t gets no gradient (nnabla: label can not be propagated down): make it an "
                 "input or a need_grad=false parameter");
        g.fail(m);
        return;
    }
    if (need[0])
        dx[0] = grad::make(op_kind::sigmoid_cross_entropy_grad, {dy, in[0], in[1]}, a, in[0].shape(),
                           in[0].lay());
}
KATA_BACKWARD_RULE(log_softmax) {
    if (need[0]) dx[0] = grad::make(op_kind::log_softmax_grad, {dy, y}, a, in[0].shape(), in[0].lay());
}
// A metric has no gradient: reached only when the loss depends on it.
KATA_BACKWARD_RULE(top_n_error) {
    auto m = g.prefix(op_kind::top_n_error);
    m.append("is a metric and has no gradient, but the loss depends on it: keep it off the loss path (as "
             "another output of the network)");
    g.fail(m);
}
// The forward's mask is the stream of node y (DropoutGrad records its id) at the same call.
KATA_BACKWARD_RULE(dropout) {
    if (!need[0]) return;
    attributes b = a;
    b.offset = y.id;
    dx[0] = grad::make(op_kind::dropout_grad, {dy}, b, in[0].shape(), in[0].lay());
}
// nnabla's straight-through estimator.
KATA_BACKWARD_RULE(fixed_point_quantize) {
    if (!need[0]) return;
    dx[0] = a.ste_fine_grained
                ? grad::make(op_kind::fixed_point_quantize_grad, {dy, in[0]}, a, in[0].shape(), in[0].lay())
                : dy;
}

#undef KATA_BACKWARD_RULE

}  // namespace kata::backward_rule
