// kata/embedded/kernels/batch_normalization.hpp
//
// Embedded kernels for BatchNormalization and FusedBatchNormalization in test mode (batch_stat =
// false: the running statistics normalise), which is what inference runs:
//     y = gamma (x - mean) / sqrt(var + eps) + beta          computed as  y = x * scale[c] + shift[c]
//     FusedBatchNormalization: y = relu(BN(x) + z), or relu(BN(x)) without the residual z
// with scale = gamma / sqrt(var + eps), shift = beta - mean * scale per parameter element, like the
// CPU kernel (kata/cpu/kernels/batch_normalization.hpp; nnabla input order x, [beta], [gamma], mean,
// var[, z], absent inputs shift the indices; any set of normalised axes).
//
// Training mode (batch_stat = true) is refused at compile time: it writes the running statistics,
// which the embedded build keeps as constants in flash. Convert the network for inference first
// (nnabla's TestModeModifier / kata's test-mode conversion, or build the layers with test = true).
//
// Walk: x is split into maximal runs of adjacent axes of the same kind (normalised or reduced; size-1
// axes dropped). When the innermost run is a reduced one (NCHW with axes [1]), each run uses one
// scale/shift pair computed on the fly: no workspace. When it is normalised (NHWC), the per-element
// pairs are precomputed once into the workspace (2 floats per parameter element).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "../kernel.hpp"

namespace kata::embedded {

namespace detail {

struct bn_plan {
    int ngroups = 0;
    index len[max_rank]{};
    bool is_axis[max_rank]{};
    index channels = 1;  // parameter elements (product of the normalised dims)
    index numel = 1;
};

constexpr bn_plan make_plan(const shape_t& x, const attributes& a) {
    bool ax[max_rank]{};
    for (int i = 0; i < a.naxes; ++i) ax[a.axes[i]] = true;
    bn_plan p;
    for (int d = 0; d < x.rank; ++d) {
        p.numel *= index(x.dims[d]);
        if (ax[d]) p.channels *= index(x.dims[d]);
        if (x.dims[d] == 1) continue;
        if (p.ngroups > 0 && p.is_axis[p.ngroups - 1] == ax[d]) {
            p.len[p.ngroups - 1] *= index(x.dims[d]);
        } else {
            p.len[p.ngroups] = index(x.dims[d]);
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

template <op_instance I, bool Fused>
struct bn_impl {
    static constexpr bn_plan P = make_plan(I.in[0], I.attr);
    static constexpr int last = P.ngroups - 1;
    static constexpr bool axis_inner = P.is_axis[last];
    static constexpr bool has_beta = Fused || !I.attr.no_bias;
    static constexpr bool has_gamma = Fused || !I.attr.no_scale;
    static constexpr int beta_idx = 1;
    static constexpr int gamma_idx = has_beta ? 2 : 1;
    static constexpr int mean_idx = 1 + int(has_beta) + int(has_gamma);
    static constexpr int var_idx = mean_idx + 1;
    static constexpr bool residual = Fused && I.attr.has_residual;
    static constexpr float eps = float(I.attr.eps);

    static constexpr std::size_t workspace() {
        return axis_inner ? 2 * std::size_t(P.channels) * sizeof(float) : 0;
    }

    static void run(const kernel_io& io) {
        static_assert(
            !I.attr.batch_stat,
            "kata::embedded: BatchNormalization runs in test mode only (batch_stat = false): training "
            "mode updates the running statistics, which the embedded build keeps in flash");
        static_assert(detail::all_float(I), "kata::embedded: BatchNormalization runs float32 tensors only");
        static_assert(detail::fits_index(I),
                      "kata::embedded: BatchNormalization tensor too large for the target's index");
        const float* x = io.input(0);
        float* y = io.output();
        const float* mean = io.input(mean_idx);
        const float* var = io.input(var_idx);
        const float* beta = has_beta ? io.input(beta_idx) : nullptr;
        const float* gamma = has_gamma ? io.input(gamma_idx) : nullptr;
        const float* z = residual ? io.input(5) : nullptr;
        auto scale_of = [&](index c) { return (has_gamma ? gamma[c] : 1.0f) / std::sqrt(var[c] + eps); };
        auto shift_of = [&](index c, float sc) { return (has_beta ? beta[c] : 0.0f) - mean[c] * sc; };
        auto finish = [](float v, const float* zp, index j) {
            if constexpr (residual) v += zp[j];
            if constexpr (Fused) v = v > 0.0f ? v : 0.0f;
            return v;
        };
        float* scale = reinterpret_cast<float*>(io.workspace);
        float* shift = scale + P.channels;
        if constexpr (axis_inner) {
            for (index c = 0; c < P.channels; ++c) {
                scale[c] = scale_of(c);
                shift[c] = shift_of(c, scale[c]);
            }
        }
        // Parameter stride of each outer group (0 for reduced groups).
        constexpr auto pstride = [] {
            struct strides {
                index v[max_rank]{};
            } s;
            index acc = axis_inner ? P.len[last] : 1;
            for (int g = last - 1; g >= 0; --g)
                if (P.is_axis[g]) {
                    s.v[g] = acc;
                    acc *= P.len[g];
                }
            return s;
        }();
        constexpr index run = P.len[last];
        constexpr index nruns = P.numel / run;
        index idx[max_rank]{};
        index pbase = 0;
        for (index r = 0; r < nruns; ++r) {
            const float* xp = x + r * run;
            float* yp = y + r * run;
            const float* zp = residual ? z + r * run : nullptr;
            if constexpr (axis_inner) {
                const float* sc = scale + pbase;
                const float* sh = shift + pbase;
                for (index j = 0; j < run; ++j) yp[j] = finish(xp[j] * sc[j] + sh[j], zp, j);
            } else {
                const float sc = scale_of(pbase);
                const float sh = shift_of(pbase, sc);
                for (index j = 0; j < run; ++j) yp[j] = finish(xp[j] * sc + sh, zp, j);
            }
            for (int g = last - 1; g >= 0; --g) {  // odometer over the outer groups
                if (++idx[g] < P.len[g]) {
                    pbase += pstride.v[g];
                    break;
                }
                pbase -= pstride.v[g] * (P.len[g] - 1);
                idx[g] = 0;
            }
        }
    }
};

}  // namespace detail

template <>
struct kernel<op_kind::batch_normalization> {
    template <op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return detail::bn_impl<I, false>::workspace();
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
        return detail::bn_impl<I, true>::workspace();
    }
    template <op_instance I>
    static void run(const kernel_io& io) {
        detail::bn_impl<I, true>::run(io);
    }
};

}  // namespace kata::embedded
