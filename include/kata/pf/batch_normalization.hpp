// kata/pf/batch_normalization.hpp
//
// PF::batch_normalization and PF::fused_batch_normalization (nnabla, scope "bn"): beta = 0,
// gamma = 1 (trainable unless fix_parameters), mean = 0 and var = 1 (need_grad = false), each of
// x's rank with the size of x at the normalised axes and 1 elsewhere.
// Options as designated initializers or keywords in any order (kata/ops/keywords.hpp):
//     PF::batch_normalization(h, kw::name = "bn1", kw::axes = {3}, kw::batch_stat = false)
#pragma once

#include "../ops/batch_normalization.hpp"
#include "common.hpp"

namespace kata {

struct pf_batch_normalization_args {
    int axes[max_rank]{1};
    int naxes = 1;
    double decay_rate = 0.9;
    double eps = 1e-5;
    bool batch_stat = true;
    bool fix_parameters = false;
    bool no_scale = false;
    bool no_bias = false;
    // nnabla's param_init dict: beta, gamma, mean, var initializers (none = the defaults above).
    init_spec beta_init{}, gamma_init{}, mean_init{}, var_init{};
    std::string_view name = {};  // default "bn"
};

namespace PF {
namespace detail {
struct bn_params {
    var beta, gamma, mean, variance;
};
constexpr bn_params make_bn_params(var x, const pf_batch_normalization_args& a) {
    builder& g = *x.g;
    const shape_t& xs = x.shape();
    shape_t ps;
    ps.rank = xs.rank;
    for (int i = 0; i < xs.rank; ++i) ps.dims[i] = 1;
    for (int i = 0; i < a.naxes; ++i) {
        int ax = a.axes[i] < 0 ? a.axes[i] + xs.rank : a.axes[i];
        if (ax >= 0 && ax < xs.rank) ps.dims[ax] = xs.dims[ax];
    }
    auto pick = [](init_spec given, double dflt) {
        return given.kind == init_kind::none ? constant_init(dflt) : given;
    };
    bn_params p{none, none, none, none};
    if (!a.no_bias) p.beta = g.parameter("beta", ps, pick(a.beta_init, 0), !a.fix_parameters);
    if (!a.no_scale) p.gamma = g.parameter("gamma", ps, pick(a.gamma_init, 1), !a.fix_parameters);
    p.mean = g.parameter("mean", ps, pick(a.mean_init, 0), false);
    p.variance = g.parameter("var", ps, pick(a.var_init, 1), false);
    return p;
}
constexpr batch_normalization_args to_args(const pf_batch_normalization_args& a) {
    batch_normalization_args r;
    for (int i = 0; i < max_rank; ++i) r.axes[i] = a.axes[i];
    r.naxes = a.naxes;
    r.decay_rate = a.decay_rate;
    r.eps = a.eps;
    r.batch_stat = a.batch_stat;
    return r;
}
}  // namespace detail

constexpr var batch_normalization(var x, pf_batch_normalization_args a = {}) {
    auto s = x.g->scope(kata::PF::detail::scope_name(a.name, "bn"));
    auto p = detail::make_bn_params(x, a);
    return F::batch_normalization(x, p.beta, p.gamma, p.mean, p.variance, detail::to_args(a));
}

// nnabla: PF.fused_batch_normalization(inp, z=None, axes=[1], ..., nonlinearity='relu', name="bn")
constexpr var fused_batch_normalization(var x, var z, pf_batch_normalization_args a = {}) {
    auto s = x.g->scope(kata::PF::detail::scope_name(a.name, "bn"));
    auto p = detail::make_bn_params(x, a);
    return F::fused_batch_normalization(x, p.beta, p.gamma, p.mean, p.variance, z, detail::to_args(a));
}

// Keyword forms (kata/ops/keywords.hpp).
template <keyword_argument... K>
constexpr var batch_normalization(var x, const K&... kws) {
    return batch_normalization(x, make_args<pf_batch_normalization_args>(kws...));
}
template <keyword_argument... K>
constexpr var fused_batch_normalization(var x, var z, const K&... kws) {
    return fused_batch_normalization(x, z, make_args<pf_batch_normalization_args>(kws...));
}

}  // namespace PF
}  // namespace kata

KATA_ADAPT_ARGS(kata::pf_batch_normalization_args, axes, naxes, decay_rate, eps, batch_stat, fix_parameters,
                no_scale, no_bias, beta_init, gamma_init, mean_init, var_init, name);
