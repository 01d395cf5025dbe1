// kata/converters/channel_last.hpp
//
// ChannelLastModifier(inputs) / ChannelFirstModifier(inputs) (nnabla, docs/nnabla-semantics.md §2.8): the
// whole network in the other memory layout, NCHW -> NHWC (the layout of the CPU/GPU fast paths) and back.
//
//     using Cl = kata::convert<Net, kata::ChannelLastModifier{}>;            // every rank >= 3 input
//     using Cl = kata::convert<Net, kata::ChannelLastModifier{{"x"}}>;       // the input named "x"
//     kata::apply_conversion<Cl>(store);   // W_cl, beta_cl, ... from the trained parameters
//     kata::cpu::executor<Cl> run(store);  // takes x as (N, H, W, C)
//
// Inputs: each converted graph input is re-declared with the same name, the permuted shape
// (N, C, S..) -> (N, S.., C) and the new layout tag; the executor of the converted type takes the
// data in that layout (upstream makes a transposed copy variable instead). Default (`inputs` empty):
// ChannelLast converts every input of rank >= 3 not declared channel-last, ChannelFirst every input
// declared channel-last. A name in `inputs` that matches no graph input is a compile error listing the
// graph's inputs (it would otherwise convert nothing, silently). Outputs stay in the converted layout (an Affine output has none).
//
// How it works: a variable is "converted" when its new node carries the target layout tag and the
// original did not (ops propagate the tag, kata/ops). Axis k of a converted variable holds original
// axis perm[k], perm = (0, 2, .., n-1, 1) for channel-last, (0, n-1, 1, .., n-2) for channel-first,
// with one leading batch axis (base_axis 1). Per function with at least one converted input, by the
// layout rule its descriptor names (kata::layout_rule, kata/ops/descriptor.hpp; an op picks a rule,
// this file implements rules, not ops):
//   convolution_like     Convolution, Deconvolution: channel_last flipped; W permuted like an
//                        activation (conv (O, C/g, k..) <-> (O, k.., C/g), deconv (C, O/g, k..) <->
//                        (C, k.., O/g))
//   normalization        BatchNormalization, Fused BN: axes mapped; beta/gamma/mean/var (and an
//                        unconverted residual z) permuted; no_bias / no_scale kept
//   pooling              Max/Average/SumPooling, Unpooling: channel_last flipped
//   global_pooling       GlobalAveragePooling (4-D): becomes AveragePooling over (H, W) with
//                        channel_last (same values)
//   axis_argument        Concatenate, Softmax: axis mapped (unconverted same-rank inputs are permuted
//                        first)
//   permutation          Transpose: axes composed (an identity result removes the transpose)
//   affine_flattening    Affine (base_axis 1): W's input rows re-ordered to the new flattening order
//   broadcasting_binary  Add2/Sub2/Mul2/Div2, SquaredError: unconverted same-rank operands permuted
//                        (parameters by derivation, activations by a Transpose node); single-element
//                        operands kept
//   elementwise          element-wise unary ops, Sink: rebuilt unchanged
//   fallback             anything else (Reshape, Embed, depthwise (de)convolutions), and any rule whose
//                        preconditions fail (base_axis != 1, ...): converted inputs are transposed back
//                        in the graph, the function is rebuilt unchanged and its output is
//                        channel-first again: always correct, never silently computing on the wrong
//                        layout.
// Permuted parameters are derived (derivation_kind::transpose) as `<key>_cl` / `<key>_cf`; the value
// rule of that derivation is at the end of this file.
//
// kata vs upstream (docs/nnabla-semantics.md §2.8, 10.7, 10.8): Deconvolution works (upstream builds a
// Convolution and fails); 1-D, 2-D and 3-D networks (upstream: 4-D only); Concatenate keeps its axis
// (upstream forces the last axis / 1); Affine after any channel-last tensor, also several in a row;
// axis-sensitive ops (Softmax, Transpose, GlobalAveragePooling, Reshape...) compute the same values as the
// original (upstream rebuilds them unchanged, on the wrong layout); every consumer of an input is rewired,
// not only the first; the modifier is reusable and the converted input is the one the graph reads
// (upstream replaces inputs_cl by unconnected variables); ChannelFirst names its weights `W_cf`
// (upstream: `W_cl` in both directions); Affine weights live in the layer's scope (`fc/affine/W_cl`, upstream
// a root-scope `w_cl` shared, stale, by equal shapes); derived values are recomputed on every apply.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string_view>

