// kata/train/naive_trainers.hpp
//
// nnabla's NaiveClassificationTrainer and NaiveRegressionTrainer (docs/training.md, "Trainers"): given
// prediction networks for training and evaluation, they add the loss, build the Updater, the Evaluator
// and the Trainer, and write nnabla's monitor files.
//
//     constexpr var lenet(builder& g, bool test) { auto x = g.input("x", {64, 1, 28, 28}); ... return y; }
//     constexpr var lenet_train(builder& g) { return lenet(g, false); }    // BN: batch statistics
//     constexpr var lenet_test(builder& g) { return lenet(g, true); }      // BN: running statistics
//     kata::train::NaiveClassificationTrainer<lenet_train, lenet_test> trainer(
//         solver, store, tdata = &train_it, vdata = &test_it, monitor_path = "runs/m",
//         model_save_path = "runs/ckpt", max_epoch = 10);
//     trainer.train();
//
// tpred / vpred are template arguments (kata's graphs are types): each is `constexpr var f(builder&)`
// whose first input is the image batch and whose result is the prediction. The trainer composes
//   classification: loss = mean(softmax_cross_entropy(pred, t)), t an int32 input of shape (B, 1);
//                   error = top-1 error of pred against t (computed on the host from the prediction);
//   regression:     loss = mean(squared_error(pred, t)), t a float input of pred's shape.
// The store must hold the prediction network's parameters (kata::create_parameters) and the solver
// must be set on them (solver.set_parameters(store)), as in nnabla's example.
//
// Arguments (keywords, order-free): tinput, tlabel, vinput, vlabel -- pointers to the caller's input
// buffers (default: buffers of the trainer's own); tdata, vdata -- pointers to data iterators (anything
// with `auto [x, t] = it.next()`, `it.size()`, `it.batch_size()`); monitor_path, model_save_path,
// max_epoch (1), iter_per_epoch (default tdata.size() / tdata.batch_size()), val_iter (default
// vdata.size() / vdata.batch_size()); kata adds update_callback_on_start / _on_finish (the Trainer's,
// called with the iteration number around every update: a learning-rate schedule, see
// examples/train_fashion_mnist.cpp).
//
// Monitors (kata::monitor, nnabla's files in monitor_path, created if missing, truncated at
// construction): "Training loss" (interval 10), "Training error" (10, classification), "Valid loss" and
// "Valid error" (interval 1), MonitorTimeElapsed "Training time" (10), as upstream creates them.
// Checkpoints and resume: see kata/train/checkpoint.hpp; data iterators with seek(epoch, position) are
// repositioned on a resume, so a resumed run equals an uninterrupted one bit for bit.
// Differences from upstream: the training error is the error of the step's own predictions (upstream
// computes it twice per step, once from the previous step's), and NaiveRegressionTrainer can be
// constructed (upstream's raises NameError).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "../core/graph.hpp"
#include "../cpu/executor.hpp"
#include "../monitor/monitor.hpp"
#include "../monitor/monitor_series.hpp"
#include "../monitor/monitor_time_elapsed.hpp"
#include "../ops/loss.hpp"
#include "../ops/reduction.hpp"
#include "evaluator.hpp"
#include "trainer.hpp"
#include "updater.hpp"

