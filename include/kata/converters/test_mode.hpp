// kata/converters/test_mode.hpp
//
// BatchNormBatchStatModifier (nnabla, docs/nnabla-semantics.md §2.10): BatchNormalization and
// FusedBatchNormalization are rebuilt with batch_stat = false (all other arguments unchanged; absent
// beta/gamma handled: kata rebuilds from the recorded no_bias/no_scale, upstream mis-wires positionally).
//
// TestModeModifier(rm_funcs) (nnabla, docs/nnabla-semantics.md §2.11): a LIST, BatchNormBatchStatModifier
// then RemoveFunctionModifier(rm_funcs).
//
//     using Test = kata::convert<Net, kata::TestModeModifier{kata::op_kind::mul_scalar}>;
#pragma once

#include <initializer_list>

#include "remove_function.hpp"

namespace kata {

struct BatchNormBatchStatModifier {
    constexpr var modify(modify_context& c, function_ref f, std::span<const var> inputs) const {
        if (f.type() != op_kind::batch_normalization && f.type() != op_kind::fused_batch_normalization)
            return keep;
        attributes a = f.attr();
        a.batch_stat = false;
        return c.rebuild(f, inputs, a);
    }
};

struct TestModeModifier {
    RemoveFunctionModifier rm{};

    constexpr TestModeModifier() = default;
    constexpr TestModeModifier(std::initializer_list<op_kind> rm_funcs) : rm(rm_funcs) {}

    constexpr auto expand() const { return make_modifier_list(BatchNormBatchStatModifier{}, rm); }
};

}  // namespace kata