#include "function_modifier.hpp"

namespace kata {

namespace detail {

// perm (new axis k holds original axis perm[k]) and its inverse for a rank-n tensor.
struct layout_perm {
    int n = 0;
    int p[max_rank]{};
    int inv[max_rank]{};
};
constexpr layout_perm make_layout_perm(int n, bool to_last) {
    layout_perm r;
    r.n = n;
    if (n < 3) {
        for (int i = 0; i < n; ++i) r.p[i] = i;
    } else if (to_last) {
        r.p[0] = 0;
        for (int i = 1; i + 1 < n; ++i) r.p[i] = i + 1;
        r.p[n - 1] = 1;
    } else {
        r.p[0] = 0;
        r.p[1] = n - 1;
        for (int i = 2; i < n; ++i) r.p[i] = i - 1;
    }
    for (int i = 0; i < n; ++i) r.inv[r.p[i]] = i;
    return r;
}
constexpr shape_t permuted(const shape_t& s, const layout_perm& lp) {
    shape_t r;
    r.rank = s.rank;
    for (int i = 0; i < s.rank; ++i) r.dims[i] = s.dims[lp.p[i]];
    return r;
}

template <std::size_t N>
struct input_names {
    static constexpr std::size_t capacity = N;
    name_string names[N]{};
    int count = 0;

    constexpr input_names() = default;
    constexpr input_names(std::initializer_list<std::string_view> l) {
        for (std::string_view s : l)
            if (count < int(N)) names[count++] = name_string{s};
    }
    constexpr bool contains(std::string_view s) const {
        for (int i = 0; i < count; ++i)
            if (names[i].view() == s) return true;
        return false;
    }
};

// The shared implementation of both directions.
template <bool ToLast>
struct layout_converter {
    static constexpr layout target = ToLast ? layout::channel_last : layout::channel_first;
    static constexpr std::string_view suffix = ToLast ? "_cl" : "_cf";
    static constexpr std::string_view modifier_name = ToLast ? "ChannelLastModifier" : "ChannelFirstModifier";

    static constexpr bool converted(function_ref f, int k, std::span<const var> in) {
        return in[std::size_t(k)].lay() == target && f.input(k).lay() != target;
    }

    // Whether graph input `leaf` is to be converted (names: the user's list, empty = default rule).
    template <class Names>
    static constexpr bool selects(const Names& names, function_ref leaf) {
        if (names.count > 0) return names.contains(leaf.name());
        return ToLast ? (leaf.ndim() >= 3 && leaf.lay() != layout::channel_last)
                      : leaf.lay() == layout::channel_last;
    }

    template <class Names>
    static constexpr var map_input(modify_context& c, const Names& names, function_ref leaf) {
        // An input already in the target layout stays as it is: converting twice changes nothing.
        if (!leaf.is_input() || !selects(names, leaf) || leaf.lay() == target) return keep;
        if (leaf.ndim() < 3) {
            message_string m(modifier_name.data());
            m.append(": input '").append(leaf.name()).append("' ");
            append_shape(m, leaf.shape()).append(" has no channel and spatial axes (rank < 3)");
            c.fail(m);
            return keep;
        }
        const layout_perm lp = make_layout_perm(leaf.ndim(), ToLast);
        return c.g.input(leaf.name(), permuted(leaf.shape(), lp), target, leaf.get().type);
    }

    // v permuted like an activation of its rank: a parameter by derivation, anything else in-graph.
    static constexpr var permute(modify_context& c, var v, const layout_perm& lp) {
        const node& n = c.g.nodes[std::size_t(v.id)];
        if (n.op == op_kind::parameter) {
            derivation d;
            d.kind = derivation_kind::transpose;
            d.target = n.name;
            d.target.append(suffix);
            d.shape = permuted(n.shape, lp);
            d.need_grad = n.need_grad;
            d.sources[src_w] = n.name;
            for (int i = 0; i < lp.n; ++i) d.perm[i] = lp.p[i];
            d.nperm = lp.n;
            return c.derive(d);
        }
        return detail::transpose_n(v, lp.p, lp.n);
    }

