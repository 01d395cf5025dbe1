// kata/converters/pruning.hpp
//
// PruningModifier(pruning_threshold, functions_to_prune = (Convolution, Deconvolution,
// DepthwiseConvolution, DepthwiseDeconvolution, Affine), channel_last = False) (nnabla v1.28+,
// docs/nnabla-semantics.md §2.14): structured (output-channel) pruning. For every listed function with inputs (x, W[, b]):
//     s[o] = sum of W^2 over every weight feeding output channel o   (a sum of squares, no sqrt)
//     m[o] = s[o] > threshold                                        (strict)
//     W'   = W where m[out(W element)] else 0,   b'[o] = b[o] where m[o] else 0
// as new derived parameters `<scope of W>/w-pruned` and `<scope of W>/b-pruned` (need_grad = true,
// as upstream); the function is rebuilt with (x, w-pruned[, b-pruned]) and its original arguments.
// The originals are untouched and still read by functions that are not listed.
//
//     using Pruned = kata::convert<Net, kata::PruningModifier{.threshold = 0.1}>;
//     using Fc     = kata::convert<Net, kata::PruningModifier{.threshold = 0.1,
//                                                             .functions = {kata::op_kind::affine}}>;
//     kata::apply_conversion<Pruned>(store);   // computes w-pruned / b-pruned from W / b
//
// Output channel of each weight element (W layouts, docs/nnabla-semantics.md §0.1):
//     Affine                  W (K, O...)      every output unit (W.shape[1:], the bias shape)
//     Convolution             W (O, ...)       axis 0, both layouts
//     Deconvolution           W (I, O/g, k..)  or channel-last (I, k.., O/g): channel (i / (I/g)) (O/g) + j
//     DepthwiseConvolution    W (C m, k..)     axis 0
//     DepthwiseDeconvolution  W (C, k..)       row c feeds output channel c / divisor
// The map is a kata::channel_map (derivation.hpp) recorded in the derivation; apply_conversion scores
// with double accumulation (derivation_kind::prune_weight / prune_bias in apply_conversion.hpp).
//
// kata vs upstream (docs/nnabla-semantics.md §2.14, 10.6, 10.10):
//   * the score is taken per TRUE output channel. Where upstream's axis is the output channel (Affine
//     with a 2-D W, Convolution, Deconvolution with group 1, DepthwiseConvolution,
//     DepthwiseDeconvolution with divisor 1) the result is the same; where it is not, upstream crashes
//     as soon as there is a bias (mask length != bias length) and scores the wrong unit without one:
//       - DepthwiseDeconvolution with divisor d > 1: output channel o sums input rows o d .. o d + d - 1,
//         so s[o] is taken over those d rows and b[o] (length C/d) is masked with m[o] (upstream: one
//         mask per input row, length C, and `b * mask` fails);
//       - grouped Deconvolution: W[i, j, k..] feeds output channel (i / (I/g)) (O/g) + j, scored within
//         its group (upstream: axis 1 of length O/g, summing columns of every group together);
//       - Affine with a multi-dimensional output W (K, O1, O2..): each output unit is a channel, like
//         its bias (upstream: axis 1 only);
//   * the layout of each Deconvolution is read from the graph; the `channel_last` argument is
//     accepted for nnabla compatibility and ignored (as the BN folding modifiers do);
//   * a masked weight is exactly 0 (a NaN channel scores NaN, is pruned, and becomes 0; upstream
//     multiplies by the mask and keeps the NaN); the score is accumulated in double and compared with
//     the threshold in double (upstream: float32);
//   * w-pruned / b-pruned are recomputed by every apply_conversion (upstream's get-or-create returns
//     the first conversion's values: stale after W changes, docs/nnabla-semantics.md §10.6);
//   * pruning a layer that an earlier conversion already pruned (convert<convert<Net, P1>, P2>) names
//     the new parameters `w-pruned-2` / `b-pruned-2` (then -3, ...), derived from `w-pruned` in order,
//     so the chain gives prune(prune(W, t1), t2) (upstream: the name collides and get-or-create
//     silently returns the first pruning);
//   * W and b must be parameters: a listed function whose W or b is computed or a graph input is a
//     compile-time error naming the layer (upstream prunes a snapshot of the current data);
//   * listed kinds other than the five are ignored (as upstream); at most 16 entries; unused slots
//     hold op_kind::input, which names no function, so `.functions = {kata::op_kind::affine}` lists
//     Affine only and `.functions = {}` prunes nothing;
//   * a NaN threshold is a compile-time error; upstream's pruning_threshold has no default, kata's is 0
//     (prunes only channels whose weights are all zero);
//   * reusable: every conversion starts from a fresh copy of the modifier value.
#pragma once

