// kata/train/solvers/momentum.hpp
//
// Purpose: nnabla's S.Momentum(lr=0.001, momentum=0.9):
//   m <- momentum * m + lr * g;  w <- w - m          (state "m", zeros at set_parameters)
#pragma once

#include "../../detail/xtensor_fix.hpp"
#include "../solver_core.hpp"

#include <array>
#include <string_view>

namespace kata::train {

/// Momentum's keyword arguments with nnabla's defaults.
struct momentum_args {
    float lr = 0.001f;
    float momentum = 0.9f;
};

class Momentum : public solver {
public:
    using args = momentum_args;
    Momentum() : Momentum(args{}) {}
    explicit Momentum(const args& a) : solver("Momentum", a.lr, names), momentum_(a.momentum) {}
    explicit Momentum(float lr, float momentum = args{}.momentum) : Momentum(args{lr, momentum}) {}

    float momentum() const noexcept { return momentum_; }

protected:
    void update_impl(slot& s, float* data, const float* grad, std::size_t n) override {
        const float lr = learning_rate(), mu = momentum_;
        detail::for_each_element(
            n,
            [&](auto& w, const auto& g, auto& m) {
                m = mu * m + lr * g;
                w = w - m;
            },
            data, grad, s.state[0].data());
    }

private:
    static constexpr std::array<std::string_view, 1> names{"m"};
    float momentum_;
};

}  // namespace kata::train
