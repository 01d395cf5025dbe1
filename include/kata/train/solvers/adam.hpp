// kata/train/solvers/adam.hpp
//
// Purpose: nnabla's S.Adam(alpha=0.001, beta1=0.9, beta2=0.999, eps=1e-8) (states "mean", "var"):
//   t <- t + 1 (per parameter)
//   m <- beta1 * m + (1 - beta1) * g;  v <- beta2 * v + (1 - beta2) * g^2
//   w <- w - alpha_t * m / (sqrt(v) + eps),  alpha_t = alpha * sqrt(1 - beta2^t) / (1 - beta1^t)
// The bias correction is folded into the step size (eps is added to the uncorrected sqrt(v)), and
// it is computed in double and rounded to float as nnabla's C++ does.
#pragma once

#include "../../detail/xtensor_fix.hpp"
#include "../solver_core.hpp"

#include <array>
#include <cmath>
#include <cstdint>
#include <string_view>

namespace kata::train {

namespace detail {
/// sqrt(1 - beta2^t) / (1 - beta1^t), in double (nnabla: std::pow of float and uint32 is double).
inline float adam_bias_correction(float beta1, float beta2, std::uint32_t t) noexcept {
    return static_cast<float>(std::sqrt(1.0 - std::pow(double(beta2), double(t))) /
                              (1.0 - std::pow(double(beta1), double(t))));
}

/// The first- and second-moment updates Adam, AdamW and AMSGRAD share, in place on one block.
struct adam_moments {
    float beta1, beta2;
    template <class V>
    void operator()(const V& g, V& m, V& v) const {
        m = beta1 * m + (1 - beta1) * g;
        v = beta2 * v + (1 - beta2) * g * g;
    }
};
}  // namespace detail

/// Adam's keyword arguments with nnabla's defaults.
struct adam_args {
    float alpha = 0.001f;
    float beta1 = 0.9f;
    float beta2 = 0.999f;
    float eps = 1e-8f;
};

class Adam : public solver {
public:
    using args = adam_args;
    Adam() : Adam(args{}) {}
    explicit Adam(const args& a)
        : solver("Adam", a.alpha, names), beta1_(a.beta1), beta2_(a.beta2), eps_(a.eps) {}
    explicit Adam(float alpha, float beta1 = args{}.beta1, float beta2 = args{}.beta2, float eps = args{}.eps)
        : Adam(args{alpha, beta1, beta2, eps}) {}

    float beta1() const noexcept { return beta1_; }
    float beta2() const noexcept { return beta2_; }
    float eps() const noexcept { return eps_; }

protected:
    void update_impl(slot& s, float* data, const float* grad, std::size_t n) override {
        const float alpha_t = learning_rate() * detail::adam_bias_correction(beta1_, beta2_, s.t);
        const float eps = eps_;
        const detail::adam_moments moments{beta1_, beta2_};
        detail::for_each_element(
            n,
            [&](auto& w, const auto& g, auto& m, auto& v) {
                moments(g, m, v);
                w = w - alpha_t * m / (detail::sqrt_of(v) + eps);
            },
            data, grad, s.state[0].data(), s.state[1].data());
    }

private:
    static constexpr std::array<std::string_view, 2> names{"mean", "var"};
    float beta1_, beta2_, eps_;
};

}  // namespace kata::train
