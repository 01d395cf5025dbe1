// kata/converters/batch_normalization_folding_inner.hpp
//
// BatchNormalizationFoldingModifierInner (nnabla, docs/nnabla-semantics.md §2.3): folds a test-mode
// BatchNormalization into the inner-product function (Affine, Convolution, Deconvolution) that produces its
// input:
//     W'[.., o, ..] = c0[o] W[.., o, ..],   b'[o] = c1[o] + c0[o] b[o]      (b = 0 without a bias)
//     c0 = gamma / sqrt(var + eps),         c1 = beta - mean c0
// as new derived parameters `<scope of W>/w-folded` and `<scope of W>/b-folded`; the BN disappears.
//
// A fold happens when: the IP's output has exactly ONE consumer, that consumer is a BN reading it as x,
// the IP output is not a graph output, the BN is in test mode (batch_stat=false) with one axis, that
// axis is the IP's output-channel axis, and W, b and the BN statistics are parameters. Otherwise both
// are kept unchanged.
//
// kata vs upstream (docs/nnabla-semantics.md §10):
//   * Affine folds along the OUTPUT axis, W'[:, o] = c0[o] W[:, o] (upstream scales rows: a crash for
//     I != O, silently wrong for I == O);
//   * Deconvolution with groups: output channel of W[i, j, k..] is (i / (I/g)) (O/g) + j (upstream is
//     right for group 1 only); channel-last layouts and 1-D/2-D/3-D all work;
//   * a BN whose producer could not be folded (forked IP output, ...) is KEPT (upstream drops it
//     unfolded); a BN reading a graph input directly is kept (upstream crashes);
//   * only test-mode BNs fold (a batch_stat BN is not an affine map; run TestModeModifier first);
//   * no_bias / no_scale BNs fold correctly (beta = 0 / gamma = 1);
//   * the `channel_last` argument is accepted for compatibility; kata reads each layer's layout from
//     the graph.
#pragma once

#include "batch_normalization_values.hpp"
#include "inner_product.hpp"

namespace kata {

struct BatchNormalizationFoldingModifierInner {
    bool channel_last = false;  // accepted for nnabla compatibility (the graph knows each layout)

    // Whether IP function `ip` (original graph) gets the BN that consumes it folded in.
    static constexpr bool foldable(function_ref ip) {
        using namespace detail;
        if (!is_ip(ip.type()) || ip.is_output() || ip.num_consumers() != 1) return false;
        if (!ip.input(1).is_parameter() || (ip.num_inputs() > 2 && !ip.input(2).is_parameter())) return false;
        const function_ref bn = ip.consumer(0);
        if (!foldable_bn(bn) || bn.input_id(0) != ip.id() || !bn_params_are_parameters(bn)) return false;
        const int ax = out_channel_axis(ip);
        return ax >= 0 && bn.attr().axes[0] == ax;
    }

    constexpr var modify(modify_context& c, function_ref f, std::span<const var> inputs) const {
        using namespace detail;
        // The producer of a BN is visited before it, and marked when it was folded (foldable() is a
        // property of the visited graph: the same answer, without evaluating it twice per fold).
        if (f.type() == op_kind::batch_normalization) return c.marked(f.input(0)) ? inputs[0] : keep;
        if (!foldable(f)) return keep;
        c.mark(f);
        const function_ref bn = f.consumer(0);
        const name_string scope = c.parameter_scope(inputs[1]);
        derivation w;
        w.kind = derivation_kind::bn_scale_weight;
        w.target = modify_context::join(scope.view(), "w-folded");
        w.shape = f.input_shape(1);
        w.need_grad = f.input(1).get().need_grad;
        w.sources[src_w] = param_name(f, 1);
        set_bn_sources(w, bn);
        w.map = out_map(f);
        derivation b = w;  // the same BN sources and eps
        b.kind = derivation_kind::bn_fold_bias_inner;
        b.target = modify_context::join(scope.view(), "b-folded");
        b.shape = bias_shape(f);
        b.need_grad = f.num_inputs() > 2 ? f.input(2).get().need_grad : w.need_grad;
        b.sources[src_w] = name_string{};
        b.sources[src_b] = param_name(f, 2);
        b.map = channel_map{};
        const var wv = c.derive(w);
        const var bv = c.derive(b);
        return c.rebuild(f, {inputs[0], wv, bv});
    }
};

// ---- value rules (derivation.hpp) -------------------------------------------------------------------

// target[t] = W[t] * c0[map(t)] (both folding directions).
template <>
struct derivation_rule<derivation_kind::bn_scale_weight> {
    static void compute(const derivation& d, const derivation_sources& src, std::span<float> out) {
        using namespace detail;
        std::vector<double> c0, c1;
        bn_coefficients(src, d, c0, c1);
        const derivation_source w = source(src, d, src_w, true);
        const std::size_t n = out.size();
        expect_size(src, d, w, n, "W");
        check_map(src, d, d.map, n, c0.size());
        for (std::size_t t = 0; t < n; ++t)
            out[t] = float(double(w.data[t]) * c0[std::size_t(d.map(std::int64_t(t)))]);
    }
};

// target[o] = c1[o] + c0[o] * b[o] (b = 0 when absent).
template <>
struct derivation_rule<derivation_kind::bn_fold_bias_inner> {
    static void compute(const derivation& d, const derivation_sources& src, std::span<float> out) {
        using namespace detail;
        std::vector<double> c0, c1;
        bn_coefficients(src, d, c0, c1);
        const derivation_source b = source(src, d, src_b, false);
        const std::size_t n = out.size();
        expect_size(src, d, b, n, "b");
        if (c0.size() != n)
            src.fail("kata::apply_conversion: '" + target_of(d) + "' has " + std::to_string(n) +
                     " channels but the batch norm " + std::to_string(c0.size()));
        for (std::size_t i = 0; i < n; ++i)
            out[i] = float(c1[i] + c0[i] * (b.data ? double(b.data[i]) : 0.0));
    }
};

}  // namespace kata
