// kata/train/solvers/amsgrad.hpp
//
// Purpose: nnabla's S.AMSGRAD(alpha=0.001, beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=False)
// (states "m", "v", "v_hat"):
//   m <- beta1 * m + (1 - beta1) * g;  v <- beta2 * v + (1 - beta2) * g^2;  v_hat <- max(v_hat, v)
//   w <- w - alpha_t * m / (sqrt(v_hat) + eps)
//   alpha_t = alpha, or with bias_correction = true Adam's alpha * sqrt(1 - beta2^t) / (1 - beta1^t).
#pragma once

#include "../../detail/xtensor_fix.hpp"
#include "../solver_core.hpp"
#include "adam.hpp"

#include <array>
#include <string_view>

namespace kata::train {

/// AMSGRAD's keyword arguments with nnabla's defaults.
struct amsgrad_args {
    float alpha = 0.001f;
    float beta1 = 0.9f;
    float beta2 = 0.999f;
    float eps = 1e-8f;
    bool bias_correction = false;
};

class AMSGRAD : public solver {
public:
    using args = amsgrad_args;
    AMSGRAD() : AMSGRAD(args{}) {}
    explicit AMSGRAD(const args& a)
        : solver("AMSGRAD", a.alpha, names), beta1_(a.beta1), beta2_(a.beta2), eps_(a.eps),
          bias_correction_(a.bias_correction) {}
    explicit AMSGRAD(float alpha, float beta1 = args{}.beta1, float beta2 = args{}.beta2,
                     float eps = args{}.eps, bool bias_correction = args{}.bias_correction)
        : AMSGRAD(args{alpha, beta1, beta2, eps, bias_correction}) {}

    float beta1() const noexcept { return beta1_; }
    float beta2() const noexcept { return beta2_; }
    float eps() const noexcept { return eps_; }
    bool bias_correction() const noexcept { return bias_correction_; }

protected:
    void update_impl(slot& s, float* data, const float* grad, std::size_t n) override {
        const float alpha_t = bias_correction_
                                  ? learning_rate() * detail::adam_bias_correction(beta1_, beta2_, s.t)
                                  : learning_rate();
        const float eps = eps_;
        const detail::adam_moments moments{beta1_, beta2_};
        detail::for_each_element(
            n,
            [&](auto& w, const auto& g, auto& m, auto& v, auto& v_hat) {
                moments(g, m, v);
                v_hat = detail::max_of(v_hat, v);
                w = w - alpha_t * m / (detail::sqrt_of(v_hat) + eps);
            },
            data, grad, s.state[0].data(), s.state[1].data(), s.state[2].data());
    }

private:
    static constexpr std::array<std::string_view, 3> names{"m", "v", "v_hat"};
    float beta1_, beta2_, eps_;
    bool bias_correction_;
};

}  // namespace kata::train
