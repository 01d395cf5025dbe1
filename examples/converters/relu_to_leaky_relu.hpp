// The user-written modifier of nnabla's FunctionModifier documentation, in kata.
#pragma once

#include <kata/converters.hpp>

struct ReLUToLeakyReLUModifier {
    double alpha = 0.1;
    constexpr kata::var modify(kata::modify_context& c, kata::function_ref f,
                               std::span<const kata::var> inputs) {
        (void)c;
        if (f.type() == kata::op_kind::relu) return kata::F::leaky_relu(inputs[0], alpha);
        return kata::keep;  // rebuild unchanged
    }
};
