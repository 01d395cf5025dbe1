// kata/cpu/kernels/batch_normalization.hpp
//
// CPU kernels for BatchNormalization and FusedBatchNormalization (nnabla semantics, docs/nnabla-semantics.md
// §0.1).
//
// Inputs (nnabla order, absent inputs shift the indices):
//     BatchNormalization:      x, [beta unless no_bias], [gamma unless no_scale], mean, var
//     FusedBatchNormalization: x, beta, gamma, mean, var[, z when has_residual]
// The parameter tensors have x's rank with 1 outside the normalised axes, so their flat index is the
// row-major index over the normalised axes taken in ascending axis order. Any set of axes is
// supported (nnabla's generic CPU kernel only accepts one axis; its Python front end documents the
// general meaning, which is what this implements): x is split into maximal runs of adjacent axes of
// the same kind (normalised / reduced, size-1 axes dropped) and walked run by run, so NCHW (axes=[1]),
// NHWC (axes=[3]) and (N,C,H,W) with axes=[1,2] all become tight contiguous inner loops.
//
// batch_stat = false (test mode): y = gamma (x - mean) / sqrt(var + eps) + beta, computed as
//     y = x * scale[c] + shift[c],  scale = gamma / sqrt(var + eps),  shift = beta - mean * scale
// (precomputed per channel into the workspace, then one pass). Differs from nnabla's literal
// expression by float rounding only (~1 ulp).
//
// batch_stat = true (training): the batch mean and the *biased* batch variance over all non-axis
// elements (n of them per channel) normalise x; the running statistics (the mean/var inputs, which the
// executor passes as mutable buffers) are updated in place exactly like nnabla's
// BatchNormalization<T>::forward_impl_batch (src/nbla/function/generic/batch_normalization.cpp):
//     mean = decay_rate * mean + (1 - decay_rate) * batch_mean
//     var  = decay_rate * var  + (1 - decay_rate) * batch_var * n / (n - 1)   (unbiased)
// Deviations: the batch statistics are accumulated in double with a two-pass variance (nnabla: float,
// single pass E[x^2] - E[x]^2), so results agree to float rounding and are more accurate for large
// means. With n == 1 the unbiased factor divides by zero, as in nnabla (running var becomes inf/nan).
//
// FusedBatchNormalization: y = relu(BN(x) + z), or relu(BN(x)) without z (nnabla supports only the
// "relu" nonlinearity); same statistics handling.
//
// All kernels work in place (out may alias x): statistics are gathered before the output pass and the
// output pass reads x[i] before writing y[i]. Single-threaded (memory-bound; see elementwise.hpp).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "../kernel.hpp"

