// kata/converters/batch_normalization_self_folding.hpp
//
// BatchNormalizationSelfFoldingModifier(name = "bn-self-folding") (nnabla, docs/nnabla-semantics.md §2.5):
// every test-mode BatchNormalization becomes  c0 * x + c1  (Mul2(c0, x) then Add2(., c1)) with
//     c0 = gamma / sqrt(var + eps),   c1 = beta - mean c0          (BN parameter shape: any layout/rank)
// as derived parameters `<name>/c0-<name>-<k>` and `<name>/c1-<name>-<k>`, k counting the folded BNs in
// visit order from 0 (nnabla's names, e.g. "bn-self-folding/c0-bn-self-folding-0").
//
// kata vs upstream: the name is kept for every conversion (upstream resets it to the default after the
// first one) and k restarts at 0 per conversion, so the modifier is reusable; values are recomputed by
// apply_conversion (no stale get-or-create); only test-mode BNs are folded (a batch_stat BN is not an
// affine map; run TestModeModifier first); no_bias / no_scale BNs fold correctly.
#pragma once

#include "batch_normalization_values.hpp"
#include "inner_product.hpp"

namespace kata {

struct BatchNormalizationSelfFoldingModifier {
    name_string name{"bn-self-folding"};
    int k = 0;  // conversion state: BNs folded so far (every conversion starts from a fresh copy)

    constexpr var modify(modify_context& c, function_ref f, std::span<const var> inputs) {
        using namespace detail;
        if (f.type() != op_kind::batch_normalization || f.attr().batch_stat || !bn_params_are_parameters(f))
            return keep;
        const bn_input_slots s = bn_slots(f.attr());
        auto pname = [&](const char* which) {
            name_string leaf(which);
            leaf.append('-').append(name.view()).append('-').append_int(k);
            return modify_context::join(name.view(), leaf.view());
        };
        derivation d0;
        d0.kind = derivation_kind::bn_c0;
        d0.target = pname("c0");
        d0.shape = f.input_shape(s.mean);
        set_bn_sources(d0, f);
        derivation d1 = d0;
        d1.kind = derivation_kind::bn_c1;
        d1.target = pname("c1");
        ++k;
        const var c0 = c.derive(d0);
        const var c1 = c.derive(d1);
        auto guard = c.g.scope(f.name());
        return F::add2(F::mul2(c0, inputs[0]), c1);
    }
};

// ---- value rules (derivation.hpp) -------------------------------------------------------------------

// target = c0 (bn_c0) or c1 (bn_c1) of the batch norm, in its parameter shape. Also recorded by the
// legacy BatchNormalizationLinearConverter.
template <derivation_kind K>
struct bn_coefficient_rule {
    static void compute(const derivation& d, const derivation_sources& src, std::span<float> out) {
        using namespace detail;
        std::vector<double> c0, c1;
        bn_coefficients(src, d, c0, c1);
        const std::vector<double>& c = K == derivation_kind::bn_c0 ? c0 : c1;
        if (c.size() != out.size()) src.fail("kata::apply_conversion: bad shape for '" + target_of(d) + "'");
        for (std::size_t i = 0; i < out.size(); ++i) out[i] = float(c[i]);
    }
};
template <>
struct derivation_rule<derivation_kind::bn_c0> : bn_coefficient_rule<derivation_kind::bn_c0> {};
template <>
struct derivation_rule<derivation_kind::bn_c1> : bn_coefficient_rule<derivation_kind::bn_c1> {};

}  // namespace kata
