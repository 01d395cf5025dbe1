// kata/ops/descriptors.hpp
//
// Every op's descriptor (descriptor.hpp), looked up by kind:
//
//     const kata::op_descriptor& d = kata::descriptor_of(node.op);
//     d.name;                      // "Convolution"
//     d.rebuild(g, node.attr, in); // the op again on new inputs
//     d.args(node.attr);           // nnabla's arguments, named and in order
//     d.channel_last;              // kata::layout_rule::convolution_like
//
// The table is one array built by a single pack expansion over the kinds (no recursion, no Hana):
// a lookup is an index. A kind without a descriptor (no op_traits specialisation) is a compile error
// here that names it.
#pragma once

#include <array>
#include <cstddef>
#include <utility>

#include "../ops.hpp"
#include "descriptor.hpp"

namespace kata {

namespace detail {
template <std::size_t... I>
constexpr std::array<op_descriptor, sizeof...(I)> make_descriptor_table(std::index_sequence<I...>) {
    return {make_descriptor<op_kind(I)>()...};
}
}  // namespace detail

inline constexpr std::array<op_descriptor, op_kind_count> op_descriptors =
    detail::make_descriptor_table(std::make_index_sequence<op_kind_count>{});

constexpr const op_descriptor& descriptor_of(op_kind k) {
    return op_descriptors[std::size_t(k) < op_kind_count ? std::size_t(k) : 0];
}

}  // namespace kata
