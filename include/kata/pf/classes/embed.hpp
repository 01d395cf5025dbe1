// kata/pf/classes/embed.hpp
//
// What: kata::Embed, the class form of the embedding lookup.
//
// nnabla mapping: experimental.parametric_function_class.embed.Embed(n_inputs, n_features,
// w_init=None, fix_parameters=False). Parameter "<name>/W" (n_inputs, n_features) ~ U(-sqrt 3,
// sqrt 3) (need_grad = !fix_parameters); call F::embed(x, W): int32 indices of any shape ->
// x.shape + (n_features,).
//
//     kata::Embed emb(100, 16, {.name = "emb"});
//     auto e = emb(g.input("tokens", {4, 7}, kata::layout::none, kata::dtype::i32));   // (4, 7, 16)
//
// Deviations:
//  * Upstream bug fixed (docs/nnabla-semantics.md §10.14): the upstream constructor always raises (an
// undefined
//    name, a non-existent nn.Variables, an initializer called without a shape). kata's Embed builds
//    and runs, with the documented intended behaviour above.
//  * kata extension: `rng` (a seed for the default initializer, as the other classes; upstream's Embed
//    has no rng argument). Names: module.hpp.
#pragma once

#include "../../ops/affine.hpp"
#include "module.hpp"

namespace kata {

struct embed_options {
    std::string_view name = {};  // module name = parameter prefix (first, so {.name = "fc", ...} works)
    init_spec w_init{};          // default U(-sqrt(3), sqrt(3))
    bool fix_parameters = false;
    std::optional<std::uint32_t> rng{};  // kata extension
};

class Embed {
public:
    constexpr Embed(std::int64_t n_inputs, std::int64_t n_features, embed_options o = {})
        : n_inputs_(n_inputs), n_features_(n_features), o_(o) {}
    // Options as keywords in any order (kata/ops/keywords.hpp).
    template <keyword_argument... K>
    constexpr Embed(std::int64_t n_inputs, std::int64_t n_features, const K&... kws)
        : Embed(n_inputs, n_features, make_args<embed_options>(kws...)) {}

    constexpr var operator()(var x) const {
        builder& g = *x.g;
        return detail::in_module_scope(g, o_.name, [&] {
            const init_spec wi = detail::module_weight_init(
                o_.w_init, uniform_init(-1.7320508075688772, 1.7320508075688772), o_.rng);
            var w = g.parameter("W", W_shape(), wi, !o_.fix_parameters);
            return F::embed(x, w);
        });
    }

    constexpr shape_t W_shape() const { return shape_t{n_inputs_, n_features_}; }
    constexpr std::int64_t n_inputs() const { return n_inputs_; }
    constexpr std::int64_t n_features() const { return n_features_; }
    constexpr const embed_options& options() const { return o_; }

private:
    std::int64_t n_inputs_, n_features_;
    embed_options o_;
};

}  // namespace kata

KATA_ADAPT_ARGS(kata::embed_options, name, w_init, fix_parameters, rng);
