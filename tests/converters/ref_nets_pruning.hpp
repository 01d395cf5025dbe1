// Reference networks of nnabla's pruning test (docs/nnabla-semantics.md §8.2 "Pruning nets", 8.3
// test_pruning), input (1,16,16,16), plus the networks where kata's output-channel pruning differs from
// upstream (grouped Deconvolution, DepthwiseConvolution with a multiplier, DepthwiseDeconvolution with a
// divisor, Affine with a multi-dimensional output). `with_bias` applies to every layer except the depthwise
// net's first convolution, as upstream.
//
// Also the test's hand pruning (upstream builds an identical net in another scope and prunes its
// parameters by hand; kata runs the same network type on a hand-pruned copy of the parameter store):
// `output_channel` computes, from the multi-index of a weight element, the output channel it feeds,
// written independently of the modifier's channel maps.
#pragma once

#include <kata/kata.hpp>

#include <cstddef>
#include <cstdint>

namespace ref::pruning {

using namespace kata;

// /255 -> conv 16 3x3 pad 1 -> deconv 16 3x3 (no pad: 16 -> 18) -> FC10.
template <bool CL, bool Bias>
constexpr var net_for_pruning(builder& g) {
    var x = CL ? g.input("x", {1, 16, 16, 16}, layout::channel_last) : g.input("x", {1, 16, 16, 16});
    var h = x / 255.0;
    h = PF::convolution(h, 16, {3, 3}, {.pad = {1, 1}, .channel_last = CL, .with_bias = Bias, .name = {}});
    h = PF::deconvolution(h, 16, {3, 3}, {.channel_last = CL, .with_bias = Bias, .name = {}});
    return PF::affine(h, 10, {.with_bias = Bias, .name = "fc"});
}

// /255 -> conv 16 3x3 pad 1 (no bias) -> depthwise conv 3x3 (16 -> 14) -> depthwise deconv 3x3
// (14 -> 16) -> FC10. Channel-first only: kata's depthwise ops have no channel-last form (neither
// has nnabla's DepthwiseConvolution).
template <bool Bias>
constexpr var depthwise_net_for_pruning(builder& g) {
    var x = g.input("x", {1, 16, 16, 16});
    var h = x / 255.0;
    h = PF::convolution(h, 16, {3, 3}, {.pad = {1, 1}, .with_bias = false, .name = {}});
    h = PF::depthwise_convolution(h, {3, 3}, {.with_bias = Bias, .name = "depthwise-conv"});
    h = PF::depthwise_deconvolution(h, {3, 3}, {.with_bias = Bias, .name = "depthwise-deconv"});
    return PF::affine(h, 10, {.with_bias = Bias, .name = "fc"});
}

// Where upstream's axis is not the output channel (it crashes with a bias, scores the wrong unit
// without): grouped deconvolution (W (8, 3, 3, 3), group 4: 12 outputs), depthwise convolution with
// multiplier 2 (W (24, 3, 3)), depthwise deconvolution with divisor 4 (W (24, 3, 3): 6 outputs, bias
// (6,)), Affine with a (3, 4) output (W (384, 3, 4), bias (3, 4)).
template <bool Bias>
constexpr var grouped_net_for_pruning(builder& g) {
    var x = g.input("x", {1, 8, 6, 6});
    var h = x / 255.0;
    h = PF::deconvolution(h, 12, {3, 3}, {.group = 4, .with_bias = Bias, .name = "gdeconv"});
    h = PF::depthwise_convolution(h, {3, 3}, {.multiplier = 2, .with_bias = Bias, .name = "dwconv-m2"});
    h = PF::depthwise_deconvolution(h, {3, 3}, {.multiplier = 4, .with_bias = Bias, .name = "dwdeconv-d4"});
    return PF::affine(h, shape_t{3, 4}, {.with_bias = Bias, .name = "fc34"});
}

// Grouped channel-last deconvolution (W (8, 3, 3, 3): (I, k, k, O/g), group 4: 12 outputs) -> FC10.
constexpr var grouped_cl_net_for_pruning(builder& g) {
    var x = g.input("x", {1, 6, 6, 8}, layout::channel_last);
    var h = x / 255.0;
    h = PF::deconvolution(h, 12, {3, 3}, {.group = 4, .channel_last = true, .name = "gdeconv"});
    return PF::affine(h, 10, {.name = "fc"});
}

// The output channel fed by element `t` (row-major) of the weight of function node `f` (a prunable
// kind), from its multi-index:
//   Convolution, DepthwiseConvolution  W[o, ...]                    -> o
//   Deconvolution                      W[i, j, k..] / W[i, k.., j] -> (i / (I/g)) (O/g) + j
//   DepthwiseDeconvolution             W[c, k..], divisor d         -> c / d
//   Affine                             W[k, o1, o2..]              -> the flat index of (o1, o2..)
inline std::int64_t output_channel(const node& f, const shape_t& w, std::int64_t t) {
    std::int64_t idx[max_rank]{};
    for (int a = w.rank - 1; a >= 0; --a) {
        idx[a] = t % w.dims[a];
        t /= w.dims[a];
    }
    switch (f.op) {
    case op_kind::convolution:
    case op_kind::depthwise_convolution: return idx[0];
    case op_kind::depthwise_deconvolution: return idx[0] / f.attr.group;
    case op_kind::deconvolution: {
        const std::int64_t per_group_in = w.dims[0] / f.attr.group;
        const std::int64_t per_group_out = f.attr.channel_last ? w.dims[w.rank - 1] : w.dims[1];
        const std::int64_t j = f.attr.channel_last ? idx[w.rank - 1] : idx[1];
        return idx[0] / per_group_in * per_group_out + j;
    }
    case op_kind::affine: {
        std::int64_t o = 0;
        for (int a = 1; a < w.rank; ++a) o = o * w.dims[a] + idx[a];
        return o;
    }
    default: return -1;
    }
}

// Number of output channels of function node `f` with weight shape `w`.
inline std::int64_t output_channels(const node& f, const shape_t& w) {
    switch (f.op) {
    case op_kind::convolution:
    case op_kind::depthwise_convolution: return w.dims[0];
    case op_kind::depthwise_deconvolution: return w.dims[0] / f.attr.group;
    case op_kind::deconvolution: return (f.attr.channel_last ? w.dims[w.rank - 1] : w.dims[1]) * f.attr.group;
    case op_kind::affine: return w.prod_from(1);
    default: return 0;
    }
}

}  // namespace ref::pruning
