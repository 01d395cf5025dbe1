// kata/converters/apply_conversion.hpp
//
// kata::apply_conversion<Converted>(store): computes every parameter a conversion derived
// (Converted::derivations, in order) from the parameters already in `store`, with
// parameter_store::create_or_replace. Run it after the original network's parameters are loaded and
// before binding an executor of the converted type:
//
//     kata::apply_conversion<Folded>(store);
//     kata::cpu::executor<Folded> run(store);
//
// Every call recomputes the targets from the sources, so converting twice gives identical values and
// never stale ones (upstream's get-or-create keeps the first values, spec 0.4 / 10.6). Sources are
// never modified. Arithmetic is float32 storage with double accumulation (sums) and double
// intermediates (c0, c1). Names are relative to the store's current scope.
//
// Throws kata::parameter_error when a source is missing or has an unexpected number of elements.
#pragma once

#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "../detail/xtensor_fix.hpp"
#include "../io/parameter_store.hpp"
#include "../parameters.hpp"
#include "derivation.hpp"

namespace kata {

namespace converters_detail {

inline const xt::xarray<float>* source(parameter_store& store, const derivation& d, int slot, bool required) {
    const name_string& n = d.sources[slot];
    if (n.empty()) {
        if (required)
            throw parameter_error("kata::apply_conversion: derivation of '" + std::string(d.target.view()) +
                                  "' (" + derivation_kind_name(d.kind) + ") lacks a required source");
        return nullptr;
    }
    const parameter* p = store.find(n.view());
    if (!p)
        throw parameter_error("kata::apply_conversion: parameter '" + std::string(n.view()) + "' (needed for '" +
                              std::string(d.target.view()) + "') is not in the parameter store");
    return &p->data;
}

inline void expect_size(const derivation& d, const xt::xarray<float>* a, std::size_t n, const char* what) {
    if (a && a->size() != n)
        throw parameter_error("kata::apply_conversion: " + std::string(what) + " of '" + std::string(d.target.view()) +
                              "' has " + std::to_string(a->size()) + " elements, expected " + std::to_string(n));
}

// c0[c] = gamma / sqrt(var + eps), c1[c] = beta - mean c0 (absent beta: 0, absent gamma: 1).
inline void bn_coefficients(parameter_store& store, const derivation& d, std::vector<double>& c0,
                            std::vector<double>& c1) {
    const auto* beta = source(store, d, src_beta, false);
    const auto* gamma = source(store, d, src_gamma, false);
    const auto* mean = source(store, d, src_mean, true);
    const auto* var = source(store, d, src_var, true);
    const std::size_t n = mean->size();
    expect_size(d, beta, n, "beta");
    expect_size(d, gamma, n, "gamma");
    expect_size(d, var, n, "var");
    c0.assign(n, 0.0);
    c1.assign(n, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
        const double g = gamma ? double(gamma->data()[i]) : 1.0;
        const double b = beta ? double(beta->data()[i]) : 0.0;
        c0[i] = g / std::sqrt(double(var->data()[i]) + d.eps);
        c1[i] = b - double(mean->data()[i]) * c0[i];
    }
}

inline void check_map(const derivation& d, const channel_map& m, std::size_t numel, std::size_t channels) {
    if (m.len <= 0 || m.inner <= 0 || m.gsize <= 0) throw parameter_error("kata::apply_conversion: bad channel map");
    // The largest channel any element maps to must exist.
    std::int64_t mx = 0;
    for (std::size_t t = 0; t < numel; t += std::size_t(m.inner)) mx = std::max(mx, m(std::int64_t(t)));
    if (numel && std::size_t(mx) >= channels)
        throw parameter_error("kata::apply_conversion: '" + std::string(d.target.view()) + "' maps to channel " +
                              std::to_string(mx) + " but the batch norm has " + std::to_string(channels));
}

inline xt::xarray<float> compute(parameter_store& store, const derivation& d) {
    xt::xarray<float> out(to_vector(d.shape));
    const std::size_t n = out.size();
    float* o = out.data();
    switch (d.kind) {
    case derivation_kind::constant:
        for (std::size_t i = 0; i < n; ++i) o[i] = float(d.value);
        break;
    case derivation_kind::bn_scale_weight: {
        std::vector<double> c0, c1;
        bn_coefficients(store, d, c0, c1);
        const auto* w = source(store, d, src_w, true);
        expect_size(d, w, n, "W");
        check_map(d, d.map, n, c0.size());
        for (std::size_t t = 0; t < n; ++t) o[t] = float(double(w->data()[t]) * c0[std::size_t(d.map(std::int64_t(t)))]);
        break;
    }
    case derivation_kind::bn_fold_bias_inner: {
        std::vector<double> c0, c1;
        bn_coefficients(store, d, c0, c1);
        const auto* b = source(store, d, src_b, false);
        expect_size(d, b, n, "b");
        if (c0.size() != n)
            throw parameter_error("kata::apply_conversion: '" + std::string(d.target.view()) + "' has " +
                                  std::to_string(n) + " channels but the batch norm " + std::to_string(c0.size()));
        for (std::size_t i = 0; i < n; ++i) o[i] = float(c1[i] + c0[i] * (b ? double(b->data()[i]) : 0.0));
        break;
    }
    case derivation_kind::bn_fold_bias_opposite: {
        std::vector<double> c0, c1;
        bn_coefficients(store, d, c0, c1);
        const auto* w = source(store, d, src_w, true);
        const auto* b = source(store, d, src_b, false);
        expect_size(d, b, n, "b");
        check_map(d, d.map, w->size(), c1.size());
        check_map(d, d.map2, w->size(), n);
        std::vector<double> acc(n, 0.0);
        for (std::size_t i = 0; i < n; ++i) acc[i] = b ? double(b->data()[i]) : 0.0;
        const float* wd = w->data();
        for (std::size_t t = 0; t < w->size(); ++t)
            acc[std::size_t(d.map2(std::int64_t(t)))] += double(wd[t]) * c1[std::size_t(d.map(std::int64_t(t)))];
        for (std::size_t i = 0; i < n; ++i) o[i] = float(acc[i]);
        break;
    }
    case derivation_kind::bn_c0:
    case derivation_kind::bn_c1: {
        std::vector<double> c0, c1;
        bn_coefficients(store, d, c0, c1);
        const auto& c = d.kind == derivation_kind::bn_c0 ? c0 : c1;
        if (c.size() != n) throw parameter_error("kata::apply_conversion: bad shape for '" + std::string(d.target.view()) + "'");
        for (std::size_t i = 0; i < n; ++i) o[i] = float(c[i]);
        break;
    }
    case derivation_kind::copy: {
        const auto* s = source(store, d, src_w, true);
        expect_size(d, s, n, "source");
        for (std::size_t i = 0; i < n; ++i) o[i] = s->data()[i];
        break;
    }
    case derivation_kind::transpose: {
        const auto* s = source(store, d, src_w, true);
        expect_size(d, s, n, "source");
        shape_t v = d.view;
        if (v.rank == 0) {
            v.rank = int(s->dimension());
            for (int i = 0; i < v.rank; ++i) v.dims[i] = std::int64_t(s->shape()[std::size_t(i)]);
        }
        if (d.nperm != v.rank || std::size_t(v.numel()) != n)
            throw parameter_error("kata::apply_conversion: bad permutation for '" + std::string(d.target.view()) + "'");
        // Row-major strides of the viewed source; the output walks the permuted shape in order.
        std::int64_t stride[max_rank]{}, pshape[max_rank]{}, pstride[max_rank]{};
        std::int64_t acc = 1;
        for (int i = v.rank - 1; i >= 0; --i) {
            stride[i] = acc;
            acc *= v.dims[i];
        }
        for (int i = 0; i < v.rank; ++i) {
            pshape[i] = v.dims[d.perm[i]];
            pstride[i] = stride[d.perm[i]];
        }
        std::int64_t idx[max_rank]{};
        for (std::size_t t = 0; t < n; ++t) {
            std::int64_t src = 0;
            for (int i = 0; i < v.rank; ++i) src += idx[i] * pstride[i];
            o[t] = s->data()[src];
            for (int i = v.rank - 1; i >= 0; --i) {
                if (++idx[i] < pshape[i]) break;
                idx[i] = 0;
            }
        }
        break;
    }
    case derivation_kind::prune_weight:
    case derivation_kind::prune_bias: {
        // PruningModifier (spec 2.14): s[o] = sum of W^2 over the elements t with map(t) = o (double),
        // kept iff s[o] > threshold; a pruned weight / bias element is exactly 0, a kept one the source.
        const bool weight = d.kind == derivation_kind::prune_weight;
        const auto* w = source(store, d, src_w, true);
        const auto* b = weight ? nullptr : source(store, d, src_b, true);
        if (weight) expect_size(d, w, n, "W");
        else expect_size(d, b, n, "b");
        const channel_map& m = d.map;
        if (m.len <= 0 || m.inner <= 0 || m.gsize <= 0 || m.outer_stride < 0)
            throw parameter_error("kata::apply_conversion: bad channel map for '" + std::string(d.target.view()) +
                                  "'");
        const float* wd = w->data();
        const std::size_t nw = w->size();
        std::vector<double> s;
        for (std::size_t t = 0; t < nw; ++t) {
            const std::size_t ch = std::size_t(m(std::int64_t(t)));
            if (ch >= s.size()) s.resize(ch + 1, 0.0);
            s[ch] += double(wd[t]) * double(wd[t]);
        }
        if (!weight && s.size() != n)
            throw parameter_error("kata::apply_conversion: '" + std::string(d.target.view()) + "' has " +
                                  std::to_string(n) + " elements but the weight '" +
                                  std::string(d.sources[src_w].view()) + "' feeds " + std::to_string(s.size()) +
                                  " output channels");
        if (weight) {
            for (std::size_t t = 0; t < n; ++t)
                o[t] = s[std::size_t(m(std::int64_t(t)))] > d.threshold ? wd[t] : 0.0f;
        } else {
            for (std::size_t i = 0; i < n; ++i) o[i] = s[i] > d.threshold ? b->data()[i] : 0.0f;
        }
        break;
    }
    case derivation_kind::fixed_point: {
        // FixedPointQuantize (spec 3.5) with the CPU kernel's float32 arithmetic (kernels/elementwise.hpp,
        // sync_quantized_parameters), so a derived W_q equals what a graph quantizing W computes, bit for
        // bit. Automatic step (fp_delta == 0, spec 3.3): 2^R(log2(max|W| / (2^n' - 1))), R = ceil or floor,
        // with log2 taken exactly from frexp (r = m 2^e, m in [0.5, 1): log2 r = e - 1 iff m == 0.5,
        // otherwise it lies in (e - 1, e)); an all-zero source gives exact zeros.
        const auto* s = source(store, d, src_w, true);
        expect_size(d, s, n, "source");
        const int nb = d.fp_sign ? d.fp_n - 1 : d.fp_n;
        if (d.fp_n <= 0 || nb <= 0 || d.fp_n > 62 || !(d.fp_delta >= 0))
            throw parameter_error("kata::apply_conversion: bad fixed-point arguments for '" +
                                  std::string(d.target.view()) + "' (n=" + std::to_string(d.fp_n) +
                                  ", delta=" + std::to_string(d.fp_delta) + ")");
        const float* x = s->data();
        float delta = float(d.fp_delta);
        if (d.fp_delta == 0) {
            double mx = 0;
            for (std::size_t i = 0; i < n; ++i) mx = std::max(mx, std::fabs(double(x[i])));
            if (mx == 0 || !std::isfinite(mx)) {
                if (mx != 0)
                    throw parameter_error("kata::apply_conversion: '" + std::string(d.target.view()) +
                                          "': automatic fixed-point step of a non-finite source");
                for (std::size_t i = 0; i < n; ++i) o[i] = 0.0f;
                break;
            }
            int e = 0;
            const double m = std::frexp(mx / (std::ldexp(1.0, nb) - 1.0), &e);
            delta = float(std::ldexp(1.0, (m == 0.5 || d.fp_floor) ? e - 1 : e));
            if (!(delta > 0.0f))
                throw parameter_error("kata::apply_conversion: '" + std::string(d.target.view()) +
                                      "': automatic fixed-point step underflows float32");
        }
        const float vmax = float((std::ldexp(1.0, nb) - 1.0) * double(delta));
        const float vmin = d.fp_sign ? -vmax : 0.0f;
        for (std::size_t i = 0; i < n; ++i) {
            const float v = x[i];
            if (v > vmax) o[i] = vmax;
            else if (v < vmin) o[i] = vmin;
            else {
                const float q = float(std::int64_t(double(std::fabs(v) / delta) + 0.5)) * delta;
                o[i] = v < 0.0f ? -q : q;
            }
        }
        break;
    }
    case derivation_kind::count_: break;
    }
    return out;
}

}  // namespace converters_detail

// Evaluates `derivations` in order into `store` (see the header comment).
template <class Derivations>
void apply_derivations(const Derivations& derivations, parameter_store& store) {
    for (const derivation& d : derivations) {
        xt::xarray<float> v = converters_detail::compute(store, d);
        parameter& p = store.create_or_replace(d.target.view(), to_vector(d.shape), initializer::constant(0), d.need_grad);
        p.data = std::move(v);
    }
}

template <graph_type Converted>
void apply_conversion(parameter_store& store) {
    if constexpr (requires { Converted::derivations; }) apply_derivations(Converted::derivations, store);
}

}  // namespace kata
