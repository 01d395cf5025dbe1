// kata/converters/batch_normalization_values.hpp
//
// What the batch-norm folding value rules share (derivation.hpp): a batch norm's per-channel
// coefficients c0 = gamma / sqrt(var + eps), c1 = beta - mean c0 (absent beta: 0, absent gamma: 1),
// computed in double from the float32 sources, and the check that a channel map stays within the
// batch norm's channels. Used by the rules in batch_normalization_folding_inner.hpp (bn_scale_weight,
// bn_fold_bias_inner), batch_normalization_folding_opposite.hpp (bn_fold_bias_opposite) and
// batch_normalization_self_folding.hpp (bn_c0, bn_c1).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "derivation.hpp"

namespace kata::detail {

inline void bn_coefficients(const derivation_sources& src, const derivation& d, std::vector<double>& c0,
                            std::vector<double>& c1) {
    const derivation_source beta = source(src, d, src_beta, false);
    const derivation_source gamma = source(src, d, src_gamma, false);
    const derivation_source mean = source(src, d, src_mean, true);
    const derivation_source var = source(src, d, src_var, true);
    const std::size_t n = mean.size;
    expect_size(src, d, beta, n, "beta");
    expect_size(src, d, gamma, n, "gamma");
    expect_size(src, d, var, n, "var");
    c0.assign(n, 0.0);
    c1.assign(n, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
        const double g = gamma.data ? double(gamma.data[i]) : 1.0;
        const double b = beta.data ? double(beta.data[i]) : 0.0;
        c0[i] = g / std::sqrt(double(var.data[i]) + d.eps);
        c1[i] = b - double(mean.data[i]) * c0[i];
    }
}

// The largest channel that element t in [0, numel) maps to must be below `channels`.
inline void check_map(const derivation_sources& src, const derivation& d, const channel_map& m,
                      std::size_t numel, std::size_t channels) {
    if (m.len <= 0 || m.inner <= 0 || m.gsize <= 0) src.fail("kata::apply_conversion: bad channel map");
    std::int64_t mx = 0;
    for (std::size_t t = 0; t < numel; t += std::size_t(m.inner)) mx = std::max(mx, m(std::int64_t(t)));
    if (numel && std::size_t(mx) >= channels)
        src.fail("kata::apply_conversion: '" + target_of(d) + "' maps to channel " + std::to_string(mx) +
                 " but the batch norm has " + std::to_string(channels));
}

}  // namespace kata::detail
