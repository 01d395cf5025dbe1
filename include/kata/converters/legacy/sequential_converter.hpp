// kata/converters/legacy/sequential_converter.hpp
//
// SequentialConverter([c1, c2, ...]) (nnabla v1.0.11 - v1.10, docs/nnabla-semantics.md §3): converts with c1,
// feeds the result to c2, and so on. In kata that is a modifier LIST (kata::modifier_list, flattened in place
// by kata::convert), so any modifiers compose, legacy or new-style:
//
//     using FixedPoint = kata::convert<Net, kata::SequentialConverter{
//         kata::FixedPointWeightConverter{}, kata::FixedPointActivationConverter{}}>;
//     // = kata::convert<Net, kata::FixedPointWeightConverter{}, kata::FixedPointActivationConverter{}>
//     // = kata::convert<kata::convert<Net, kata::FixedPointWeightConverter{}>,
//     //                 kata::FixedPointActivationConverter{}>
//
// Each converter sees the previous one's graph. As upstream (whose converters capture the parameter
// list when they are constructed, before the sequence runs), a converter does not copy the parameters
// an earlier one created: after FixedPointWeightConverter, FixedPointActivationConverter copies the
// original parameters it meets (to "fixed-point-activation-graph/<key>") but reads
// "fixed-point-weight-graph/conv1/conv/fp_quantized_conv/W" as it is (no
// "fixed-point-activation-graph/fixed-point-weight-graph/..." copies). The derivations of the whole
// list are applied in order by kata::apply_conversion.
//
// kata vs upstream: upstream's entry_variables (passed to every converter) have no twin (kata keeps
// every graph input); reusable, like every kata modifier value.
#pragma once

#include "../function_modifier.hpp"

namespace kata {

template <class... Cs>
struct SequentialConverter {
    modifier_list<Cs...> converters;

    constexpr SequentialConverter(Cs... cs) : converters(make_modifier_list(cs...)) {}
    constexpr auto expand() const { return converters; }
};
template <class... Cs>
SequentialConverter(Cs...) -> SequentialConverter<Cs...>;

}  // namespace kata
