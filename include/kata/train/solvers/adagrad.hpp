// kata/train/solvers/adagrad.hpp
//
// Purpose: nnabla's S.Adagrad(lr=0.01, eps=1e-8) (state "v", the sum of squared gradients):
//   v <- v + g^2;  w <- w - lr * g / (sqrt(v) + eps)
#pragma once

#include "../../detail/xtensor_fix.hpp"
#include "../solver_core.hpp"

#include <array>
#include <string_view>

namespace kata::train {

/// Adagrad's keyword arguments with nnabla's defaults.
struct adagrad_args {
    float lr = 0.01f;
    float eps = 1e-8f;
};

class Adagrad : public solver {
public:
    using args = adagrad_args;
    Adagrad() : Adagrad(args{}) {}
    explicit Adagrad(const args& a) : solver("Adagrad", a.lr, names), eps_(a.eps) {}
    explicit Adagrad(float lr, float eps = args{}.eps) : Adagrad(args{lr, eps}) {}

    float eps() const noexcept { return eps_; }

protected:
    void update_impl(slot& s, float* data, const float* grad, std::size_t n) override {
        const float lr = learning_rate(), eps = eps_;
        detail::for_each_element(
            n,
            [&](auto& w, const auto& g, auto& v) {
                v = v + g * g;
                w = w - lr * g / (detail::sqrt_of(v) + eps);
            },
            data, grad, s.state[0].data());
    }

private:
    static constexpr std::array<std::string_view, 1> names{"v"};
    float eps_;
};

}  // namespace kata::train