namespace kata::cpu {

namespace detail {

// x's dims merged into maximal runs of the same kind (normalised axis or reduced axis).
struct bn_plan {
    int ngroups = 0;
    std::int64_t len[max_rank]{};
    bool is_axis[max_rank]{};
    std::int64_t channels = 1;  // number of parameter elements (product of the axis dims)
    std::int64_t reduce = 1;    // elements per channel (product of the other dims)
    std::int64_t numel = 1;
};

constexpr bn_plan make_plan(const shape_t& x, const attributes& a) {
    bool ax[max_rank]{};
    for (int i = 0; i < a.naxes; ++i) ax[a.axes[i]] = true;
    bn_plan p;
    for (int d = 0; d < x.rank; ++d) {
        p.numel *= x.dims[d];
        if (ax[d])
            p.channels *= x.dims[d];
        else
            p.reduce *= x.dims[d];
        if (x.dims[d] == 1) continue;
        if (p.ngroups > 0 && p.is_axis[p.ngroups - 1] == ax[d]) {
            p.len[p.ngroups - 1] *= x.dims[d];
        } else {
            p.len[p.ngroups] = x.dims[d];
            p.is_axis[p.ngroups] = ax[d];
            ++p.ngroups;
        }
    }
    if (p.ngroups == 0) {
        p.ngroups = 1;
        p.len[0] = 1;
        p.is_axis[0] = true;
    }
    return p;
}

// Calls f(x_offset, param_offset, run_length) for every contiguous run of x; within a run the
// parameter index advances with the element when the last group is a normalised axis group
// (P.is_axis[last]) and stays fixed otherwise.
template <bn_plan P, class F>
inline void for_each_run(F&& f) {
    constexpr int last = P.ngroups - 1;
    constexpr std::int64_t run = P.len[last];
    constexpr std::int64_t nruns = P.numel / run;
    // Parameter stride of each outer group (0 for reduced groups).
    constexpr auto pstride = [] {
        struct s_t {
            std::int64_t v[max_rank]{};
        } s;
        std::int64_t acc = P.is_axis[last] ? P.len[last] : 1;
        for (int g = last - 1; g >= 0; --g) {
            if (P.is_axis[g]) {
                s.v[g] = acc;
                acc *= P.len[g];
            }
        }
        return s;
    }();
    if constexpr (last == 0) {
        f(std::int64_t(0), std::int64_t(0), run);
    } else {
        std::int64_t idx[max_rank]{};
        std::int64_t pbase = 0;
        for (std::int64_t r = 0; r < nruns; ++r) {
            f(r * run, pbase, run);
            // odometer over groups [0, last)
            for (int g = last - 1; g >= 0; --g) {
                if (++idx[g] < P.len[g]) {
                    pbase += pstride.v[g];
                    break;
                }
                pbase -= pstride.v[g] * (P.len[g] - 1);
                idx[g] = 0;
            }
        }
    }
}

// sum_j f(xp[j]) for j < n: eight float partials over the full blocks of 8, added up in double, then
// the (< 8) remaining terms in double. The remainder loop counts from 0 to n % 8 rather than continuing
// j up to n: with n a multiple of 8 known after inlining (e.g. a 32x32 map), g++ 12 vectorised the
// blocked loop and then reported the (dead) `for (; j < n; ++j)` tail as "iteration 2^62-1 invokes
// undefined behavior" [-Waggressive-loop-optimizations]; a false positive, but a bounded trip count
// states what the loop does. Same terms and summation order as before.
template <class F>
inline double blocked_sum(const float* xp, std::int64_t n, F f) {
    const std::int64_t nb = n - n % 8;
    float acc[8]{};
    for (std::int64_t j = 0; j < nb; j += 8)
        for (int k = 0; k < 8; ++k) acc[k] += f(xp[j + k]);
    double t = 0;
    for (int k = 0; k < 8; ++k) t += acc[k];
    const float* tail = xp + nb;
    for (std::int64_t r = 0; r < n % 8; ++r) t += double(f(tail[r]));
    return t;
}

template <op_instance I, bool Fused>
struct bn_impl {
    static constexpr bn_plan P = make_plan(I.in[0], I.attr);
    static constexpr std::int64_t C = P.channels;
    static constexpr bool axis_inner = P.is_axis[P.ngroups - 1];
    static constexpr bool has_beta = Fused || !I.attr.no_bias;
    static constexpr bool has_gamma = Fused || !I.attr.no_scale;
    static constexpr int beta_idx = 1;
    static constexpr int gamma_idx = has_beta ? 2 : 1;
    static constexpr int mean_idx = 1 + int(has_beta) + int(has_gamma);
    static constexpr int var_idx = mean_idx + 1;
    static constexpr bool residual = Fused && I.attr.has_residual;
    static constexpr bool relu = Fused;

    // workspace: [sum (double C)] [sq (double C)] [scale (float C)] [shift (float C)]
    static constexpr std::size_t stat_bytes = I.attr.batch_stat ? 2 * std::size_t(C) * sizeof(double) : 0;
    static constexpr std::size_t bytes() { return stat_bytes + 2 * std::size_t(C) * sizeof(float); }

