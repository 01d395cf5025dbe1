// kata/converters/batch_normalization_folding.hpp
//
// BatchNormalizationFoldingModifier(opposite=false, channel_last=false) (nnabla, docs/nnabla-semantics.md
// §2.1): a LIST, AddBiasModifier followed by BatchNormalizationFoldingModifierInner (IP -> BN) or, with
// opposite, BatchNormalizationFoldingOppositeModifierInner (BN -> IP). To fold both directions pass two of
// them.
//
//     using Folded = kata::convert<Net, kata::BatchNormalizationFoldingModifier{}>;
//     using Opp    = kata::convert<Net, kata::BatchNormalizationFoldingModifier{.opposite = true}>;
#pragma once

#include "add_bias.hpp"
#include "batch_normalization_folding_inner.hpp"
#include "batch_normalization_folding_opposite.hpp"

namespace kata {

namespace detail {
// The second element of the list: one of the two folders, picked by a run-time flag so that
// BatchNormalizationFoldingModifier stays a single structural type.
struct bn_folding_either {
    bool opposite = false;
    bool channel_last = false;
    constexpr var modify(modify_context& c, function_ref f, std::span<const var> inputs) const {
        if (opposite)
            return BatchNormalizationFoldingOppositeModifierInner{channel_last}.modify(c, f, inputs);
        return BatchNormalizationFoldingModifierInner{channel_last}.modify(c, f, inputs);
    }
};
}  // namespace detail

struct BatchNormalizationFoldingModifier {
    bool opposite = false;
    bool channel_last = false;
    constexpr auto expand() const {
        return make_modifier_list(AddBiasModifier{}, detail::bn_folding_either{opposite, channel_last});
    }
};

}  // namespace kata
