// kata/converters/fuse_convolution_epilogue.hpp
//
// FuseConvolutionEpilogueModifier (kata-specific, no nnabla twin): fuses
//     Convolution(x, W[, b]) -> Add2(., r) -> ReLU   into  FusedConvolution(x, W[, b], r, relu)
//     Convolution(x, W[, b]) -> Add2(., r)           into  FusedConvolution(x, W[, b], r, identity)
//     Convolution(x, W[, b]) -> ReLU                 into  FusedConvolution(x, W[, b], relu)
// (nnabla's FusedConvolution function without its batch normalization, kata/ops/fused_convolution.hpp),
// so that the residual addition and the ReLU run in the convolution's epilogue on every backend that
// sees the converted graph: the CPU frozen executor runs a FusedConvolution as one direct NHWC kernel
// on packed weights (kata/cpu/kernels/fused_convolution.hpp), a live executor as the convolution
// followed by one element-wise pass. The result is the unfused graph's, bit for bit.
//
//     using Inference = kata::convert<ResNet50, kata::BatchNormalizationFoldingModifier{},
//                                     kata::ChannelLastModifier{}, kata::FuseConvolutionEpilogueModifier{}>;
//
// A Convolution heads a fused node when it is what the NHWC kernels run: channel-last, any group (group 1,
// depthwise: group == input channels == output channels, MobileNet's 3x3 layers, kernels/convolution.hpp's
// packed depthwise kernel; other groups, ResNeXt's 3x3 layers: kernels/conv_grouped.hpp), float32, 1 to 3 spatial axes, its weight (and bias, if any) a parameter. It then absorbs, in this
// order:
//   * Add2(conv, r) or Add2(r, conv): when the convolution's only consumer is that Add2, the
//     convolution is not a graph output, both operands and the result have the same shape and are
//     float32 (no broadcasting), r is not the convolution itself, and r is available before the
//     convolution runs (a leaf, or a function earlier in nnabla's execution order): the fused node reads
//     r as its residual input z;
//   * ReLU: when the output so far (the convolution's, or the absorbed Add2's) has a float32 ReLU as
//     its only consumer and is not a graph output.
// A convolution that absorbs nothing is kept as it is. The fused node reuses the convolution's W and b
// (no parameter is created or derived) and its parameter scope, so diagnostics and the viewer name the
// layer. Graphs without channel-last convolutions (channel-first ones) are unchanged. Apply it last:
// other modifiers do not look into FusedConvolution (BN folding needs the Convolution).
//
// Decisions are taken when the pass visits the convolution (its residual must already be mapped into
// the new graph then, which is exactly "available before"); the absorbed Add2 and ReLU, visited later,
// recognise themselves in the fused node already built and map to it. Stateless and reusable.
#pragma once

#include "function_modifier.hpp"

namespace kata {

struct FuseConvolutionEpilogueModifier {
    // Whether convolution c is what the fused (NHWC) kernels run.
    static constexpr bool fusable_conv(function_ref c) {
        if (c.type() != op_kind::convolution) return false;
        const attributes& a = c.attr();
        if (!a.channel_last || c.num_inputs() < 2) return false;
        // Any group: group 1 (kernels/conv_nhwc.hpp), depthwise (group == C == O) and the other grouped
        // convolutions (kernels/conv_grouped.hpp) all have a fused kernel.
        if (c.get().type != dtype::f32 || c.input(0).get().type != dtype::f32 ||
            c.input(1).get().type != dtype::f32)
            return false;
        const int nsp = a.spatial_dims;
        if (nsp < 1 || nsp > 3) return false;
        if (c.input_shape(0).rank != a.base_axis + nsp + 1 || c.shape().rank != a.base_axis + nsp + 1)
            return false;
        if (!c.input(1).is_parameter()) return false;
        if (a.has_bias && c.num_inputs() >= 3 && !c.input(2).is_parameter()) return false;
        return true;
    }