namespace kata::train {

// ----- data iterators ------------------------------------------------------------------------------

// The data iterator interface the naive trainers read (kata's DataIterator, or a test's own).
template <class It>
concept data_iterator = requires(It& it) {
    it.next();
    it.size();
    it.batch_size();
};

// A non-owning, type-erased data iterator that copies each batch into given buffers.
template <class Label>
class data_source {
public:
    data_source() = default;
    data_source(std::nullptr_t) {}  // NOLINT
    template <data_iterator It>
    data_source(It* it)  // NOLINT: implicit on purpose (tdata = &it)
        : self_(it), next_([](void* s, xt::xarray<float>& x, xt::xarray<Label>& t) {
              const auto& [a, b] = static_cast<It*>(s)->next();  // no copy of the batch
              copy_into(x, a, "data");
              copy_into(t, b, "label");
          }),
          size_([](void* s) { return std::int64_t(static_cast<It*>(s)->size()); }),
          batch_([](void* s) { return std::int64_t(static_cast<It*>(s)->batch_size()); }) {
        if constexpr (requires(It & i) { i.seek(0, std::size_t(0)); })
            seek_ = [](void* s, std::int64_t epoch, std::int64_t position) {
                static_cast<It*>(s)->seek(int(epoch), std::size_t(position));
            };
    }
    explicit operator bool() const noexcept { return self_ != nullptr; }
    void next_into(xt::xarray<float>& x, xt::xarray<Label>& t) const { next_(self_, x, t); }
    std::int64_t size() const { return size_(self_); }
    std::int64_t batch_size() const { return batch_(self_); }
    // Puts the iterator where it is after `batches` next() calls from its start (nnabla's semantics: a
    // batch that crosses the end of an epoch continues in the next one). False if it cannot seek.
    bool seek_after(std::int64_t batches) const {
        if (!seek_) return false;
        const std::int64_t consumed = batches * batch_size();
        seek_(self_, consumed / size(), consumed % size());
        return true;
    }

private:
    template <class T, class A>
    static void copy_into(xt::xarray<T>& dst, const A& src, const char* what) {
        if (std::size_t(src.size()) != dst.size())
            throw std::invalid_argument(std::string("kata::train: the data iterator's ") + what +
                                        " batch has " + std::to_string(src.size()) +
                                        " values, the graph's input " + std::to_string(dst.size()));
        const auto* p = src.data();
        for (std::size_t k = 0; k < dst.size(); ++k) dst.data()[k] = static_cast<T>(p[k]);
    }
    void* self_ = nullptr;
    void (*next_)(void*, xt::xarray<float>&, xt::xarray<Label>&) = nullptr;
    std::int64_t (*size_)(void*) = nullptr;
    std::int64_t (*batch_)(void*) = nullptr;
    void (*seek_)(void*, std::int64_t, std::int64_t) = nullptr;
};

template <class Label>
struct naive_trainer_args {
    xt::xarray<float>* tinput = nullptr;
    xt::xarray<Label>* tlabel = nullptr;
    data_source<Label> tdata;
    xt::xarray<float>* vinput = nullptr;
    xt::xarray<Label>* vlabel = nullptr;
    data_source<Label> vdata;
    std::string monitor_path;
    std::string model_save_path;
    std::int64_t max_epoch = 1;
    std::int64_t iter_per_epoch = 0;  // 0: tdata.size() / tdata.batch_size()
    std::int64_t val_iter = 0;        // 0: vdata.size() / vdata.batch_size()
    // kata: passed on to the Trainer (called with the iteration around every update), e.g. for a
    // learning-rate schedule: upstream's naive trainers take no callbacks.
    callbacks<std::int64_t> update_callback_on_start, update_callback_on_finish;
};

}  // namespace kata::train

KATA_ADAPT_ARGS(kata::train::naive_trainer_args<std::int32_t>, tinput, tlabel, tdata, vinput, vlabel, vdata,
                monitor_path, model_save_path, max_epoch, iter_per_epoch, val_iter, update_callback_on_start,
                update_callback_on_finish);
KATA_ADAPT_ARGS(kata::train::naive_trainer_args<float>, tinput, tlabel, tdata, vinput, vlabel, vdata,
                monitor_path, model_save_path, max_epoch, iter_per_epoch, val_iter, update_callback_on_start,
                update_callback_on_finish);

