// kata/train/solvers/sgdw.hpp
//
// Purpose: nnabla's S.SgdW(lr=0.001, momentum=0.9, wd=1e-4), momentum SGD with decoupled weight decay
// fused into update() (state "m"):
//   m <- momentum * m + lr * g;  w <- w - m - eta_t * lambda * w    (w on the right: before the step)
//   eta_t = lr / lr_0 (current over initial learning rate); lambda = the rate of the last
//   weight_decay(r) call since the previous update(), else `wd`.
#pragma once

#include "../../detail/xtensor_fix.hpp"
#include "../solver_core.hpp"

#include <array>
#include <string_view>

namespace kata::train {

/// SgdW's keyword arguments with nnabla's defaults.
struct sgdw_args {
    float lr = 0.001f;
    float momentum = 0.9f;
    float wd = 1e-4f;
};

class SgdW : public solver {
public:
    using args = sgdw_args;
    SgdW() : SgdW(args{}) {}
    explicit SgdW(const args& a)
        : solver("SgdW", a.lr, names, /*fused_decay=*/true, a.wd), init_lr_(a.lr), momentum_(a.momentum) {}
    explicit SgdW(float lr, float momentum = args{}.momentum, float wd = args{}.wd)
        : SgdW(args{lr, momentum, wd}) {}

    float momentum() const noexcept { return momentum_; }

protected:
    void update_impl(slot& s, float* data, const float* grad, std::size_t n) override {
        const float lr = learning_rate(), mu = momentum_;
        const float decay = (lr / init_lr_) * fused_decay_rate();
        detail::for_each_element(
            n,
            [&](auto& w, const auto& g, auto& m) {
                m = mu * m + lr * g;
                w = w - m - decay * w;
            },
            data, grad, s.state[0].data());
    }

private:
    static constexpr std::array<std::string_view, 1> names{"m"};
    float init_lr_, momentum_;
};

}  // namespace kata::train
