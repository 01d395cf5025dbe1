// kata/converters/no_grad.hpp
//
// NoGradModifier (nnabla, docs/nnabla-semantics.md §2.13; behind Variable.no_grad()): rebuilds every function
// unchanged and marks every parameter need_grad = false in the new graph (a frozen feature extractor). Graph
// inputs are carried as they are. kata computes the parameter set once (upstream: once per function).
#pragma once

#include "function_modifier.hpp"

namespace kata {

struct NoGradModifier {
    constexpr var map_leaf(modify_context& c, function_ref leaf) const {
        if (!leaf.is_parameter()) return keep;
        return c.g.parameter(leaf.name(), leaf.shape(), leaf.get().init, false);
    }
    constexpr var modify(modify_context&, function_ref, std::span<const var>) const { return keep; }
};

}  // namespace kata
