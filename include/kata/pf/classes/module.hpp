// kata/pf/classes/module.hpp
//
// What: the machinery shared by kata's parametric function CLASSES (nnabla
// experimental/parametric_function_class: Affine, Convolution, Deconvolution, BatchNormalization,
// Embed): module naming and the `rng` seed.
//
// nnabla mapping: an upstream class is a Module whose parameters are Variable attributes; its
// get_parameters() names them "<module prefix>/<attr>" where the prefix is the attribute path from
// the root module ("conv1/W" for `self.conv1 = Conv2d(...)`), and the ROOT module's own parameters
// are named "/W", "/b" (docs/nnabla-semantics.md §7, 10.14).
// In kata a class is a constexpr value type used inside a network function; `options.name` plays
// the role of the module prefix. Calling the object creates (get-or-create, nnabla's
// get_parameter_or_create) "<builder scope>/<name>/W" etc. and the function node. Calling the same
// object twice shares its parameters, exactly like calling one Module twice.
//
// Deviations (decided):
//  * No leading slash: an unnamed module at the root names its parameters "W", "b" (upstream "/W"),
//    because "/W" is not a valid kata key and never round-trips through nnabla's own registry.
//  * Parameters live in the kata::parameter_store like every other kata parameter (upstream classes
//    keep standalone Variables outside nnabla's registry); save/load therefore go through
//    parameter_store::save/load, which write exactly the names above.
//  * `rng` is a seed (std::optional<std::uint32_t>), not a RandomState object. When given, the
//    DEFAULT weight initializer draws from a fresh kata::rng(seed) (numpy RandomState(seed)
//    compatible) when kata::create_parameters runs, instead of the store's generator; the store's
//    generator is then not advanced. As upstream, rng does not affect a user-supplied w_init (seed
//    that one with kata::with_seed(init, seed)) nor constant initializers.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "../../ops/common.hpp"

namespace kata::detail {

// Runs `body()` inside builder scope `name` (nothing pushed when the name is empty).
template <class Body>
constexpr var in_module_scope(builder& g, std::string_view name, Body body) {
    if (name.empty()) return body();
    auto s = g.scope(name);
    return body();
}

// The default weight initializer, seeded when the class was given `rng`; a user's initializer as is.
constexpr init_spec module_weight_init(init_spec given, init_spec dflt,
                                       const std::optional<std::uint32_t>& rng) {
    if (given.kind != init_kind::none) return given;
    return rng ? with_seed(dflt, *rng) : dflt;
}
constexpr init_spec module_init_or(init_spec given, init_spec dflt) {
    return given.kind == init_kind::none ? dflt : given;
}

constexpr std::int64_t dims_prod(const dims& k) {
    std::int64_t p = 1;
    for (int i = 0; i < k.n && i < max_spatial; ++i) p *= k[i];
    return p;
}

}  // namespace kata::detail
