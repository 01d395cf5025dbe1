// kata/converters/rebuild.hpp
//
// kata::rebuild(g, op, attributes, inputs, scope): builds a function of kind `op` with the arguments
// recorded in `attributes` on new inputs, by calling the op's F:: definition, so the output shape and
// layout are RE-INFERRED and every shape check runs again (nnabla's `_modify_as_same` /
// `_call_function(type_name, inputs, args)`). This is what "keep" in a FunctionModifier does, and what
// lets IdentityModifier change the batch size. The new node gets `scope` as its parameter scope name
// (the original function's), so diagnostics name the same layer.
//
// Inputs are interpreted as the op's node inputs in nnabla order: e.g. BatchNormalization
// x, [beta unless no_bias], [gamma unless no_scale], mean, var; IP functions x, W[, b] (a bias is
// used when 3 inputs are given, whatever attributes.has_bias says, so modifiers can add a bias).
// The F:: call of each kind is its descriptor's `rebuild` (kata/ops/descriptors.hpp).
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "../ops/descriptors.hpp"

namespace kata {

// Rebuilds function kind `k` with arguments `a` on `inputs` in builder `g`, under parameter scope
// `scope` (the original function's name). Input count errors are reported through g.fail().
constexpr var rebuild(builder& g, op_kind k, const attributes& a, std::span<const var> inputs,
                      std::string_view scope = {}) {
    const op_descriptor& d = descriptor_of(k);
    // "kata::rebuild: Convolution(base_axis=1, pad=(1,1), ...) in scope 'conv1'": what was to be built.
    auto what = [&] {
        message_string m("kata::rebuild: ");
        m.append(type_name(k)).append('(');
        append_args(m, d.args(a)).append(") in scope '").append(scope).append("'");
        return m;
    };
    if (inputs.empty() || inputs.size() > 16) {
        message_string m = what();
        m.append(" needs 1 to 16 inputs, got ");
        m.append_int(std::int64_t(inputs.size()));
        g.fail(m);
        return var{};
    }
    for (const var& v : inputs) {
        if (v.g != &g || v.id < 0) {
            message_string m = what();
            m.append(" got an input that is not a variable of the new graph");
            g.fail(m);
            return var{&g, inputs[0].g == &g && inputs[0].id >= 0 ? inputs[0].id : 0};
        }
    }
    if (!d.rebuild) {
        message_string m("kata::rebuild: cannot rebuild a node of kind ");
        m.append(type_name(k));
        g.fail(m);
        return inputs[0];
    }
    auto s = g.scope(scope);
    return d.rebuild(g, a, inputs);
}

}  // namespace kata
