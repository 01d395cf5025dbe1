// kata/train/solvers/rmsprop.hpp
//
// Purpose: nnabla's S.RMSprop(lr=0.001, decay=0.9, eps=1e-8) (state "v"):
//   v <- decay * v + (1 - decay) * g^2;  w <- w - lr * g / (sqrt(v) + eps)
#pragma once

#include "../../detail/xtensor_fix.hpp"
#include "../solver_core.hpp"

#include <array>
#include <string_view>

namespace kata::train {

/// RMSprop's keyword arguments with nnabla's defaults.
struct rmsprop_args {
    float lr = 0.001f;
    float decay = 0.9f;
    float eps = 1e-8f;
};

class RMSprop : public solver {
public:
    using args = rmsprop_args;
    RMSprop() : RMSprop(args{}) {}
    explicit RMSprop(const args& a) : solver("RMSprop", a.lr, names), decay_(a.decay), eps_(a.eps) {}
    explicit RMSprop(float lr, float decay = args{}.decay, float eps = args{}.eps)
        : RMSprop(args{lr, decay, eps}) {}

    float decay() const noexcept { return decay_; }
    float eps() const noexcept { return eps_; }

protected:
    void update_impl(slot& s, float* data, const float* grad, std::size_t n) override {
        const float lr = learning_rate(), decay = decay_, keep = 1 - decay_, eps = eps_;
        detail::for_each_element(
            n,
            [&](auto& w, const auto& g, auto& v) {
                v = v * decay + g * g * keep;
                w = w - lr * g / (detail::sqrt_of(v) + eps);
            },
            data, grad, s.state[0].data());
    }

private:
    static constexpr std::array<std::string_view, 1> names{"v"};
    float decay_, eps_;
};

}  // namespace kata::train
