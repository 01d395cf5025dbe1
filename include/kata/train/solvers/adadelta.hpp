// kata/train/solvers/adadelta.hpp
//
// Purpose: nnabla's S.Adadelta(lr=1.0, decay=0.95, eps=1e-6) (states "e_sqr_grad", "e_sqr_delta":
// running means of g^2 and of the squared step):
//   e_sqr_grad  <- decay * e_sqr_grad + (1 - decay) * g^2
//   delta       <- sqrt((e_sqr_delta + eps) / (e_sqr_grad + eps)) * g
//   e_sqr_delta <- decay * e_sqr_delta + (1 - decay) * delta^2
//   w           <- w - lr * delta
#pragma once

#include "../../detail/xtensor_fix.hpp"
#include "../solver_core.hpp"

#include <array>
#include <string_view>

namespace kata::train {

/// Adadelta's keyword arguments with nnabla's defaults.
struct adadelta_args {
    float lr = 1.0f;
    float decay = 0.95f;
    float eps = 1e-6f;
};

class Adadelta : public solver {
public:
    using args = adadelta_args;
    Adadelta() : Adadelta(args{}) {}
    explicit Adadelta(const args& a) : solver("Adadelta", a.lr, names), decay_(a.decay), eps_(a.eps) {}
    explicit Adadelta(float lr, float decay = args{}.decay, float eps = args{}.eps)
        : Adadelta(args{lr, decay, eps}) {}

    float decay() const noexcept { return decay_; }
    float eps() const noexcept { return eps_; }

protected:
    void update_impl(slot& s, float* data, const float* grad, std::size_t n) override {
        const float lr = learning_rate(), decay = decay_, keep = 1 - decay_, eps = eps_;
        detail::for_each_element(
            n,
            [&](auto& w, const auto& g, auto& e_grad, auto& e_delta) {
                e_grad = e_grad * decay + keep * g * g;
                const auto delta = detail::sqrt_of((e_delta + eps) / (e_grad + eps)) * g;
                e_delta = e_delta * decay + keep * delta * delta;
                w = w - lr * delta;
            },
            data, grad, s.state[0].data(), s.state[1].data());
    }

private:
    static constexpr std::array<std::string_view, 2> names{"e_sqr_grad", "e_sqr_delta"};
    float decay_, eps_;
};

}  // namespace kata::train
