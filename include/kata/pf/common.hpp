// kata/pf/common.hpp
//
// Shared machinery of the parametric functions (nnabla's PF.*): the default scope names and the
// `name` argument (nnabla's @parametric_function_api decorator pushes `name or <default>` as a
// parameter scope, then creates "W", "b", ... inside it: PF.convolution(..., name="conv1") at the
// root creates "conv1/W"; inside scope "cb1" with no name, "cb1/conv/W").
#pragma once

#include <string_view>

#include "../ops/common.hpp"

namespace kata::PF::detail {

constexpr std::string_view scope_name(std::string_view given, std::string_view dflt) {
    return given.empty() ? dflt : given;
}

constexpr std::int64_t kernel_prod(const dims& k) {
    std::int64_t p = 1;
    for (int i = 0; i < k.n && i < max_spatial; ++i) p *= k[i];
    return p;
}

}  // namespace kata::PF::detail
