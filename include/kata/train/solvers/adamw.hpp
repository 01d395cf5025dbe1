// kata/train/solvers/adamw.hpp
//
// Purpose: nnabla's S.AdamW(alpha=0.001, beta1=0.9, beta2=0.999, eps=1e-8, wd=1e-4), Adam with
// decoupled weight decay fused into update() (states "mean", "var"):
//   Adam's m, v and step (bias correction folded into alpha_t, see adam.hpp), and
//   w <- w - alpha_t * m / (sqrt(v) + eps) - eta_t * lambda * w     (w on the right: before the step)
//   eta_t = alpha / alpha_0: the current learning rate over the one given at construction
//   lambda = the rate of the last weight_decay(r) call since the previous update(), else `wd`.
// The docstring's formula (eps added to sqrt(v_hat), eta_t * alpha on the Adam term) is not what
// nnabla computes; kata follows the computation (checked against nnabla 1.39, docs/solvers.md).
#pragma once

#include "../../detail/xtensor_fix.hpp"
#include "../solver_core.hpp"
#include "adam.hpp"

#include <array>
#include <string_view>

namespace kata::train {

/// AdamW's keyword arguments with nnabla's defaults.
struct adamw_args {
    float alpha = 0.001f;
    float beta1 = 0.9f;
    float beta2 = 0.999f;
    float eps = 1e-8f;
    float wd = 1e-4f;
};

class AdamW : public solver {
public:
    using args = adamw_args;
    AdamW() : AdamW(args{}) {}
    explicit AdamW(const args& a)
        : solver("AdamW", a.alpha, names, /*fused_decay=*/true, a.wd), init_alpha_(a.alpha), beta1_(a.beta1),
          beta2_(a.beta2), eps_(a.eps) {}
    explicit AdamW(float alpha, float beta1 = args{}.beta1, float beta2 = args{}.beta2,
                   float eps = args{}.eps, float wd = args{}.wd)
        : AdamW(args{alpha, beta1, beta2, eps, wd}) {}

    float beta1() const noexcept { return beta1_; }
    float beta2() const noexcept { return beta2_; }
    float eps() const noexcept { return eps_; }

protected:
    void update_impl(slot& s, float* data, const float* grad, std::size_t n) override {
        const float alpha_t = learning_rate() * detail::adam_bias_correction(beta1_, beta2_, s.t);
        const float eta_t = learning_rate() / init_alpha_;
        const float decay = eta_t * fused_decay_rate();
        const float eps = eps_;
        const detail::adam_moments moments{beta1_, beta2_};
        detail::for_each_element(
            n,
            [&](auto& w, const auto& g, auto& m, auto& v) {
                moments(g, m, v);
                w = w - alpha_t * m / (detail::sqrt_of(v) + eps) - decay * w;
            },
            data, grad, s.state[0].data(), s.state[1].data());
    }

private:
    static constexpr std::array<std::string_view, 2> names{"mean", "var"};
    float init_alpha_, beta1_, beta2_, eps_;
};

}  // namespace kata::train
