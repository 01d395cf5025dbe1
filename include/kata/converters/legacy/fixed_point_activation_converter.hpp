// kata/converters/legacy/fixed_point_activation_converter.hpp
//
// FixedPointActivationConverter(activation_functions = {ReLU}, args_fpq = {n = 8, sign = false,
// delta = 2e-4, quantize = true}, name = "fixed-point-activation-graph") (nnabla v1.0.11 - v1.10,
// docs/nnabla-semantics.md §3.4): every listed activation is REPLACED by FixedPointQuantize(x; sign, n,
// delta, ste_fine_grained = true) of its input. With sign = false the quantizer clamps at 0, so it subsumes
// ReLU: y = clip(q(x), 0, (2^n - 1) delta) (0.051 for the defaults; q rounds half away from zero,
// docs/nnabla-semantics.md §3.5). Everything else is identity-converted (parameters copied to `<name>/<key>`,
// identity_converter.hpp).
//
//     using A = kata::convert<Net, kata::FixedPointActivationConverter{}>;
//     using B = kata::convert<Net, kata::FixedPointActivationConverter{
//                    .activation_functions = {kata::op_kind::relu, kata::op_kind::leaky_relu},
//                    .args_fpq = {.n = 4, .delta = 0.25}}>;
//
// kata vs upstream: quantize = false leaves the activations as they are (identity conversion; upstream
// ignores the flag and quantizes anyway); the arguments are checked at compile time (by
// F::fixed_point_quantize: n > 0, n > 1 when signed, delta > 0); a listed function with more than one
// input is a compile-time error (upstream would quantize its first input and drop the others);
// functions are matched by kind, so the conversion also happens for cuDNN-backed graphs.
#pragma once

#include "../../ops/elementwise.hpp"
#include "identity_converter.hpp"

namespace kata {

// nnabla's args_fpq of FixedPointActivationConverter (docs/nnabla-semantics.md §3.4).
struct fixed_point_activation_args {
    int n = 8;
    bool sign = false;
    double delta = 2e-4;
    bool quantize = true;
};

struct FixedPointActivationConverter {
    op_kind activation_functions[8]{op_kind::relu};
    fixed_point_activation_args args_fpq{};
    name_string name{"fixed-point-activation-graph"};

    constexpr var modify(modify_context& c, function_ref f, std::span<const var> inputs) const {
        if (!args_fpq.quantize || !detail::listed(activation_functions, f.type()))
            return detail::identity_conversion(c, name.view(), f, inputs);
        if (f.num_inputs() != 1) {
            message_string m("FixedPointActivationConverter: ");
            m.append(detail::layer(f)).append(" has ").append_int(f.num_inputs());
            m.append(" inputs; only single-input activations can be replaced by FixedPointQuantize");
            c.fail(m);
            return keep;
        }
        const var x = detail::input_or_copy(c, name.view(), f, inputs, 0);
        auto guard = c.g.scope(f.name());
        return F::fixed_point_quantize(x, {args_fpq.sign, args_fpq.n, args_fpq.delta, true});
    }
};

}  // namespace kata
