// kata/converters/add_bias.hpp
//
// AddBiasModifier (nnabla AddBiasModifier, docs/nnabla-semantics.md §2.2): an inner-product function (Affine,
// Convolution, Deconvolution) without a bias, whose input is produced by a BatchNormalization or whose first
// consumer is one, gets a zero bias `<scope of W>/b` so the BN folders have a bias to fold into.
// Every other function is kept.
//
// kata vs upstream: the Deconvolution bias has the OUTPUT channel count (O/g)*g (upstream uses
// W.shape[0], the input channels, and the rebuilt deconvolution fails when I != O); the bias is a
// derived parameter (derivation_kind::constant, value 0) that apply_conversion (re)creates.
#pragma once

#include "inner_product.hpp"

namespace kata {

struct AddBiasModifier {
    constexpr var modify(modify_context& c, function_ref f, std::span<const var> inputs) const {
        using namespace detail;
        if (!is_ip(f.type()) || f.num_inputs() != 2) return keep;
        const bool bn_before = f.input(0).type() == op_kind::batch_normalization;
        const bool bn_after = f.num_consumers() > 0 && f.consumer(0).type() == op_kind::batch_normalization;
        if (!bn_before && !bn_after) return keep;
        derivation d;
        d.kind = derivation_kind::constant;
        d.value = 0;
        d.target = modify_context::join(c.parameter_scope(inputs[1]).view(), "b");
        d.shape = bias_shape(f);
        d.need_grad = true;
        var b = c.derive(d);
        return c.rebuild(f, {inputs[0], inputs[1], b});
    }
};

// ---- value rule (derivation.hpp) --------------------------------------------------------------------

// target[:] = value.
template <>
struct derivation_rule<derivation_kind::constant> {
    static void compute(const derivation& d, const derivation_sources&, std::span<float> out) {
        for (float& v : out) v = float(d.value);
    }
};

}  // namespace kata
