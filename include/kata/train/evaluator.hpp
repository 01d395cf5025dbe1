// kata/train/evaluator.hpp
//
// nnabla's experimental Evaluator (docs/training.md, "Trainers"): evaluate(i) runs `val_iter` batches
// through the validation graph(s) and reports, per root, the mean over the batches of the root's value.
//
//     kata::cpu::executor<ValNet> veval(store);                  // outputs: loss, error
//     kata::train::Evaluator ev(kata::train::loss(veval, vx, vt), data_feeder = feed, val_iter = 10,
//                               callback_on_finish = {on_loss, on_error});   // (i, mean) per root
//
// vroot: one graph_ref (kata/train/updater.hpp; its roots are its forward outputs) or a list of them
// (their roots concatenated). Where kata differs from upstream (docs/training.md):
//   * each graph is run once per batch (upstream runs each root's graph separately);
//   * callback_on_start is called, all of it, with (i, 0) -- upstream pairs it with the roots and drops
//     the extra callbacks; finish callback k gets root k (their counts must match, as upstream asserts);
//   * with a communicator the means are averaged over the processes (upstream ignores comm);
//   * clear_buffer has no effect (the executor's memory plan reuses buffers).
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "updater.hpp"

namespace kata::train {

struct evaluator_args {
    std::function<void()> data_feeder = [] {};
    std::int64_t val_iter = 1;
    callbacks<std::int64_t, float> callback_on_start, callback_on_finish;
    bool clear_buffer = true;
    communicator_ref comm;
};

}  // namespace kata::train

KATA_ADAPT_ARGS(kata::train::evaluator_args, data_feeder, val_iter, callback_on_start, callback_on_finish,
                clear_buffer, comm);

namespace kata::train {

class Evaluator {
public:
    Evaluator(std::vector<graph_ref> vroot, evaluator_args args)
        : vroot_(std::move(vroot)), a_(std::move(args)) {
        for (const graph_ref& g : vroot_) {
            if (!g.forward)
                throw std::invalid_argument("kata::train::Evaluator: a root is not bound to an executor");
            n_roots_ += g.roots.size();
        }
        if (a_.val_iter < 1)
            throw std::invalid_argument("kata::train::Evaluator: val_iter must be >= 1, got " +
                                        std::to_string(a_.val_iter));
        if (!a_.callback_on_finish.empty() && a_.callback_on_finish.size() != n_roots_)
            throw std::invalid_argument(
                "kata::train::Evaluator: " + std::to_string(a_.callback_on_finish.size()) +
                " finish callbacks for " + std::to_string(n_roots_) +
                " roots (callback k receives root k's mean)");
        sums_.assign(n_roots_, 0.0);
        means_.assign(n_roots_, 0.0f);
    }
    Evaluator(graph_ref vroot, evaluator_args args)
        : Evaluator(std::vector<graph_ref>{std::move(vroot)}, std::move(args)) {}
    template <keyword_argument... K>
    Evaluator(graph_ref vroot, const K&... kws)
        : Evaluator(std::move(vroot), make_args<evaluator_args>(kws...)) {}
    template <keyword_argument... K>
    Evaluator(std::vector<graph_ref> vroot, const K&... kws)
        : Evaluator(std::move(vroot), make_args<evaluator_args>(kws...)) {}

    void evaluate(std::int64_t i) {
        a_.callback_on_start(i, 0.0f);
        std::fill(sums_.begin(), sums_.end(), 0.0);
        for (std::int64_t b = 0; b < a_.val_iter; ++b) {
            a_.data_feeder();
            std::size_t k = 0;
            for (const graph_ref& g : vroot_) {
                g.forward();
                for (const auto& r : g.roots) sums_[k++] += double(r());
            }
        }
        for (std::size_t k = 0; k < n_roots_; ++k) means_[k] = float(sums_[k] / double(a_.val_iter));
        if (a_.comm) {
            std::span<float> all(means_);
            a_.comm.all_reduce(std::span<std::span<float>>(&all, 1), true, true);
        }
        for (std::size_t k = 0; k < a_.callback_on_finish.size(); ++k) a_.callback_on_finish[k](i, means_[k]);
    }
    // The means of the last evaluate(), one per root.
    std::span<const float> means() const noexcept { return means_; }

private:
    std::vector<graph_ref> vroot_;
    evaluator_args a_;
    std::size_t n_roots_ = 0;
    std::vector<double> sums_;
    std::vector<float> means_;
};

}  // namespace kata::train
