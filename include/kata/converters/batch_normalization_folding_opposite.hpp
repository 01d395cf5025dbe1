// kata/converters/batch_normalization_folding_opposite.hpp
//
// BatchNormalizationFoldingOppositeModifierInner (nnabla, docs/nnabla-semantics.md §2.4): folds a test-mode
// BatchNormalization into the inner-product function that CONSUMES it (BN -> IP):
//     W'[o, i, k] = W[o, i, k] c0[i],   b'[o] = b[o] + sum_{i,k} W[o, i, k] c1[i]     (UNSCALED W)
// as new derived parameters `<scope of W>/w-opp-folded` and `<scope of W>/b-opp-folded`; the IP then
// reads the BN's input.
//
// Exactness and the refusal: the bias term assumes every output sees c1 through every tap of the
// kernel. That holds for Affine, for Convolution only at padding 0 (zero padding does not receive c1),
// and for Deconvolution only when every output position receives every tap (stride 1 and
// pad >= dilation (k - 1) + output_padding on each axis). kata REFUSES the other cases at compile time
// with a message naming both layers, the padding (and a Deconvolution's stride and required padding)
// (kata::invalid_graph<"... cannot fold ...">),
// instead of silently producing wrong border values. Fold in the other direction
// (BatchNormalizationFoldingModifierInner) or self-fold such BNs instead.
//
// kata vs upstream (docs/nnabla-semantics.md §2.4, 10.1/10.2):
//   * bias b + sum W c1 with the unscaled W (upstream: c0 W c1, wrong whenever c0 != 1);
//   * new parameters instead of writing the folded values into the ORIGINAL W and b in place
//     (upstream mutates the source graph; converting twice folds twice);
//   * a forked BN (e.g. z = BN(x); relu(z + conv(z))) is folded into the IP and KEPT for its other
//     consumers (upstream removes it for all of them, so the Add2 gets the un-normalised x);
//   * BN -> Affine works for any BN axis >= base_axis and both layouts (upstream always crashes);
//   * grouped convolutions: input channel of W[o, i, k] is (o / (O/g)) (I/g) + i;
//   * the IP is folded whatever the number of consumers of its own output (the rewrite is local);
//   * only test-mode BNs with one axis fold; the `channel_last` argument is accepted for
//     compatibility, the layout is read from the graph.
#pragma once

#include "batch_normalization_values.hpp"
#include "inner_product.hpp"

namespace kata {

struct BatchNormalizationFoldingOppositeModifierInner {
    bool channel_last = false;  // accepted for nnabla compatibility (the graph knows each layout)

    // IP `ip` reads a foldable BN as x (whether or not the fold is exact).
    static constexpr bool candidate(function_ref ip) {
        using namespace detail;
        if (!is_ip(ip.type())) return false;
        if (!ip.input(1).is_parameter() || (ip.num_inputs() > 2 && !ip.input(2).is_parameter())) return false;
        const function_ref bn = ip.input(0);
        if (bn.is_leaf() || !foldable_bn(bn) || !bn_params_are_parameters(bn)) return false;
        for (int k = 1; k < ip.num_inputs(); ++k)
            if (ip.input_id(k) == bn.id()) return false;
        const int ax = bn.attr().axes[0];
        if (ip.type() == op_kind::affine) return ax >= ip.attr().base_axis;
        return ax == in_channel_axis(ip);
    }

    // Whether b + sum W c1 is exact for `ip` (see the header comment).
    static constexpr bool exact(function_ref ip) {
        const attributes& a = ip.attr();
        for (int i = 0; i < a.spatial_dims; ++i) {
            if (ip.type() == op_kind::convolution && a.pad[i] != 0) return false;
            if (ip.type() == op_kind::deconvolution &&
                (a.stride[i] != 1 || a.pad[i] < a.dilation[i] * (a.kernel[i] - 1) + a.output_padding[i]))
                return false;
        }
        return true;
    }

    // "(1,2)" / "(1,)": the first spatial_dims entries of v.
    template <class V>
    static constexpr void append_dims(message_string& m, const attributes& a, const V& v) {
        m.append('(');
        for (int i = 0; i < a.spatial_dims; ++i) {
            if (i) m.append(',');
            m.append_int(std::int64_t(v[i]));
        }
        m.append(a.spatial_dims == 1 ? ",)" : ")");
    }

