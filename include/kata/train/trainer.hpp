// kata/train/trainer.hpp
//
// nnabla's experimental Trainer (docs/training.md, "Trainers"): max_epoch epochs of iter_per_epoch
// iterations; each iteration calls every updater's update(i), each epoch ends with a checkpoint (when
// model_save_path is set) and every evaluator's evaluate(i), i being the epoch's last iteration.
//
//     kata::train::Trainer trainer(updater, evaluator, "runs/lenet", max_epoch = 10, iter_per_epoch = 937);
//     trainer.train();        // resumes from the newest checkpoint in runs/lenet, if any
//
// Updaters and evaluators are held by reference (they must outlive the trainer): one, or a braced list.
// Where kata differs from upstream (spec section 10 item 13; docs/training.md):
//   * train() resumes from the newest complete checkpoint under model_save_path (kata/train/checkpoint.hpp)
//     and continues with the next epoch: the same parameters, solver states, loss scale and iteration
//     numbers as a run that was never interrupted;
//   * no duplicate save and evaluation after the last epoch; max_epoch = 0 trains nothing (upstream fails);
//   * no evaluator is fine (upstream requires one); iter_per_epoch must be given (>= 1).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "checkpoint.hpp"
#include "evaluator.hpp"
#include "updater.hpp"

namespace kata::train {

struct trainer_args {
    std::string model_save_path;  // empty: nnabla's None (no checkpoints, no resume)
    std::int64_t max_epoch = 1;
    std::int64_t iter_per_epoch = 0;
    callbacks<> callback_on_start, callback_on_finish;
    callbacks<std::int64_t> update_callback_on_start, update_callback_on_finish;
};

}  // namespace kata::train

KATA_ADAPT_ARGS(kata::train::trainer_args, model_save_path, max_epoch, iter_per_epoch, callback_on_start,
                callback_on_finish, update_callback_on_start, update_callback_on_finish);

namespace kata::train {

// One updater or evaluator, or a list of them (by reference).
template <class T>
class one_or_list {
public:
    one_or_list() = default;
    one_or_list(T& x) : list_{&x} {}  // NOLINT: implicit on purpose
    one_or_list(std::initializer_list<std::reference_wrapper<T>> xs) {
        for (T& x : xs) list_.push_back(&x);
    }
    one_or_list(std::nullptr_t) {}  // NOLINT: evaluator = nullptr reads like None
    const std::vector<T*>& items() const noexcept { return list_; }

private:
    std::vector<T*> list_;
};

class Trainer {
public:
    Trainer(one_or_list<updater_base> updaters, one_or_list<Evaluator> evaluators, trainer_args args)
        : updaters_(updaters.items()), evaluators_(evaluators.items()), a_(std::move(args)) {
        if (updaters_.empty()) throw std::invalid_argument("kata::train::Trainer: no updater");
        if (a_.max_epoch < 0) throw std::invalid_argument("kata::train::Trainer: max_epoch must be >= 0");
        if (a_.iter_per_epoch < 1)
            throw std::invalid_argument("kata::train::Trainer: iter_per_epoch must be given (>= 1), got " +
                                        std::to_string(a_.iter_per_epoch));
    }
    template <keyword_argument... K>
    Trainer(one_or_list<updater_base> updaters, one_or_list<Evaluator> evaluators, const K&... kws)
        : Trainer(std::move(updaters), std::move(evaluators), make_args<trainer_args>(kws...)) {}
    // nnabla's positional model_save_path.
    template <keyword_argument... K>
    Trainer(one_or_list<updater_base> updaters, one_or_list<Evaluator> evaluators,
            std::string model_save_path, const K&... kws)
        : Trainer(std::move(updaters), std::move(evaluators),
                  with_path(make_args<trainer_args>(kws...), std::move(model_save_path))) {}

    void train() {
        std::int64_t first_epoch = 0;
        if (!a_.model_save_path.empty())
            if (const auto c = newest_checkpoint(a_.model_save_path)) {
                resumed_ = load_checkpoint(c->dir, updaters_);
                first_epoch = c->epoch + 1;
            }
        a_.callback_on_start();
        for (std::int64_t e = first_epoch; e < a_.max_epoch; ++e) {
            std::int64_t i = e * a_.iter_per_epoch;
            for (std::int64_t j = 0; j < a_.iter_per_epoch; ++j) {
                i = e * a_.iter_per_epoch + j;
                a_.update_callback_on_start(i);
                for (updater_base* u : updaters_) u->update(i);
                a_.update_callback_on_finish(i);
            }
            if (!a_.model_save_path.empty()) save_checkpoint(a_.model_save_path, i, e, updaters_);
            for (Evaluator* ev : evaluators_) ev->evaluate(i);
        }
        a_.callback_on_finish();
    }

    // The checkpoint the last train() resumed from, if any.
    const std::optional<checkpoint_info>& resumed_from() const noexcept { return resumed_; }
    const trainer_args& args() const noexcept { return a_; }

private:
    static trainer_args with_path(trainer_args a, std::string path) {
        a.model_save_path = std::move(path);
        return a;
    }
    std::vector<updater_base*> updaters_;
    std::vector<Evaluator*> evaluators_;
    trainer_args a_;
    std::optional<checkpoint_info> resumed_;
};

}  // namespace kata::train
