// kata/converters/legacy/batch_normalization_linear_converter.hpp
//
// BatchNormalizationLinearConverter(name = "bn-linear") (nnabla v1.0.11 - v1.10, docs/nnabla-semantics.md
// §3.1): every test-mode BatchNormalization (batch_stat = false) becomes  c0 * x + c1  (Mul2(c0, x) then
// Add2(., c1)) with
//     c0 = gamma / sqrt(var + eps),   c1 = beta - mean c0         (the BN parameters' shape, e.g. (1,C,1,1))
// as derived parameters `<name>/c0-<name>-<cnt>` and `<name>/c1-<name>-<cnt>`, cnt counting the converted
// BNs in visit order from 0 ("bn-linear/c0-bn-linear-0"). Everything else is identity-converted
// (identity_converter.hpp): the parameters it reads are copied to `<name>/<key>`; batch_stat = true BNs
// stay BNs (with copied parameters).
//
//     using Linear = kata::convert<Net, kata::BatchNormalizationLinearConverter{}>;
//     kata::apply_conversion<Linear>(store);
//
// kata vs upstream: c0/c1 derived from the store at apply time, recomputed on every apply (upstream:
// computed from the parameters captured at construction, stale on a second conversion); cnt restarts
// at 0 for every conversion (reusable); no_bias / no_scale BNs convert correctly (beta = 0, gamma = 1;
// upstream indexes inputs[1..4] positionally); BNs are matched by kind (upstream by implementation name:
// nothing happens on cuDNN). Same c0/c1 derivations as BatchNormalizationSelfFoldingModifier.
#pragma once

#include "identity_converter.hpp"

namespace kata {

struct BatchNormalizationLinearConverter {
    name_string name{"bn-linear"};
    int cnt = 0;  // conversion state: BNs converted so far (every conversion starts from a fresh copy)

    constexpr var modify(modify_context& c, function_ref f, std::span<const var> inputs) {
        using namespace detail;
        if (f.type() != op_kind::batch_normalization || f.attr().batch_stat || !bn_params_are_parameters(f))
            return detail::identity_conversion(c, name.view(), f, inputs);
        const bn_input_slots s = bn_slots(f.attr());
        auto pname = [&](const char* which) {
            name_string leaf(which);
            leaf.append('-').append(name.view()).append('-').append_int(cnt);
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
        ++cnt;
        const var x = detail::input_or_copy(c, name.view(), f, inputs, 0);
        const var c0 = c.derive(d0);
        const var c1 = c.derive(d1);
        auto guard = c.g.scope(f.name());
        return F::add2(F::mul2(c0, x), c1);
    }
};

}  // namespace kata
