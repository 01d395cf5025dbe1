// kata/converters/remove_function.hpp
//
// RemoveFunctionModifier(rm_funcs) (nnabla, docs/nnabla-semantics.md §2.9): every function whose kind is
// listed is bypassed (its consumers read its first input; its other inputs are dropped).
//
//     kata::RemoveFunctionModifier{kata::op_kind::batch_normalization, kata::op_kind::mul_scalar}
//
// kata vs upstream: kinds instead of type-name strings; the NNP-loading special case ("x" input
// appended to the consumer) does not exist in kata. At most 16 kinds.
#pragma once

#include <initializer_list>

#include "function_modifier.hpp"

namespace kata {

struct RemoveFunctionModifier {
    static constexpr int capacity = 16;
    op_kind rm_funcs[capacity]{};
    int count = 0;

    constexpr RemoveFunctionModifier() = default;
    constexpr RemoveFunctionModifier(std::initializer_list<op_kind> kinds) {
        for (op_kind k : kinds)
            if (count < capacity) rm_funcs[count++] = k;
    }

    constexpr bool removes(op_kind k) const {
        for (int i = 0; i < count; ++i)
            if (rm_funcs[i] == k) return true;
        return false;
    }

    constexpr var modify(modify_context&, function_ref f, std::span<const var> inputs) const {
        return removes(f.type()) && f.type() != op_kind::sink ? inputs[0] : keep;
    }
};

}  // namespace kata
