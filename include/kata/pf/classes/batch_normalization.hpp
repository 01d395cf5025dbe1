// kata/pf/classes/batch_normalization.hpp
//
// What: kata::BatchNormalization and kata::BatchNorm1d / BatchNorm2d / BatchNorm3d.
//
// nnabla mapping: experimental.parametric_function_class.batch_normalization.BatchNormalization(
// n_features, n_dims, axes=[1], decay_rate=0.9, eps=1e-5, batch_stat=True, output_stat=False,
// fix_parameters=False, param_init=None) and BatchNorm1d/2d/3d(n_features, axes=[1], ...) with
// n_dims = 3 / 4 / 5. Parameters (a shape of n_dims ones with n_features at axes[0]):
// "<name>/beta" = 0 and "<name>/gamma" = 1 (need_grad = !fix_parameters), "<name>/mean" = 0 and
// "<name>/var" = 1 (need_grad = false); param_init {.beta, .gamma, .mean, .var} overrides any of
// them (nnabla's param_init dict). Creation order beta, gamma, mean, var (as upstream).
// Call: bn(x, test) -> F::batch_normalization(x, beta, gamma, mean, var, axes, decay_rate, eps,
// batch_stat = !test).
//
//     kata::BatchNorm2d bn1(6, {.name = "bn1", .eps = 1e-3});
//     auto h = bn1(conv1(x), /*test=*/true);
//
// Deviations:
//  * Upstream bug fixed (docs/nnabla-semantics.md §10.14): BatchNorm1d/2d/3d discard the user's eps and
// hard-wire
//    1e-5; kata passes the given eps through (test in tests/graph/parametric_classes.cpp).
//  * `axes` is a `dims` holding exactly one axis (upstream asserts len(axes) == 1; kata records a
//    graph error otherwise). A negative axis counts from n_dims, as Python list indexing does.
//  * The constructor's batch_stat: upstream ignores it (__call__(x, test=False) always uses
//    batch_stat = not test). kata: bn(x, test) does exactly that; bn(x) without `test` uses the
//    constructor's batch_stat (whose default true equals upstream's default call).
//  * output_stat = true (extra mean/var outputs) is not representable (kata functions have one
//    output): building such a graph is a compile-time error naming the module.
//  * Names: module.hpp (no leading '/').
#pragma once

#include "../../ops/batch_normalization.hpp"
#include "module.hpp"

namespace kata {

// nnabla's param_init dict: {'beta': ..., 'gamma': ..., 'mean': ..., 'var': ...}; none = default.
struct bn_param_init {
    init_spec beta{}, gamma{}, mean{}, var{};
};

struct batch_norm_options {
    std::string_view name = {};  // module name = parameter prefix (first, so {.name = "fc", ...} works)
    dims axes{1};                // exactly one axis
    double decay_rate = 0.9;
    double eps = 1e-5;
    bool batch_stat = true;
    bool output_stat = false;
    bool fix_parameters = false;
    bn_param_init param_init{};
};

class BatchNormalization {
public:
    constexpr BatchNormalization(std::int64_t n_features, int n_dims, batch_norm_options o = {})
        : n_features_(n_features), n_dims_(n_dims), o_(o) {}
    // Options as keywords in any order (kata/ops/keywords.hpp): BatchNorm2d(16, kw::eps = 1e-3).
    template <keyword_argument... K>
    constexpr BatchNormalization(std::int64_t n_features, int n_dims, const K&... kws)
        : BatchNormalization(n_features, n_dims, make_args<batch_norm_options>(kws...)) {}

    // Training (batch statistics) unless test; the constructor's batch_stat is not consulted.
    constexpr var operator()(var x, bool test) const { return call(x, !test); }
    // batch_stat from the constructor (kata; see header comment).
    constexpr var operator()(var x) const { return call(x, o_.batch_stat); }

    constexpr int axis() const {
        const int a = o_.axes.n > 0 ? int(o_.axes[0]) : 1;
        return a < 0 ? a + n_dims_ : a;
    }
    constexpr shape_t param_shape() const {
        shape_t s;
        for (int i = 0; i < n_dims_ && i < max_rank; ++i) s.push_back(i == axis() ? n_features_ : 1);
        return s;
    }
    constexpr std::int64_t n_features() const { return n_features_; }
    constexpr int n_dims() const { return n_dims_; }
    constexpr const batch_norm_options& options() const { return o_; }

private:
    constexpr var call(var x, bool batch_stat) const {
        builder& g = *x.g;
        return detail::in_module_scope(g, o_.name, [&] {
            if (o_.axes.n != 1 || axis() < 0 || axis() >= n_dims_ || n_dims_ < 1 || n_dims_ > max_rank) {
                auto m = g.prefix(op_kind::batch_normalization);
                m.append(
                     "kata::BatchNormalization needs exactly one axis in [-n_dims, n_dims) (nnabla asserts ")
                    .append("len(axes) == 1), got ")
                    .append_int(o_.axes.n)
                    .append(" axes, n_dims ")
                    .append_int(n_dims_);
                g.fail(m);
            }
            if (o_.output_stat) {
                auto m = g.prefix(op_kind::batch_normalization);
                m.append("output_stat=true is not supported by kata (functions have a single output)");
                g.fail(m);
            }
            const shape_t ps = param_shape();
            const bool train = !o_.fix_parameters;
            const auto& pi = o_.param_init;
            var beta = g.parameter("beta", ps, detail::module_init_or(pi.beta, constant_init(0)), train);
            var gamma = g.parameter("gamma", ps, detail::module_init_or(pi.gamma, constant_init(1)), train);
            var mean = g.parameter("mean", ps, detail::module_init_or(pi.mean, constant_init(0)), false);
            var variance = g.parameter("var", ps, detail::module_init_or(pi.var, constant_init(1)), false);
            batch_normalization_args a = bn_axis(axis(), batch_stat, o_.eps, o_.decay_rate);
            return F::batch_normalization(x, beta, gamma, mean, variance, a);
        });
    }

    std::int64_t n_features_;
    int n_dims_;
    batch_norm_options o_;
};

// BatchNormalization with n_dims = 3 / 4 / 5. Unlike upstream, eps is honoured.
class BatchNorm1d : public BatchNormalization {
public:
    constexpr explicit BatchNorm1d(std::int64_t n_features, batch_norm_options o = {})
        : BatchNormalization(n_features, 3, o) {}
    template <keyword_argument... K>
    constexpr BatchNorm1d(std::int64_t n_features, const K&... kws)
        : BatchNormalization(n_features, 3, make_args<batch_norm_options>(kws...)) {}
};
class BatchNorm2d : public BatchNormalization {
public:
    constexpr explicit BatchNorm2d(std::int64_t n_features, batch_norm_options o = {})
        : BatchNormalization(n_features, 4, o) {}
    template <keyword_argument... K>
    constexpr BatchNorm2d(std::int64_t n_features, const K&... kws)
        : BatchNormalization(n_features, 4, make_args<batch_norm_options>(kws...)) {}
};
class BatchNorm3d : public BatchNormalization {
public:
    constexpr explicit BatchNorm3d(std::int64_t n_features, batch_norm_options o = {})
        : BatchNormalization(n_features, 5, o) {}
    template <keyword_argument... K>
    constexpr BatchNorm3d(std::int64_t n_features, const K&... kws)
        : BatchNormalization(n_features, 5, make_args<batch_norm_options>(kws...)) {}
};

}  // namespace kata

KATA_ADAPT_ARGS(kata::batch_norm_options, name, axes, decay_rate, eps, batch_stat, output_stat,
                fix_parameters, param_init);
