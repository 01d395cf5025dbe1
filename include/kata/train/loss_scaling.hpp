// kata/train/loss_scaling.hpp
//
// nnabla's DynamicLossScalingUpdater (docs/training.md, "Dynamic loss scaling"): the loss's gradient is
// seeded with `scale` instead of 1, so small gradients survive a narrow number format; if any gradient
// came out inf or NaN the step is skipped (parameters and solver state untouched) and the scale is
// divided by `scaling_factor`; otherwise the gradients are unscaled (scale_grad(1/scale)), weight decay
// is applied, the solver updates, and after N clean updates in a row the scale is multiplied by
// `scaling_factor`.
//
//     using Train = kata::train::training_graph<Net, kata::train::loss_seed::scale>;
//     kata::train::cpu_executor<Train> step(store);   // creates the store's "@loss_scale" entry
//     kata::train::DynamicLossScalingUpdater updater(solver, kata::train::loss(step, x, t),
//                                                    data_feeder = feed, scale = 8.0, N = 2000);
//
// The run-time seed: a training graph derived with loss_seed::scale reads its loss gradient from the
// parameter leaf kata::train::loss_scale_key, which this updater writes before each step: changing the
// scale neither recompiles nor allocates.
//
// Where kata differs from upstream (spec section 10 item 12; docs/training.md says why):
//   * on overflow the step is skipped and update() returns; upstream re-runs the whole iteration on a
//     NEW batch up to 100 times inside the same call, silently consuming batches;
//   * the scale grows after exactly N clean updates (upstream: after N+2, then every N+1);
//   * with a communicator the gradients are averaged (division=true) BEFORE the inf/NaN check, so an
//     overflow on one process skips the step on all of them;
//   * the default data feeder works (upstream's needs an argument it is never given).
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <utility>
#include <vector>

#include "updater.hpp"

namespace kata::train {

class DynamicLossScalingUpdater : public updater_base {
public:
    DynamicLossScalingUpdater(train::solver& s, graph_ref loss, loss_scaling_args args)
        : solver_(&s), loss_(std::move(loss)), a_(std::move(args)), scale_(float(a_.scale)) {
        detail::check_updater(loss_, a_.accum_grad, "kata::train::DynamicLossScalingUpdater");
        if (loss_.seed != loss_seed::scale)
            throw std::invalid_argument(
                "kata::train::DynamicLossScalingUpdater: the loss's executor must run "
                "training_graph<Net, loss_seed::scale> (its loss gradient is then read from '@loss_scale' at "
                "run time); this one seeds the loss gradient with a compiled-in 1");
        if (!(a_.scaling_factor > 0) || a_.N < 1)
            throw std::invalid_argument(
                "kata::train::DynamicLossScalingUpdater: scaling_factor must be > 0 and "
                "N >= 1");
        seed_ = loss_.store->find(loss_scale_key);
        if (!seed_)
            throw std::invalid_argument(
                "kata::train::DynamicLossScalingUpdater: the parameter store has no '" +
                std::string(loss_scale_key) + "' entry");
        if (a_.comm && a_.grads.empty()) a_.grads = gradients_of(s);
    }
    template <keyword_argument... K>
    DynamicLossScalingUpdater(train::solver& s, graph_ref loss, const K&... kws)
        : DynamicLossScalingUpdater(s, std::move(loss), make_args<loss_scaling_args>(kws...)) {}

    // One iteration; returns whether the solver updated (false: overflow, step skipped).
    void update(std::int64_t i) override { (void)try_update(i); }
    bool try_update(std::int64_t i) {
        solver_->zero_grad();
        std::fill_n(seed_->data.data(), seed_->data.size(), scale_);
        detail::accumulate(loss_, a_, i);
        detail::exchange(a_, i);
        if (solver_->check_inf_or_nan_grad()) {
            scale_ = float(double(scale_) / a_.scaling_factor);
            counter_ = 0;
            ++skipped_;
            last_skipped_ = true;
            return false;
        }
        last_skipped_ = false;
        solver_->scale_grad(1.0f / scale_);
        if (a_.weight_decay) solver_->weight_decay(*a_.weight_decay);
        a_.update_callback_on_start(i);
        solver_->update();
        a_.update_callback_on_finish(i);
        if (++counter_ >= a_.N) {
            scale_ = float(double(scale_) * a_.scaling_factor);
            counter_ = 0;
        }
        return true;
    }

    float scale() const noexcept { return scale_; }
    void set_scale(float s) noexcept { scale_ = s; }
    std::int64_t counter() const noexcept { return counter_; }  // clean updates since the last change
    std::int64_t skipped() const noexcept { return skipped_; }  // skipped steps since construction
    bool last_update_skipped() const noexcept { return last_skipped_; }

    train::solver& solver() const override { return *solver_; }
    parameter_store* store() const override { return loss_.store; }
    // Checkpointed: the scale and the clean-update counter (kata/train/checkpoint.hpp).
    std::vector<double> state() const override { return {double(scale_), double(counter_)}; }
    void set_state(std::span<const double> s) override {
        if (s.size() != 2)
            throw std::invalid_argument("kata::train::DynamicLossScalingUpdater: a checkpointed state has 2 "
                                        "values (scale, counter), got " +
                                        std::to_string(s.size()));
        scale_ = float(s[0]);
        counter_ = std::int64_t(s[1]);
    }

private:
    train::solver* solver_;
    graph_ref loss_;
    loss_scaling_args a_;
    float scale_;
    parameter* seed_ = nullptr;
    std::int64_t counter_ = 0, skipped_ = 0;
    bool last_skipped_ = false;
};

}  // namespace kata::train