#include <string>
#include <vector>

#include "inner_product.hpp"

namespace kata {

namespace detail {

constexpr bool prunable(op_kind k) {
    return k == op_kind::convolution || k == op_kind::deconvolution || k == op_kind::depthwise_convolution ||
           k == op_kind::depthwise_deconvolution || k == op_kind::affine;
}

// Output channel of W's flat element t for the five prunable kinds (see the header comment).
constexpr channel_map prune_out_map(function_ref f) {
    const shape_t& w = f.input_shape(1);
    channel_map m;
    switch (f.type()) {
    case op_kind::convolution:
    case op_kind::depthwise_convolution:
        m.inner = w.prod_from(1);
        m.len = w.dims[0];
        break;
    case op_kind::depthwise_deconvolution: {
        const std::int64_t d = f.attr().group;  // the divisor
        m.inner = w.prod_from(1) * d;
        m.len = w.dims[0] / d;
        break;
    }
    case op_kind::deconvolution:
    case op_kind::affine: m = out_map(f); break;
    default: break;
    }
    return m;
}

// Generation of a pruned weight key: 0 for an ordinary one, 1 for ".../w-pruned", k for ".../w-pruned-k".
constexpr std::int64_t pruned_generation(std::string_view key) {
    const auto p = key.rfind('/');
    const std::string_view last = p == std::string_view::npos ? key : key.substr(p + 1);
    constexpr std::string_view stem = "w-pruned";
    if (last.substr(0, stem.size()) != stem) return 0;
    if (last.size() == stem.size()) return 1;
    if (last[stem.size()] != '-' || last.size() == stem.size() + 1) return 0;
    std::int64_t k = 0;
    for (std::size_t i = stem.size() + 1; i < last.size(); ++i) {
        if (last[i] < '0' || last[i] > '9' || k > 100000) return 0;
        k = k * 10 + (last[i] - '0');
    }
    return k;
}

// "<scope>/<stem>" for generation 1, "<scope>/<stem>-<gen>" after.
constexpr name_string pruned_name(std::string_view scope, std::string_view stem, std::int64_t gen) {
    name_string leaf{stem};
    if (gen > 1) leaf.append('-').append_int(gen);
    return modify_context::join(scope, leaf.view());
}

}  // namespace detail

struct PruningModifier {
    static constexpr int capacity = 16;
    double threshold = 0.0;  // nnabla's pruning_threshold: channels with s[o] <= threshold are pruned
    // nnabla's functions_to_prune; unused slots are op_kind::input (no function).
    op_kind functions[capacity]{op_kind::convolution, op_kind::deconvolution, op_kind::depthwise_convolution,
                                op_kind::depthwise_deconvolution, op_kind::affine};
    bool channel_last = false;  // accepted for nnabla compatibility (the graph knows each layout)

    constexpr bool prunes(op_kind k) const {
        if (!detail::prunable(k)) return false;
        for (op_kind l : functions)
            if (l == k) return true;
        return false;
    }

