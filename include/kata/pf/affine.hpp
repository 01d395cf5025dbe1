// kata/pf/affine.hpp
//
// PF::affine (nnabla PF.affine, scope "affine") and PF::embed (scope "embed").
// PF::affine's options as designated initializers or keywords in any order (kata/ops/keywords.hpp).
#pragma once

#include "../ops/affine.hpp"
#include "common.hpp"

namespace kata {

struct pf_affine_args {
    int base_axis = 1;
    init_spec w_init{};  // default glorot uniform (inmaps = prod(x.shape[base_axis:]))
    init_spec b_init{};  // default 0
    bool fix_parameters = false;
    bool with_bias = true;
    std::string_view name = {};  // default "affine"
};

namespace PF {

// nnabla: PF.affine(inp, n_outmaps, base_axis=1, w_init=None, b_init=None, fix_parameters=False,
//                   rng=None, with_bias=True, name="affine"). W (prod(inp.shape[base_axis:]), n_outmaps).
constexpr var affine(var x, shape_t n_outmaps, pf_affine_args a = {}) {
    builder& g = *x.g;
    auto s = g.scope(detail::scope_name(a.name, "affine"));
    // W's first dimension is prod(x.shape[base_axis:]): report a bad base_axis before sizing it.
    const bool axis_ok = a.base_axis >= 0 && a.base_axis < x.shape().rank;
    if (!axis_ok) g.fail(kata::detail::affine_base_axis_message(x, a.base_axis));
    const std::int64_t inmaps = axis_ok ? x.shape().prod_from(a.base_axis) : 1;
    shape_t ws;
    ws.push_back(inmaps);
    for (int i = 0; i < n_outmaps.rank; ++i) ws.push_back(n_outmaps.dims[i]);
    init_spec wi = a.w_init.kind == init_kind::none
                       ? glorot_uniform_init(double(inmaps), double(n_outmaps.numel()))
                       : a.w_init;
    var w = g.parameter("W", ws, wi, !a.fix_parameters);
    var b = none;
    if (a.with_bias) {
        init_spec bi = a.b_init.kind == init_kind::none ? constant_init(0) : a.b_init;
        b = g.parameter("b", n_outmaps, bi, !a.fix_parameters);
    }
    return F::affine(x, w, b, {a.base_axis});
}
constexpr var affine(var x, std::int64_t n_outmaps, pf_affine_args a = {}) {
    return affine(x, shape_t{n_outmaps}, a);
}

// nnabla: PF.embed(inp, n_inputs, n_features, initializer=None, fix_parameters=False, name="embed").
// W (n_inputs, n_features) ~ U(-sqrt(3), sqrt(3)).
constexpr var embed(var x, std::int64_t n_inputs, std::int64_t n_features, init_spec init = {},
                    bool fix_parameters = false, std::string_view name = {}) {
    builder& g = *x.g;
    auto s = g.scope(detail::scope_name(name, "embed"));
    init_spec wi =
        init.kind == init_kind::none ? uniform_init(-1.7320508075688772, 1.7320508075688772) : init;
    var w = g.parameter("W", shape_t{n_inputs, n_features}, wi, !fix_parameters);
    return F::embed(x, w);
}

// Keyword forms (kata/ops/keywords.hpp).
template <keyword_argument... K>
constexpr var affine(var x, shape_t n_outmaps, const K&... kws) {
    return affine(x, n_outmaps, make_args<pf_affine_args>(kws...));
}
template <keyword_argument... K>
constexpr var affine(var x, std::int64_t n_outmaps, const K&... kws) {
    return affine(x, shape_t{n_outmaps}, make_args<pf_affine_args>(kws...));
}

}  // namespace PF
}  // namespace kata

KATA_ADAPT_ARGS(kata::pf_affine_args, base_axis, w_init, b_init, fix_parameters, with_bias, name);
