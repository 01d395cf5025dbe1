// kata/train/solvers/sgd.hpp
//
// Purpose: nnabla's S.Sgd(lr=0.001): w <- w - lr * g.
// No state besides the update counter t (docs/solvers.md).
#pragma once

#include "../../detail/xtensor_fix.hpp"
#include "../solver_core.hpp"

#include <array>
#include <string_view>

namespace kata::train {

/// Sgd's keyword arguments with nnabla's defaults.
struct sgd_args {
    float lr = 0.001f;
};

class Sgd : public solver {
public:
    using args = sgd_args;
    Sgd() : Sgd(args{}) {}
    explicit Sgd(const args& a) : solver("Sgd", a.lr, names) {}
    explicit Sgd(float lr) : Sgd(args{lr}) {}

protected:
    void update_impl(slot&, float* data, const float* grad, std::size_t n) override {
        const float lr = learning_rate();
        detail::for_each_element(
            n, [&](auto& w, const auto& g) { w = w - lr * g; }, data, grad);
    }

private:
    static constexpr std::array<std::string_view, 0> names{};
};

}  // namespace kata::train