    constexpr var modify(modify_context& c, function_ref f, std::span<const var> inputs) const {
        using namespace detail;
        if (f.type() == op_kind::batch_normalization) {
            // Removed only when every consumer folds it.
            if (f.is_output() || f.num_consumers() == 0) return keep;
            for (int i = 0; i < f.num_consumers(); ++i) {
                const function_ref u = f.consumer(i);
                if (u.input_id(0) != f.id() || !candidate(u) || !exact(u)) return keep;
            }
            return inputs[0];
        }
        if (!candidate(f)) return keep;
        const function_ref bn = f.input(0);
        if (!exact(f)) {
            // The message names the rule of the layer's kind (a Deconvolution needs MORE padding, not 0).
            const attributes& a = f.attr();
            const bool deconv = f.type() == op_kind::deconvolution;
            message_string m("BatchNormalizationFoldingOppositeModifierInner: cannot fold ");
            m.append(layer(bn).view()).append(" into ").append(layer(f).view()).append(" with pad ");
            append_dims(m, a, a.pad);
            if (deconv) append_dims(m.append(", stride "), a, a.stride);
            m.append(": exact only when every output sees every tap");
            if (deconv) {
                std::int64_t need[max_spatial]{};
                for (int i = 0; i < a.spatial_dims; ++i)
                    need[i] = a.dilation[i] * (a.kernel[i] - 1) + a.output_padding[i];
                m.append(" (Deconvolution: stride 1 and pad >= dilation (kernel - 1) + output_padding = ");
                append_dims(m, a, need);
                m.append(")");
            } else {
                m.append(" (Convolution: pad 0)");
            }
            c.fail(m);
            return keep;
        }
        const int ax = bn.attr().axes[0];
        const name_string scope = c.parameter_scope(inputs[1]);
        derivation w;
        w.kind = derivation_kind::bn_scale_weight;
        w.target = modify_context::join(scope.view(), "w-opp-folded");
        w.shape = f.input_shape(1);
        w.need_grad = f.input(1).get().need_grad;
        w.sources[src_w] = param_name(f, 1);
        set_bn_sources(w, bn);
        w.map = in_map(f, ax);
        derivation b;
        b.kind = derivation_kind::bn_fold_bias_opposite;
        b.target = modify_context::join(scope.view(), "b-opp-folded");
        b.shape = bias_shape(f);
        b.need_grad = f.num_inputs() > 2 ? f.input(2).get().need_grad : w.need_grad;
        b.sources[src_w] = param_name(f, 1);
        b.sources[src_b] = param_name(f, 2);
        set_bn_sources(b, bn);
        b.map = w.map;
        b.map2 = out_map(f);
        const var x = c.mapped(bn.input(0));
        const var wv = c.derive(w);
        const var bv = c.derive(b);
        return c.rebuild(f, {x, wv, bv});
    }
};

// ---- value rule (derivation.hpp; W' is bn_scale_weight, batch_normalization_folding_inner.hpp) --------

// target[o] = b[o] + sum over t with map2(t) = o of W[t] c1[map(t)].
template <>
struct derivation_rule<derivation_kind::bn_fold_bias_opposite> {
    static void compute(const derivation& d, const derivation_sources& src, std::span<float> out) {
        using namespace detail;
        std::vector<double> c0, c1;
        bn_coefficients(src, d, c0, c1);
        const derivation_source w = source(src, d, src_w, true);
        const derivation_source b = source(src, d, src_b, false);
        const std::size_t n = out.size();
        expect_size(src, d, b, n, "b");
        check_map(src, d, d.map, w.size, c1.size());
        check_map(src, d, d.map2, w.size, n);
        std::vector<double> acc(n, 0.0);
        for (std::size_t i = 0; i < n; ++i) acc[i] = b.data ? double(b.data[i]) : 0.0;
        for (std::size_t t = 0; t < w.size; ++t)
            acc[std::size_t(d.map2(std::int64_t(t)))] +=
                double(w.data[t]) * c1[std::size_t(d.map(std::int64_t(t)))];
        for (std::size_t i = 0; i < n; ++i) out[i] = float(acc[i]);
    }
};

}  // namespace kata
