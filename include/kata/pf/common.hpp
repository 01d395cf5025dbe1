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

// `given` unless it is "none" (nnabla's `w_init=None` / `b_init=None`), then `dflt`.
constexpr init_spec or_default(init_spec given, init_spec dflt) {
    return given.kind == init_kind::none ? dflt : given;
}

// The weight shape of the convolution family: (lead, per_group, *kernel), or (lead, *kernel, per_group)
// when channel_last (docs/nnabla-semantics.md §0.1).
constexpr shape_t weight_shape(std::int64_t lead, std::int64_t per_group, const dims& kernel,
                               bool channel_last) {
    shape_t ws;
    ws.push_back(lead);
    if (!channel_last) ws.push_back(per_group);
    for (int i = 0; i < kernel.n && i < max_spatial; ++i) ws.push_back(kernel[i]);
    if (channel_last) ws.push_back(per_group);
    return ws;
}

// The optional bias "b" of length n (nnabla: zeros unless b_init is given), or kata::none.
constexpr var make_bias(builder& g, bool with_bias, std::int64_t n, init_spec b_init, bool fix_parameters) {
    if (!with_bias) return none;
    return g.parameter("b", shape_t{n}, or_default(b_init, constant_init(0)), !fix_parameters);
}

}  // namespace kata::PF::detail