    constexpr var modify(modify_context& c, function_ref f, std::span<const var> inputs) const {
        using namespace detail;
        if (!prunes(f.type())) return keep;
        if (threshold != threshold) {
            message_string m("PruningModifier: the threshold is NaN (pruning ");
            m.append(layer(f)).append(")");
            c.fail(m);
            return keep;
        }
        const bool has_bias = f.num_inputs() > 2;
        for (int k = 1; k < f.num_inputs(); ++k) {
            if (f.input(k).is_parameter()) continue;
            message_string m("PruningModifier: cannot prune ");
            m.append(layer(f)).append(": its ").append(k == 1 ? "weight" : "bias");
            m.append(f.input(k).is_input() ? " is the graph input '" : " is computed in scope '");
            m.append(f.input(k).name());
            m.append("', not a parameter (w-pruned/b-pruned are derived from parameter values)");
            c.fail(m);
            return keep;
        }
        const name_string scope = c.parameter_scope(inputs[1]);
        const std::int64_t gen = pruned_generation(f.input(1).name()) + 1;
        derivation w;
        w.kind = derivation_kind::prune_weight;
        w.target = pruned_name(scope.view(), "w-pruned", gen);
        w.shape = f.input_shape(1);
        w.need_grad = true;
        w.sources[src_w] = param_name(f, 1);
        w.threshold = threshold;
        w.map = prune_out_map(f);
        const var wv = c.derive(w);
        if (!has_bias) return c.rebuild(f, {inputs[0], wv});
        derivation b = w;
        b.kind = derivation_kind::prune_bias;
        b.target = pruned_name(scope.view(), "b-pruned", gen);
        b.shape = f.input_shape(2);
        b.sources[src_b] = param_name(f, 2);
        const var bv = c.derive(b);
        return c.rebuild(f, {inputs[0], wv, bv});
    }
};

// ---- value rules (derivation.hpp) -------------------------------------------------------------------

// s[o] = sum of W^2 over the elements t with map(t) = o (double), channel o kept iff s[o] > threshold;
// a pruned weight / bias element is exactly 0, a kept one the source (docs/nnabla-semantics.md §2.14).
template <derivation_kind K>
struct prune_rule {
    static void compute(const derivation& d, const derivation_sources& src, std::span<float> out) {
        using namespace detail;
        constexpr bool weight = K == derivation_kind::prune_weight;
        const derivation_source w = source(src, d, src_w, true);
        const derivation_source b = weight ? derivation_source{} : source(src, d, src_b, true);
        const std::size_t n = out.size();
        if (weight)
            expect_size(src, d, w, n, "W");
        else
            expect_size(src, d, b, n, "b");
        const channel_map& m = d.map;
        if (m.len <= 0 || m.inner <= 0 || m.gsize <= 0 || m.outer_stride < 0)
            src.fail("kata::apply_conversion: bad channel map for '" + target_of(d) + "'");
        std::vector<double> s;
        for (std::size_t t = 0; t < w.size; ++t) {
            const std::size_t ch = std::size_t(m(std::int64_t(t)));
            if (ch >= s.size()) s.resize(ch + 1, 0.0);
            s[ch] += double(w.data[t]) * double(w.data[t]);
        }
        if (!weight && s.size() != n)
            src.fail("kata::apply_conversion: '" + target_of(d) + "' has " + std::to_string(n) +
                     " elements but the weight '" + std::string(d.sources[src_w].view()) + "' feeds " +
                     std::to_string(s.size()) + " output channels");
        if constexpr (weight) {
            for (std::size_t t = 0; t < n; ++t)
                out[t] = s[std::size_t(m(std::int64_t(t)))] > d.threshold ? w.data[t] : 0.0f;
        } else {
            for (std::size_t i = 0; i < n; ++i) out[i] = s[i] > d.threshold ? b.data[i] : 0.0f;
        }
    }
};
template <>
struct derivation_rule<derivation_kind::prune_weight> : prune_rule<derivation_kind::prune_weight> {};
template <>
struct derivation_rule<derivation_kind::prune_bias> : prune_rule<derivation_kind::prune_bias> {};

}  // namespace kata