namespace kata::train {

namespace detail {

template <auto Pred>
constexpr void classification_graph(builder& g) {
    const var y = Pred(g);
    const var t = g.input("t", {y.shape()[0], 1}, layout::none, dtype::i32);
    g.output(F::mean(F::softmax_cross_entropy(y, t)));
    g.output(y);
}
template <auto Pred>
constexpr void regression_graph(builder& g) {
    const var y = Pred(g);
    const var t = g.input("t", y.shape());
    g.output(F::mean(F::squared_error(y, t)));
}

// The shape of input k of graph G (inputs in creation order, the executor's order).
template <auto const& G>
constexpr shape_t input_shape(int k) {
    for (std::size_t i = 0; i < G.nodes.size(); ++i)
        if (G.nodes[i].op == op_kind::input && k-- == 0) return G.nodes[i].shape;
    return shape_t{};
}

// The top-1 error of predictions p (B, C) against labels t (B).
inline float top1_error(const float* p, const std::int32_t* t, std::int64_t batch, std::int64_t classes) {
    std::int64_t wrong = 0;
    for (std::int64_t b = 0; b < batch; ++b) {
        std::int64_t best = 0;
        for (std::int64_t c = 1; c < classes; ++c)
            if (p[b * classes + c] > p[b * classes + best]) best = c;
        wrong += best != t[b];
    }
    return float(double(wrong) / double(batch));
}

template <class Label, class TExec, class VExec, bool Classify>
class naive_trainer {
public:
    naive_trainer(const naive_trainer&) = delete;
    naive_trainer& operator=(const naive_trainer&) = delete;
    naive_trainer(train::solver& s, parameter_store& store, naive_trainer_args<Label> a)
        : a_(std::move(a)), texec_(std::make_unique<TExec>(store)), vexec_(std::make_unique<VExec>(store)) {
        if (!a_.tdata) throw std::invalid_argument("kata::train: a naive trainer needs tdata");
        tx_ = a_.tinput ? a_.tinput : &own_tx_;
        tt_ = a_.tlabel ? a_.tlabel : &own_tt_;
        vx_ = a_.vinput ? a_.vinput : &own_vx_;
        vt_ = a_.vlabel ? a_.vlabel : &own_vt_;
        shape_buffers<TExec>(*tx_, *tt_);
        shape_buffers<VExec>(*vx_, *vt_);
        if (!a_.iter_per_epoch) a_.iter_per_epoch = a_.tdata.size() / a_.tdata.batch_size();
        if (!a_.val_iter && a_.vdata) a_.val_iter = a_.vdata.size() / a_.vdata.batch_size();
        if (!a_.monitor_path.empty()) {
            monitor_.emplace(a_.monitor_path);
            mon_tloss_.emplace("Training loss", *monitor_, 10);
            if constexpr (Classify) mon_terr_.emplace("Training error", *monitor_, 10);
            mon_vloss_.emplace("Valid loss", *monitor_, 1);
            if constexpr (Classify) mon_verr_.emplace("Valid error", *monitor_, 1);
            mon_time_.emplace("Training time", *monitor_, 10);
        }
        graph_ref tloss = loss(*texec_, *tx_, *tt_);
        updater_ = std::make_unique<Updater>(
            s, tloss,
            updater_args{.data_feeder = [this] { a_.tdata.next_into(*tx_, *tt_); },
                         .update_callback_on_finish = [this](std::int64_t i) { on_update(i); }});
        if (a_.vdata) {
            graph_ref v = loss(*vexec_, *vx_, *vt_);
            v.roots.resize(1);  // the loss; the error is computed from the prediction:
            if constexpr (Classify) v.roots.push_back([this] { return error_of(*vexec_, *vt_); });
            callbacks<std::int64_t, float> finish{[this](std::int64_t i, float l) {
                valid_loss_ = l;
                if (mon_vloss_) mon_vloss_->add(i, l);
            }};
            if constexpr (Classify)
                finish.push_back([this](std::int64_t i, float e) {
                    valid_error_ = e;
                    if (mon_verr_) mon_verr_->add(i, e);
                });
            evaluator_ = std::make_unique<Evaluator>(
                v, evaluator_args{.data_feeder = [this] { a_.vdata.next_into(*vx_, *vt_); },
                                  .val_iter = a_.val_iter,
                                  .callback_on_finish = finish});
        }
        trainer_ = std::make_unique<Trainer>(
            *updater_, evaluator_ ? one_or_list<Evaluator>(*evaluator_) : one_or_list<Evaluator>(nullptr),
            trainer_args{.model_save_path = a_.model_save_path,
                         .max_epoch = a_.max_epoch,
                         .iter_per_epoch = a_.iter_per_epoch,
                         .update_callback_on_start = a_.update_callback_on_start,
                         .update_callback_on_finish = a_.update_callback_on_finish});
    }

    // Trains (resuming from the newest checkpoint under model_save_path, if any). On a resume the data
    // iterators are first put where an uninterrupted run would have them (when they can seek:
    // kata::data::DataIterator::seek), so the run continues bit for bit.
    void train() {
        if (!a_.model_save_path.empty())
            if (const auto c = newest_checkpoint(a_.model_save_path)) {
                const std::int64_t epochs_done = c->epoch + 1;
                a_.tdata.seek_after(epochs_done * a_.iter_per_epoch);
                if (a_.vdata) a_.vdata.seek_after(epochs_done * a_.val_iter);
            }
        trainer_->train();
    }

