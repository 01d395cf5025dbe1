// kata/converters/legacy/batch_normalization_folded_converter.hpp
//
// BatchNormalizationFoldedConverter(inner_prod_functions = {Affine, Convolution, Deconvolution},
// name = "bn-folded") (nnabla v1.0.11 - v1.10, docs/nnabla-semantics.md §3.2): an inner-product function
// whose output feeds exactly one test-mode BatchNormalization absorbs it:
//     W'[.., o, ..] = c0[o] W[.., o, ..],   b'[o] = c1[o] + c0[o] b[o]      (b = 0 without a bias)
//     c0 = gamma / sqrt(var + eps),         c1 = beta - mean c0
// as derived parameters `<name>/<W key>` (W's need_grad) and `<name>/<dirname of W key>/b`
// (need_grad = true), e.g. "bn-folded/conv1/conv/W" and "bn-folded/conv1/conv/b"; the BN disappears. Everything
// else is identity-converted (parameters copied to `<name>/<key>`, identity_converter.hpp).
//
//     using Folded = kata::convert<Net, kata::BatchNormalizationFoldedConverter{}>;
//     using OnlyConv = kata::convert<Net, kata::BatchNormalizationFoldedConverter{
//                                             .inner_prod_functions = {kata::op_kind::convolution}}>;
//
// The fold conditions and the channel maps are BatchNormalizationFoldingModifierInner's
// (batch_normalization_folding_inner.hpp): the IP's output has one consumer, a BN with
// batch_stat = false and one axis equal to the IP's output-channel axis, the IP output is not a graph
// output, W, b and the BN statistics are parameters.
//
// kata vs upstream (docs/nnabla-semantics.md §3.2, 10):
//   * Deconvolution folds along its OUTPUT channels, with groups: the output channel of W[i, j, k..] is
//     (i / (I/g)) (O/g) + j (upstream scales W's axis 0, the input channels: wrong for I != O);
//     channel-last layouts fold too (the graph knows each layer's layout);
//   * a BN is dropped only when its producer WAS folded (upstream drops every test-mode BN after a
//     listed IP, even when the IP's output is forked and nothing was folded, and then links its
//     consumers back to the old graph); such a BN is identity-converted;
//   * only inner-product kinds can be listed: another kind in inner_prod_functions is a compile-time
//     error when the graph has such a function (upstream would scale W's axis 0 of anything);
//   * values are derived at apply time and recomputed on every apply (upstream: captured at
//     construction, stale on a second conversion); no_bias / no_scale BNs fold correctly;
//   * the bias key uses '/' on every platform (upstream os.path.join);
//   * an empty name is a compile-time error when something is folded (the folded W would take the
//     original's key; upstream's get-or-create then silently returns the UNfolded original).
#pragma once

#include "../batch_normalization_folding_inner.hpp"
#include "identity_converter.hpp"

namespace kata {

struct BatchNormalizationFoldedConverter {
    op_kind inner_prod_functions[4]{op_kind::affine, op_kind::convolution, op_kind::deconvolution};
    name_string name{"bn-folded"};

    constexpr bool folds(function_ref ip) const {
        return detail::listed(inner_prod_functions, ip.type()) &&
               BatchNormalizationFoldingModifierInner::foldable(ip);
    }

    constexpr var modify(modify_context& c, function_ref f, std::span<const var> inputs) const {
        using namespace detail;
        if (f.type() == op_kind::batch_normalization) {
            const function_ref p = f.input(0);
            if (!p.is_leaf() && folds(p)) return inputs[0];  // mapped to the folded IP
            return detail::identity_conversion(c, name.view(), f, inputs);
        }
        if (detail::listed(inner_prod_functions, f.type()) && !is_ip(f.type())) {
            message_string m("BatchNormalizationFoldedConverter: ");
            m.append(layer(f)).append(" is listed in inner_prod_functions but only Affine, Convolution and "
                                      "Deconvolution can be folded");
            c.fail(m);
            return keep;
        }
        if (!folds(f)) return detail::identity_conversion(c, name.view(), f, inputs);
        const function_ref bn = f.consumer(0);
        const std::string_view wkey = f.input(1).name();
        derivation w;
        w.kind = derivation_kind::bn_scale_weight;
        w.target = modify_context::join(name.view(), wkey);
        w.shape = f.input_shape(1);
        w.need_grad = f.input(1).get().need_grad;
        w.sources[src_w] = name_string{wkey};
        set_bn_sources(w, bn);
        w.map = out_map(f);
        derivation b;
        b.kind = derivation_kind::bn_fold_bias_inner;
        b.target = detail::sibling_key(name.view(), wkey, "b");
        b.shape = bias_shape(f);
        b.need_grad = true;
        b.sources[src_b] = param_name(f, 2);
        set_bn_sources(b, bn);
        const var x = detail::input_or_copy(c, name.view(), f, inputs, 0);
        const var wv = c.derive(w);
        const var bv = c.derive(b);
        return c.rebuild(f, {x, wv, bv});
    }
};

}  // namespace kata