    // Converted inputs back to the original layout, the function rebuilt unchanged.
    static constexpr var fallback(modify_context& c, function_ref f, std::span<const var> in) {
        var ins[16];
        for (std::size_t k = 0; k < in.size() && k < 16; ++k) {
            ins[k] = in[k];
            if (!converted(f, int(k), in)) continue;
            const layout_perm lp = make_layout_perm(in[k].ndim(), ToLast);
            ins[k] = detail::transpose_n(in[k], lp.inv, lp.n);
        }
        return c.rebuild(f, std::span<const var>(ins, in.size()));
    }

    static constexpr var modify(modify_context& c, function_ref f, std::span<const var> in) {
        bool any = false;
        for (int k = 0; k < f.num_inputs(); ++k) any = any || converted(f, k, in);
        if (!any) return keep;
        const bool x_conv = converted(f, 0, in);
        const int n = in[0].ndim();
        const layout_perm lp = make_layout_perm(n, ToLast);
        attributes a = f.attr();
        var ins[16];
        for (std::size_t k = 0; k < in.size() && k < 16; ++k) ins[k] = in[k];
        const std::span<const var> sp(ins, in.size());
        switch (descriptor_of(f.type()).channel_last) {
        case layout_rule::convolution_like: {
            if (!x_conv || a.base_axis != 1 || a.channel_last == ToLast) return fallback(c, f, in);
            a.channel_last = ToLast;
            ins[1] = permute(c, in[1], make_layout_perm(in[1].ndim(), ToLast));
            return c.rebuild(f, sp, a);
        }
        case layout_rule::normalization: {
            if (!x_conv) return fallback(c, f, in);
            for (int i = 0; i < a.naxes; ++i) a.axes[i] = lp.inv[a.axes[i]];
            a.axis = lp.inv[a.axis];
            for (std::size_t k = 1; k < in.size(); ++k) {
                if (converted(f, int(k), in)) continue;
                if (in[k].ndim() != n) return fallback(c, f, in);
                ins[k] = permute(c, in[k], lp);
            }
            return c.rebuild(f, sp, a);
        }
        case layout_rule::pooling: {
            if (a.channel_last == ToLast) return fallback(c, f, in);
            a.channel_last = ToLast;
            return c.rebuild(f, sp, a);
        }
        case layout_rule::global_pooling: {
            if (!ToLast || n != 4) return fallback(c, f, in);
            const shape_t& s = in[0].shape();  // (N, H, W, C)
            pooling_args pa;
            pa.stride = dims{s.dims[1], s.dims[2]};
            pa.pad = dims{0, 0};
            pa.channel_last = true;
            return F::average_pooling(in[0], dims{s.dims[1], s.dims[2]}, pa);
        }
        case layout_rule::axis_argument: {
            // Concatenate: every input (unconverted same-rank ones permuted); Softmax: its one input.
            for (std::size_t k = 0; k < in.size(); ++k) {
                if (converted(f, int(k), in)) continue;
                if (in[k].ndim() != n) return fallback(c, f, in);
                ins[k] = permute(c, in[k], lp);
            }
            a.axis = lp.inv[a.axis];
            return c.rebuild(f, sp, a);
        }
        case layout_rule::permutation: {
            bool ident = true;
            for (int j = 0; j < a.naxes; ++j) {
                a.axes[j] = lp.inv[a.axes[j]];
                ident = ident && a.axes[j] == j;
            }
            return ident ? in[0] : c.rebuild(f, sp, a);
        }
        case layout_rule::affine_flattening: {
            if (!x_conv || a.base_axis != 1 || c.g.nodes[std::size_t(in[1].id)].op != op_kind::parameter)
                return fallback(c, f, in);
            // W (prod(x.shape[1:]), O...) viewed as (x.shape[1], .., x.shape[n-1], prod(O...)); its
            // first n-1 axes follow the ORIGINAL x axes 1..n-1; re-order them like the new x.
            const node& w = c.g.nodes[std::size_t(in[1].id)];
            const shape_t& xo = f.input_shape(0);
            derivation d;
            d.kind = derivation_kind::transpose;
            d.target = w.name;
            d.target.append(suffix);
            d.shape = w.shape;
            d.need_grad = w.need_grad;
            d.sources[src_w] = w.name;
            d.view.rank = n;
            for (int i = 1; i < n; ++i) d.view.dims[i - 1] = xo.dims[i];
            d.view.dims[n - 1] = w.shape.numel() / xo.prod(1, n);
            for (int i = 1; i < n; ++i) d.perm[i - 1] = lp.p[i] - 1;
            d.perm[n - 1] = n - 1;
            d.nperm = n;
            ins[1] = c.derive(d);
            return c.rebuild(f, sp, a);
        }
        case layout_rule::broadcasting_binary: {
            const int xk = x_conv ? 0 : 1;  // a converted operand
            const int nk = in[std::size_t(xk)].ndim();
            for (int k = 0; k < 2; ++k) {
                if (converted(f, k, in)) continue;
                if (in[std::size_t(k)].shape().numel() == 1) continue;
                if (in[std::size_t(k)].ndim() != nk) return fallback(c, f, in);
                ins[k] = permute(c, in[std::size_t(k)], make_layout_perm(nk, ToLast));
            }
            return c.rebuild(f, sp);
        }
        case layout_rule::elementwise: return keep;
        case layout_rule::fallback: break;
        }
        return fallback(c, f, in);
    }
};

}  // namespace detail

// nnabla: ChannelLastModifier(inputs, inputs_cl=None): NCHW -> NHWC. `inputs`: names of the graph
// inputs to convert (at most 8; empty: every input of rank >= 3 not already channel-last).
struct ChannelLastModifier {
    detail::input_names<8> inputs{};