    float last_training_loss() const noexcept { return train_loss_; }
    float last_training_error() const noexcept { return train_error_; }
    float last_valid_loss() const noexcept { return valid_loss_; }
    float last_valid_error() const noexcept { return valid_error_; }
    std::int64_t iter_per_epoch() const noexcept { return a_.iter_per_epoch; }
    std::int64_t val_iter() const noexcept { return a_.val_iter; }
    Updater& updater() noexcept { return *updater_; }
    Trainer& trainer() noexcept { return *trainer_; }
    TExec& training_executor() noexcept { return *texec_; }
    VExec& evaluation_executor() noexcept { return *vexec_; }

private:
    template <class Exec>
    static void shape_buffers(xt::xarray<float>& x, xt::xarray<Label>& t) {
        resize(x, input_shape<Exec::graph>(0));
        resize(t, input_shape<Exec::graph>(1));
    }
    template <class T>
    static void resize(xt::xarray<T>& a, const shape_t& s) {
        std::vector<std::size_t> shape;
        for (int d = 0; d < s.rank; ++d) shape.push_back(std::size_t(s.dims[d]));
        if (!std::equal(a.shape().begin(), a.shape().end(), shape.begin(), shape.end()))
            a = xt::zeros<T>(shape);
    }
    template <class Exec>
    static float error_of(Exec& e, const xt::xarray<Label>& t) {
        constexpr auto d = Exec::template output_desc<1>;
        return top1_error(e.template output_data<1>(), t.data(), d.shape.dims[0],
                          d.shape.numel() / d.shape.dims[0]);
    }
    void on_update(std::int64_t i) {
        train_loss_ = texec_->template output_data<0>()[0];
        if (mon_tloss_) mon_tloss_->add(i, train_loss_);
        if constexpr (Classify) {
            train_error_ = error_of(*texec_, *tt_);
            if (mon_terr_) mon_terr_->add(i, train_error_);
        }
        if (mon_time_) mon_time_->add(i);
    }

    naive_trainer_args<Label> a_;
    std::unique_ptr<TExec> texec_;
    std::unique_ptr<VExec> vexec_;
    xt::xarray<float> own_tx_, own_vx_;
    xt::xarray<Label> own_tt_, own_vt_;
    xt::xarray<float>*tx_ = nullptr, *vx_ = nullptr;
    xt::xarray<Label>*tt_ = nullptr, *vt_ = nullptr;
    std::optional<monitor::Monitor> monitor_;
    std::optional<monitor::MonitorSeries> mon_tloss_, mon_terr_, mon_vloss_, mon_verr_;
    std::optional<monitor::MonitorTimeElapsed> mon_time_;
    std::unique_ptr<Updater> updater_;
    std::unique_ptr<Evaluator> evaluator_;
    std::unique_ptr<Trainer> trainer_;
    float train_loss_ = 0, train_error_ = 0, valid_loss_ = 0, valid_error_ = 0;
};

}  // namespace detail

// TPred, VPred: `constexpr var f(kata::builder&)` returning the prediction (B, classes).
template <auto TPred, auto VPred = TPred>
class NaiveClassificationTrainer
    : public detail::naive_trainer<std::int32_t,
                                   cpu_executor<training_graph<network<detail::classification_graph<TPred>>>>,
                                   cpu::executor<network<detail::classification_graph<VPred>>>, true> {
    using base =
        detail::naive_trainer<std::int32_t,
                              cpu_executor<training_graph<network<detail::classification_graph<TPred>>>>,
                              cpu::executor<network<detail::classification_graph<VPred>>>, true>;

public:
    NaiveClassificationTrainer(train::solver& s, parameter_store& store, naive_trainer_args<std::int32_t> a)
        : base(s, store, std::move(a)) {}
    template <keyword_argument... K>
    NaiveClassificationTrainer(train::solver& s, parameter_store& store, const K&... kws)
        : base(s, store, make_args<naive_trainer_args<std::int32_t>>(kws...)) {}
};

// TPred, VPred: `constexpr var f(kata::builder&)` returning the prediction; the label has its shape.
template <auto TPred, auto VPred = TPred>
class NaiveRegressionTrainer
    : public detail::naive_trainer<float,
                                   cpu_executor<training_graph<network<detail::regression_graph<TPred>>>>,
                                   cpu::executor<network<detail::regression_graph<VPred>>>, false> {
    using base =
        detail::naive_trainer<float, cpu_executor<training_graph<network<detail::regression_graph<TPred>>>>,
                              cpu::executor<network<detail::regression_graph<VPred>>>, false>;

public:
    NaiveRegressionTrainer(train::solver& s, parameter_store& store, naive_trainer_args<float> a)
        : base(s, store, std::move(a)) {}
    template <keyword_argument... K>
    NaiveRegressionTrainer(train::solver& s, parameter_store& store, const K&... kws)
        : base(s, store, make_args<naive_trainer_args<float>>(kws...)) {}
};

}  // namespace kata::train
