// kata/train/solvers/nesterov.hpp
//
// Purpose: nnabla's S.Nesterov(lr=0.001, momentum=0.9) (state "m"):
//   m' <- momentum * m - lr * g;  w <- w + (-momentum * m + (1 + momentum) * m');  m <- m'
// Note the sign: nnabla's Nesterov state is the negated velocity of its Momentum solver.
#pragma once

#include "../../detail/xtensor_fix.hpp"
#include "../solver_core.hpp"

#include <array>
#include <string_view>

namespace kata::train {

/// Nesterov's keyword arguments with nnabla's defaults.
struct nesterov_args {
    float lr = 0.001f;
    float momentum = 0.9f;
};

class Nesterov : public solver {
public:
    using args = nesterov_args;
    Nesterov() : Nesterov(args{}) {}
    explicit Nesterov(const args& a) : solver("Nesterov", a.lr, names), momentum_(a.momentum) {}
    explicit Nesterov(float lr, float momentum = args{}.momentum) : Nesterov(args{lr, momentum}) {}

    float momentum() const noexcept { return momentum_; }

protected:
    void update_impl(slot& s, float* data, const float* grad, std::size_t n) override {
        const float lr = learning_rate(), mu = momentum_, minus_mu = -momentum_, one_plus_mu = 1 + momentum_;
        detail::for_each_element(
            n,
            [&](auto& w, const auto& g, auto& m) {
                const auto m_prev = m;
                m = mu * m - lr * g;
                w = w + (minus_mu * m_prev + one_plus_mu * m);
            },
            data, grad, s.state[0].data());
    }

private:
    static constexpr std::array<std::string_view, 1> names{"m"};
    float momentum_;
};

}  // namespace kata::train