    static void run(const kernel_io& io) {
        const float* x = io.input(0);
        float* y = io.output();
        float* mean = io.input(mean_idx);
        float* var = io.input(var_idx);
        const float* beta = has_beta ? io.input(beta_idx) : nullptr;
        const float* gamma = has_gamma ? io.input(gamma_idx) : nullptr;
        float* scale = reinterpret_cast<float*>(io.workspace + stat_bytes);
        float* shift = scale + C;
        constexpr float eps = float(I.attr.eps);

        if constexpr (I.attr.batch_stat) {
            double* sum = reinterpret_cast<double*>(io.workspace);
            double* sq = sum + C;
            for (std::int64_t c = 0; c < C; ++c) sum[c] = sq[c] = 0.0;
            // pass 1: sums
            for_each_run<P>([&](std::int64_t xo, std::int64_t po, std::int64_t n) {
                const float* xp = x + xo;
                if constexpr (axis_inner) {
                    double* s = sum + po;
                    for (std::int64_t j = 0; j < n; ++j) s[j] += double(xp[j]);
                } else {
                    sum[po] += blocked_sum(xp, n, [](float v) { return v; });
                }
            });
            constexpr double inv_n = 1.0 / double(P.reduce);
            for (std::int64_t c = 0; c < C; ++c) scale[c] = float(sum[c] * inv_n);  // batch mean (temp)
            // pass 2: squared deviations
            for_each_run<P>([&](std::int64_t xo, std::int64_t po, std::int64_t n) {
                const float* xp = x + xo;
                if constexpr (axis_inner) {
                    double* s = sq + po;
                    const float* m = scale + po;
                    for (std::int64_t j = 0; j < n; ++j) {
                        float d = xp[j] - m[j];
                        s[j] += double(d * d);
                    }
                } else {
                    const float m = scale[po];
                    sq[po] += blocked_sum(xp, n, [m](float v) {
                        const float d = v - m;
                        return d * d;
                    });
                }
            });
            constexpr float decay = float(I.attr.decay_rate);
            constexpr double nn = double(P.reduce);
            for (std::int64_t c = 0; c < C; ++c) {
                const double bm = sum[c] * inv_n;
                const double bv = sq[c] * inv_n;  // biased: used for normalisation
                const float bmf = float(bm), bvf = float(bv);
                mean[c] = decay * mean[c] + (1.0f - decay) * bmf;
                var[c] = decay * var[c] + (1.0f - decay) * float(bv * nn / (nn - 1.0));
                const float g = has_gamma ? gamma[c] : 1.0f;
                const float b = has_beta ? beta[c] : 0.0f;
                const float sc = g / std::sqrt(bvf + eps);
                scale[c] = sc;
                shift[c] = b - bmf * sc;
            }
        } else {
            for (std::int64_t c = 0; c < C; ++c) {
                const float g = has_gamma ? gamma[c] : 1.0f;
                const float b = has_beta ? beta[c] : 0.0f;
                const float sc = g / std::sqrt(var[c] + eps);
                scale[c] = sc;
                shift[c] = b - mean[c] * sc;
            }
        }

        const float* z = residual ? io.input(5) : nullptr;
        for_each_run<P>([&](std::int64_t xo, std::int64_t po, std::int64_t n) {
            const float* xp = x + xo;
            float* yp = y + xo;
            const float* zp = residual ? z + xo : nullptr;
            if constexpr (axis_inner) {
                const float* sc = scale + po;
                const float* sh = shift + po;
                for (std::int64_t j = 0; j < n; ++j) {
                    float v = xp[j] * sc[j] + sh[j];
                    if constexpr (residual) v += zp[j];
                    if constexpr (relu) v = v > 0.0f ? v : 0.0f;
                    yp[j] = v;
                }
            } else {
                const float sc = scale[po], sh = shift[po];
                for (std::int64_t j = 0; j < n; ++j) {
                    float v = xp[j] * sc + sh;
                    if constexpr (residual) v += zp[j];
                    if constexpr (relu) v = v > 0.0f ? v : 0.0f;
                    yp[j] = v;
                }
            }
        });
    }
};

}  // namespace detail

template <>
struct kernel<op_kind::batch_normalization> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return detail::bn_impl<I, false>::bytes();
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        detail::bn_impl<I, false>::run(io);
    }
};

template <>
struct kernel<op_kind::fused_batch_normalization> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return detail::bn_impl<I, true>::bytes();
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        detail::bn_impl<I, true>::run(io);
    }
};

}  // namespace kata::cpu
