// kata's ten solvers against nnabla 1.39's, step by step (fixtures: tools/fixtures/make_solver_fixtures.py).
//
// Each fixture replays 6 steps on four parameters of odd shapes (one need_grad=false) with gradients
// that differ per step, a learning-rate change at steps 3 and 5, weight decay at steps 1, 3 (twice) and 4,
// gradient clipping at steps 2 and 3 (one parameter clipped, one not), a scale_grad, and a parameter
// without gradient at step 4; once with nnabla's default hyper-parameters (kata's defaults are checked
// by constructing the solver without arguments) and once with non-default ones. Every parameter value,
// state array, counter t and the learning rate are compared after every step (tolerance: see
// solver_support.hpp). The last cases show that rules that are wrong by a little fail the comparison.
#include "solver_support.hpp"

#include <algorithm>

namespace {

using kata::test::npz_fixture;
using kata::test::replay;

TEST_CASE("solvers match nnabla 1.39 step by step (default and custom hyper-parameters)") {
    double worst = 0;
    for (const char* stem : kata::test::solver_stems) {
        const npz_fixture fx(stem);
        for (const std::string run : {"default", "custom"}) {
            INFO(fx.path() << " run " << run);
            auto s = kata::test::make_solver(stem, fx, run);
            // kata's state names are nnabla's: the fixture has exactly these states for every parameter.
            for (const auto& fp : kata::test::fixture_params) {
                std::size_t n = 0;
                for (const std::string& sn : {"m", "v", "v_hat", "mean", "var", "e_sqr_grad", "e_sqr_delta"})
                    n += fx.has(run + "/state/" + fp.name + "/" + sn);
                CHECK(n == s->state_names().size());
            }
            const auto c = replay(fx, run, *s);
            CHECK_MESSAGE(c.worst <= 1.0, c.message);
            worst = std::max(worst, c.worst);
        }
    }
    MESSAGE("worst difference to nnabla over all solvers, runs, steps and arrays: "
            << worst << " x tolerance (" << kata::test::replay_tolerance << " relative)");
}

// ----- rules that are wrong by a little must fail the same comparison -----------------------------

// Adam as the docstring of nnabla's AdamW writes it: eps added to sqrt(v_hat) of the bias-corrected
// moments instead of to sqrt(v) (differs from nnabla's computation by about eps * sqrt(1 - beta2^t)).
struct adam_hat_eps : kata::train::Adam {
    using Adam::Adam;
    void update_impl(slot& s, float* w, const float* g, std::size_t n) override {
        const float c1 = 1 - float(std::pow(beta1(), s.t)), c2 = 1 - float(std::pow(beta2(), s.t));
        const float alpha = learning_rate(), e = eps();
        const kata::train::detail::adam_moments moments{beta1(), beta2()};
        kata::train::detail::for_each_element(
            n,
            [&](auto& w, const auto& g, auto& m, auto& v) {
                moments(g, m, v);
                w = w - alpha * (m / c1) / (kata::train::detail::sqrt_of(v / c2) + e);
            },
            w, g, s.state[0].data(), s.state[1].data());
    }
};

// AdamW decaying the already-updated weight instead of the weight before the step.
struct adamw_decay_after_step : kata::train::AdamW {
    using AdamW::AdamW;
    float init_alpha = 0;
    void update_impl(slot& s, float* w, const float* g, std::size_t n) override {
        const float alpha_t =
            learning_rate() * kata::train::detail::adam_bias_correction(beta1(), beta2(), s.t);
        const float decay = learning_rate() / init_alpha * fused_decay_rate(), e = eps();
        const kata::train::detail::adam_moments moments{beta1(), beta2()};
        kata::train::detail::for_each_element(
            n,
            [&](auto& w, const auto& g, auto& m, auto& v) {
                moments(g, m, v);
                w = w - alpha_t * m / (kata::train::detail::sqrt_of(v) + e);
                w = w - decay * w;
            },
            w, g, s.state[0].data(), s.state[1].data());
    }
};

// RMSprop with eps inside the square root.
struct rmsprop_eps_inside : kata::train::RMSprop {
    using RMSprop::RMSprop;
    void update_impl(slot& s, float* w, const float* g, std::size_t n) override {
        const float lr = learning_rate(), d = decay(), e = eps();
        kata::train::detail::for_each_element(
            n,
            [&](auto& w, const auto& g, auto& v) {
                v = v * d + g * g * (1 - d);
                w = w - lr * g / kata::train::detail::sqrt_of(v + e);
            },
            w, g, s.state[0].data());
    }
};

// Adam without the bias correction of its step size.
struct adam_without_bias_correction : kata::train::Adam {
    using Adam::Adam;
    void update_impl(slot& s, float* w, const float* g, std::size_t n) override {
        const float alpha = learning_rate(), e = eps();
        const kata::train::detail::adam_moments moments{beta1(), beta2()};
        kata::train::detail::for_each_element(
            n,
            [&](auto& w, const auto& g, auto& m, auto& v) {
                moments(g, m, v);
                w = w - alpha * m / (kata::train::detail::sqrt_of(v) + e);
            },
            w, g, s.state[0].data(), s.state[1].data());
    }
};

// Nesterov's look-ahead dropped (plain momentum with nnabla's Nesterov sign convention).
struct nesterov_without_lookahead : kata::train::Nesterov {
    using Nesterov::Nesterov;
    void update_impl(slot& s, float* w, const float* g, std::size_t n) override {
        const float lr = learning_rate(), mu = momentum();
        kata::train::detail::for_each_element(
            n,
            [&](auto& w, const auto& g, auto& m) {
                m = mu * m - lr * g;
                w = w + m;
            },
            w, g, s.state[0].data());
    }
};

TEST_CASE("a rule that differs a little from nnabla's fails the comparison") {
    {
        const npz_fixture fx("adam");
        adam_hat_eps s(kata::train::Adam::args{.alpha = fx.scalar("custom/args/alpha"),
                                               .beta1 = fx.scalar("custom/args/beta1"),
                                               .beta2 = fx.scalar("custom/args/beta2"),
                                               .eps = fx.scalar("custom/args/eps")});
        const auto c = replay(fx, "custom", s);
        MESSAGE("Adam with eps on the bias-corrected sqrt(v): " << c.worst << " x tolerance");
        CHECK(c.worst > 1.0);
    }
    {
        const npz_fixture fx("adamw");
        adamw_decay_after_step s(kata::train::AdamW::args{.alpha = fx.scalar("custom/args/alpha"),
                                                          .beta1 = fx.scalar("custom/args/beta1"),
                                                          .beta2 = fx.scalar("custom/args/beta2"),
                                                          .eps = fx.scalar("custom/args/eps"),
                                                          .wd = fx.scalar("custom/args/wd")});
        s.init_alpha = fx.scalar("custom/args/alpha");
        const auto c = replay(fx, "custom", s);
        MESSAGE("AdamW decaying the updated weight: " << c.worst << " x tolerance");
        CHECK(c.worst > 1.0);
    }
    {
        const npz_fixture fx("rmsprop");
        rmsprop_eps_inside s(kata::train::RMSprop::args{.lr = fx.scalar("custom/args/lr"),
                                                        .decay = fx.scalar("custom/args/decay"),
                                                        .eps = fx.scalar("custom/args/eps")});
        const auto c = replay(fx, "custom", s);
        MESSAGE("RMSprop with eps inside the square root: " << c.worst << " x tolerance");
        CHECK(c.worst > 1.0);
    }
    {
        const npz_fixture fx("nesterov");
        nesterov_without_lookahead s(kata::train::Nesterov::args{
            .lr = fx.scalar("custom/args/lr"), .momentum = fx.scalar("custom/args/momentum")});
        const auto c = replay(fx, "custom", s);
        MESSAGE("Nesterov without its look-ahead: " << c.worst << " x tolerance");
        CHECK(c.worst > 1.0);
    }
    {
        // The default run too (nnabla's defaults, lr 1e-3, move the parameters little): Adam without
        // its bias correction.
        const npz_fixture fx("adam");
        adam_without_bias_correction s;
        const auto c = replay(fx, "default", s);
        MESSAGE("Adam (defaults) without bias correction: " << c.worst << " x tolerance");
        CHECK(c.worst > 1.0);
    }
}

TEST_CASE("the frozen parameter's garbage gradient is what the replay ignores, not what it never sees") {
    // Control for the replay's need_grad=false parameter: with the gradient left at zero instead of
    // NaN, the results are the same (the solvers skip the parameter either way); with NaN, a solver
    // that did not skip it would turn its value into NaN and fail.
    const npz_fixture fx("adamw");
    kata::train::AdamW s;
    const auto c = replay(fx, "default", s, {.garbage_in_frozen = false});
    CHECK_MESSAGE(c.worst <= 1.0, c.message);
}

}  // namespace