    // Every name in `inputs` must be a graph input (a compile error listing the inputs otherwise).
    static constexpr std::string_view modifier_name = "ChannelLastModifier";
    constexpr int num_named_inputs() const { return inputs.count; }
    constexpr std::string_view named_input(int i) const { return inputs.names[i].view(); }

    constexpr var map_leaf(modify_context& c, function_ref leaf) const {
        return detail::layout_converter<true>::map_input(c, inputs, leaf);
    }
    constexpr var modify(modify_context& c, function_ref f, std::span<const var> in) const {
        return detail::layout_converter<true>::modify(c, f, in);
    }
};

// nnabla: ChannelFirstModifier(inputs, inputs_cf=None): NHWC -> NCHW. `inputs`: names of the graph
// inputs to convert (empty: every input declared channel-last).
struct ChannelFirstModifier {
    detail::input_names<8> inputs{};

    // Every name in `inputs` must be a graph input (a compile error listing the inputs otherwise).
    static constexpr std::string_view modifier_name = "ChannelFirstModifier";
    constexpr int num_named_inputs() const { return inputs.count; }
    constexpr std::string_view named_input(int i) const { return inputs.names[i].view(); }

    constexpr var map_leaf(modify_context& c, function_ref leaf) const {
        return detail::layout_converter<false>::map_input(c, inputs, leaf);
    }
    constexpr var modify(modify_context& c, function_ref f, std::span<const var> in) const {
        return detail::layout_converter<false>::modify(c, f, in);
    }
};

// ---- value rule (derivation.hpp) --------------------------------------------------------------------

// target = reshape(transpose(reshape(source, view), perm), shape): the source viewed with `view`
// (rank 0: its own shape), its axes permuted (new axis k = viewed axis perm[k]), read in row-major order.
template <>
struct derivation_rule<derivation_kind::transpose> {
    static void compute(const derivation& d, const derivation_sources& src, std::span<float> out) {
        using namespace detail;
        const derivation_source s = source(src, d, src_w, true);
        const std::size_t n = out.size();
        expect_size(src, d, s, n, "source");
        shape_t v = d.view.rank == 0 ? s.shape : d.view;
        if (d.nperm != v.rank || std::size_t(v.numel()) != n)
            src.fail("kata::apply_conversion: bad permutation for '" + target_of(d) + "'");
        // Row-major strides of the viewed source; the output walks the permuted shape in order.
        std::int64_t stride[max_rank]{}, pshape[max_rank]{}, pstride[max_rank]{};
        std::int64_t acc = 1;
        for (int i = v.rank - 1; i >= 0; --i) {
            stride[i] = acc;
            acc *= v.dims[i];
        }
        for (int i = 0; i < v.rank; ++i) {
            pshape[i] = v.dims[d.perm[i]];
            pstride[i] = stride[d.perm[i]];
        }
        std::int64_t idx[max_rank]{};
        for (std::size_t t = 0; t < n; ++t) {
            std::int64_t at = 0;
            for (int i = 0; i < v.rank; ++i) at += idx[i] * pstride[i];
            out[t] = s.data[at];
            for (int i = v.rank - 1; i >= 0; --i) {
                if (++idx[i] < pshape[i]) break;
                idx[i] = 0;
            }
        }
    }
};

}  // namespace kata