    // The Add2 that convolution c may absorb (its id and the slot of the other operand), shapes and
    // sharing permitting; availability of the other operand is checked by the caller.
    struct add_match {
        int add = -1;
        int other = -1;
    };
    static constexpr add_match addable(function_ref c) {
        if (c.is_output() || c.num_consumers() != 1) return {};
        const function_ref a = c.consumer(0);
        if (a.type() != op_kind::add2 || a.num_inputs() != 2 || a.input_id(0) == a.input_id(1)) return {};
        const int other = a.input_id(0) == c.id() ? 1 : 0;
        const function_ref r = a.input(other);
        if (!(a.shape() == c.shape()) || !(r.shape() == c.shape())) return {};
        if (a.get().type != dtype::f32 || r.get().type != dtype::f32) return {};
        return {a.id(), other};
    }

    // Whether the output of `v` (the convolution or its absorbed Add2) has a ReLU to absorb.
    static constexpr bool relu_follows(function_ref v) {
        if (v.is_output() || v.num_consumers() != 1) return false;
        const function_ref r = v.consumer(0);
        return r.type() == op_kind::relu && r.num_inputs() == 1 && r.get().type == dtype::f32;
    }

    // The fused node that `old` (a visited convolution or Add2) was mapped to, or null.
    static constexpr const node* fused_node(const modify_context& c, function_ref old) {
        const var v = c.mapped(old);
        if (is_none(v)) return nullptr;
        const node& n = c.g.nodes[std::size_t(v.id)];
        return n.op == op_kind::fused_convolution ? &n : nullptr;
    }

    constexpr var modify(modify_context& c, function_ref f, std::span<const var> in) const {
        switch (f.type()) {
        case op_kind::convolution: return fuse(c, f, in);
        case op_kind::add2:
            // Absorbed: one operand is a convolution that became a fused node with a residual, and this
            // Add2 is that convolution's only consumer.
            for (int s = 0; s < 2; ++s) {
                const function_ref q = f.input(s);
                if (q.is_leaf() || q.type() != op_kind::convolution) continue;
                const node* n = fused_node(c, q);
                if (n && n->attr.has_residual && addable(q).add == f.id()) return in[std::size_t(s)];
            }
            return keep;
        case op_kind::relu: {
            const function_ref p = f.input(0);
            if (p.is_leaf() || (p.type() != op_kind::convolution && p.type() != op_kind::add2)) return keep;
            const node* n = fused_node(c, p);
            return n && n->attr.nonlinearity == nonlinearity_kind::relu ? in[0] : keep;
        }
        default: return keep;
        }
    }

private:
    static constexpr var fuse(modify_context& c, function_ref conv, std::span<const var> in) {
        if (!fusable_conv(conv)) return keep;
        const add_match am = addable(conv);
        var z = none;
        function_ref tail = conv;
        if (am.add >= 0) {
            const function_ref add = conv.consumer(0);
            const function_ref r = add.input(am.other);
            const var mr = c.mapped(r);  // mapped iff r is a leaf or ran before the convolution
            if (!is_none(mr)) {
                z = mr;
                tail = add;
            }
        }
        const bool relu = relu_follows(tail);
        if (is_none(z) && !relu) return keep;
        const attributes& a = conv.attr();
        const int sp = a.spatial_dims;
        const var b = a.has_bias && in.size() >= 3 ? in[2] : none;
        auto guard = c.g.scope(conv.name());
        return F::fused_convolution(in[0], in[1], b, z,
                                    {a.base_axis, detail::dims_of(a.pad, sp), detail::dims_of(a.stride, sp),
                                     detail::dims_of(a.dilation, sp), a.group, a.channel_last,
                                     relu ? nonlinearity_kind::relu : nonlinearity_kind::none});
    }
};

// What a graph's FusedConvolution nodes absorbed (reachable nodes only): for tests and reports.
struct epilogue_census {
    int fused = 0;      // FusedConvolution nodes
    int residuals = 0;  // ... with a residual input (an absorbed Add2)
    int relus = 0;      // ... with a ReLU
};
template <class G>
constexpr epilogue_census fused_epilogues(const G& g) {
    epilogue_census e;
    for (int t = 0; t < g.num_order; ++t) {
        const node& n = g.nodes[std::size_t(g.order[t])];
        if (n.op != op_kind::fused_convolution) continue;
        ++e.fused;
        e.residuals += n.attr.has_residual;
        e.relus += n.attr.nonlinearity == nonlinearity_kind::relu;
    }
    return e;
}

}  // namespace kata
