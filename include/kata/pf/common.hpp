// kata/pf/common.hpp
//
// Shared machinery of the parametric functions (nnabla's PF.*): the default scope names and the
// `name` argument. nnabla 1.39's @parametric_function_api pushes `name` (when given) as a parameter
// scope and then the function's default scope inside it, and creates "W", "b", ... there:
// PF.convolution(..., name="conv1") at the root creates "conv1/conv/W"; with no name "conv/W"; inside
// scope "cb1" with name "c", "cb1/c/conv/W" (checked against nnabla 1.39 by
// tools/fixtures/make_nnabla_name_fixtures.py, tests/graph/nnabla_parameter_names.cpp).
#pragma once

#include <string_view>

#include "../ops/common.hpp"

namespace kata::PF::detail {

// The scope a parametric function creates its parameters in: "<name>/<default>", or "<default>".
constexpr name_string scope_name(std::string_view given, std::string_view dflt) {
    name_string s{given};
    if (!given.empty()) s.append('/');
    s.append(dflt);
    return s;
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
