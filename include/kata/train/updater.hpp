// kata/train/updater.hpp
//
// nnabla's experimental Updater (docs/training.md, "Trainers"): one call of update(i) is one training
// iteration -- zero_grad, then accum_grad times (data_feeder, forward, backward), the gradient exchange
// when a communicator is given, and the solver's update -- with the seed's callbacks around each phase.
//
//     using namespace kata::train::kw;
//     xt::xarray<float> x(...); xt::xarray<std::int32_t> t(...);     // nnabla's tinput, tlabel
//     kata::train::cpu_executor<Train> step(store);                  // forward + backward, compiled
//     auto loss = kata::train::loss(step, x, t);                     // nnabla's tloss variable
//     kata::train::Updater updater(solver, loss, data_feeder = [&] { std::tie(x, t) = ...; },
//                                  update_callback_on_finish = [&](std::int64_t i) { ... });
//     updater.update(i);
//
// Binding of nnabla's `loss` variable: in kata the loss is output 0 of a compiled training step
// (kata/train/backward.hpp), which runs on the inputs it is given. kata::train::loss(executor,
// inputs...) binds the executor to the caller's input buffers (the arrays a data feeder fills, like
// nnabla's `tinput.d = ...`) and becomes a graph_ref: what forward runs and the values of its roots
// (the executor's forward outputs, output 0 being the loss). Keyword arguments are order-free
// (kata/ops/keywords.hpp), the argument struct `updater_args` also takes designated initialisers.
//
// Why the order and arguments differ from upstream where they do (docs/training.md lists them):
//   * upstream runs the forward-finish callbacks before and after forward and never the forward-start
//     ones (spec section 10 item 13): kata calls each list once, in the documented order;
//   * kata compiles forward and backward into ONE step, so forward_callback_on_finish and
//     backward_callback_on_start run after that step (they see the forward outputs and this step's
//     gradients), in the order start(fwd), step, finish(fwd), start(bwd), finish(bwd);
//   * upstream's comm path raises NameError: kata exchanges `grads` (every registered gradient when
//     empty) with comm.all_reduce(grads, division=true, inplace=true) -- the mean, so N processes with
//     batch B/N update like one process with batch B;
//   * clear_buffer is accepted and has no effect: the compile-time memory plan already reuses buffers.
// A step allocates nothing once warm (std::function calls, no containers built per call).
#pragma once

#include "../detail/xtensor_fix.hpp"

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <numeric>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "../io/parameter_store_core.hpp"
#include "../ops/keywords.hpp"
#include "backward.hpp"
#include "solver.hpp"

namespace kata::train {

// ----- callbacks -----------------------------------------------------------------------------------

// nnabla's "callable object, function, lambda, or list of these": a list of std::function<void(A...)>
// built from one invocable, a vector or a braced list. An invocable that takes fewer arguments (none,
// or only the iteration index) is accepted too and called without the rest.
template <class... A>
class callbacks {
public:
    using function = std::function<void(A...)>;
    callbacks() = default;
    callbacks(std::vector<function> fs) : list_(std::move(fs)) {}  // NOLINT: implicit on purpose
    callbacks(std::initializer_list<function> fs) : list_(fs) {}
    template <class F>
    requires(!std::same_as<std::remove_cvref_t<F>, callbacks> &&
             !std::same_as<std::remove_cvref_t<F>, std::vector<function>>)
        callbacks(F&& f) {  // NOLINT: implicit on purpose (one callable is a list of one)
        list_.push_back(wrap(std::forward<F>(f)));
    }
    void operator()(A... a) const {
        for (const function& f : list_) f(a...);
    }
    std::size_t size() const noexcept { return list_.size(); }
    bool empty() const noexcept { return list_.empty(); }
    const function& operator[](std::size_t k) const { return list_[k]; }
    void push_back(function f) { list_.push_back(std::move(f)); }

private:
    template <class F>
    static function wrap(F&& f) {
        using D = std::decay_t<F>;
        if constexpr (std::is_invocable_v<D&, A...>)
            return function(std::forward<F>(f));
        else if constexpr (sizeof...(A) == 2 && std::is_invocable_v<D&, std::int64_t>)
            return [g = D(std::forward<F>(f))](A... a) mutable { g(std::get<0>(std::tuple<A...>(a...))); };
        else {
            static_assert(std::is_invocable_v<D&>,
                          "kata::train::callbacks: a callback must be invocable with "
                          "the iteration index (and value), or with nothing");
            return [g = D(std::forward<F>(f))](A...) mutable { g(); };
        }
    }
    std::vector<function> list_;
};

// ----- communicators -------------------------------------------------------------------------------

// The gradient buffers a communicator exchanges (nnabla's `grads`, a list of NdArrays).
using gradient_list = std::vector<std::span<float>>;

// What the Updater needs of a communicator (the MPI one of kata/distributed, or a fake in tests):
// all_reduce over a list of float buffers (division: mean instead of sum; inplace: reduce into the
// given buffers), its size and rank.
template <class C>
concept communicator = requires(C& c, std::span<std::span<float>> grads) {
    c.all_reduce(grads, true, true);
    { c.size() } -> std::convertible_to<int>;
    { c.rank() } -> std::convertible_to<int>;
};

// A non-owning, type-erased communicator (empty = no communicator, nnabla's comm=None). Built from a
// pointer or reference to any `communicator`: the communicator must outlive its users.
class communicator_ref {
public:
    communicator_ref() = default;
    communicator_ref(std::nullptr_t) {}  // NOLINT: comm = nullptr reads like comm=None
    template <communicator C>
    communicator_ref(C* c)  // NOLINT: implicit on purpose (comm = &mpi)
        : self_(c), all_reduce_([](void* s, std::span<std::span<float>> g, bool division, bool inplace) {
              static_cast<C*>(s)->all_reduce(g, division, inplace);
          }),
          size_([](void* s) { return int(static_cast<C*>(s)->size()); }),
          rank_([](void* s) { return int(static_cast<C*>(s)->rank()); }) {}
    template <communicator C>
    communicator_ref(std::reference_wrapper<C> c) : communicator_ref(&c.get()) {}  // NOLINT

    explicit operator bool() const noexcept { return self_ != nullptr; }
    void all_reduce(std::span<std::span<float>> grads, bool division, bool inplace) const {
        all_reduce_(self_, grads, division, inplace);
    }
    int size() const { return self_ ? size_(self_) : 1; }
    int rank() const { return self_ ? rank_(self_) : 0; }

private:
    void* self_ = nullptr;
    void (*all_reduce_)(void*, std::span<std::span<float>>, bool, bool) = nullptr;
    int (*size_)(void*) = nullptr;
    int (*rank_)(void*) = nullptr;
};

// The gradient buffers of every parameter registered in `s` (registration order).
inline gradient_list gradients_of(const solver& s) {
    gradient_list out;
    for (const auto& [name, p] : s.get_parameters()) out.emplace_back(p->grad().data(), p->grad().size());
    return out;
}

// ----- the loss variable ---------------------------------------------------------------------------

// A compiled graph bound to its input buffers, seen the way nnabla's trainers see a variable: forward()
// runs it (for a training executor: forward AND backward), and roots[k]() reads value k (the mean of
// forward output k; for a scalar output, its value). `store` is the parameter store of a training
// executor (null for an inference executor); `seed` tells whether its loss gradient is run-time scaled.
struct graph_ref {
    std::function<void()> forward;
    std::vector<std::function<float()>> roots;
    parameter_store* store = nullptr;
    loss_seed seed = loss_seed::one;
};

namespace detail {
template <class Exec, std::size_t K>
float output_mean(Exec& e) {
    constexpr auto desc = Exec::template output_desc<K>;
    const auto* p = e.template output_data<K>();
    const std::int64_t n = desc.shape.numel();
    double sum = 0;
    for (std::int64_t j = 0; j < n; ++j) sum += double(p[j]);
    return n == 1 ? float(p[0]) : float(sum / double(n));
}
template <class Exec>
constexpr std::size_t forward_outputs() {
    if constexpr (requires { Exec::num_forward_outputs; })
        return Exec::num_forward_outputs;  // a training executor: the gradient accumulators follow
    else
        return std::size_t(Exec::graph.num_outputs());
}
}  // namespace detail

// Binds `exec` (a kata::train::cpu_executor, or any executor for evaluation) to the caller's input
// buffers, in the order the network created its inputs. The executor and the buffers must outlive the
// returned graph_ref; the buffers are read at every forward(), so a data feeder refills them in place.
template <class Exec, class... In>
graph_ref loss(Exec& exec, In&... inputs) {
    graph_ref r;
    r.forward = [e = &exec, in = std::tuple<In*...>(&inputs...)] {
        std::apply([e](auto*... p) { e->execute(*p...); }, in);
    };
    constexpr std::size_t n = detail::forward_outputs<Exec>();
    [&]<std::size_t... K>(std::index_sequence<K...>) {
        (r.roots.push_back([e = &exec] { return detail::output_mean<Exec, K>(*e); }), ...);
    }
    (std::make_index_sequence<n>{});
    if constexpr (requires { exec.store(); }) {
        r.store = &exec.store();
        r.seed = Exec::seed_kind;
    }
    return r;
}

// ----- keyword arguments ---------------------------------------------------------------------------

// nnabla's Updater arguments after (solver, loss), with nnabla's defaults.
struct updater_args {
    std::function<void()> data_feeder = [] {};
    callbacks<std::int64_t> forward_callback_on_start, forward_callback_on_finish;
    callbacks<std::int64_t> backward_callback_on_start, backward_callback_on_finish;
    callbacks<std::int64_t> comm_callback_on_start, comm_callback_on_finish;
    callbacks<std::int64_t> update_callback_on_start, update_callback_on_finish;
    bool clear_buffer = true;
    int accum_grad = 1;
    communicator_ref comm;
    gradient_list grads;
};

// nnabla's DynamicLossScalingUpdater arguments after (solver, loss); the callbacks are a kata
// extension (the same as the Updater's).
struct loss_scaling_args {
    std::function<void()> data_feeder = [] {};
    double scale = 8.0;
    double scaling_factor = 2.0;
    std::int64_t N = 2000;
    bool clear_buffer = true;
    int accum_grad = 1;
    std::optional<float> weight_decay;
    communicator_ref comm;
    gradient_list grads;
    callbacks<std::int64_t> forward_callback_on_start, forward_callback_on_finish;
    callbacks<std::int64_t> backward_callback_on_start, backward_callback_on_finish;
    callbacks<std::int64_t> comm_callback_on_start, comm_callback_on_finish;
    callbacks<std::int64_t> update_callback_on_start, update_callback_on_finish;
};

}  // namespace kata::train

KATA_ADAPT_ARGS(kata::train::updater_args, data_feeder, forward_callback_on_start, forward_callback_on_finish,
                backward_callback_on_start, backward_callback_on_finish, comm_callback_on_start,
                comm_callback_on_finish, update_callback_on_start, update_callback_on_finish, clear_buffer,
                accum_grad, comm, grads);
KATA_ADAPT_ARGS(kata::train::loss_scaling_args, data_feeder, scale, scaling_factor, N, clear_buffer,
                accum_grad, weight_decay, comm, grads, forward_callback_on_start, forward_callback_on_finish,
                backward_callback_on_start, backward_callback_on_finish, comm_callback_on_start,
                comm_callback_on_finish, update_callback_on_start, update_callback_on_finish);

namespace kata::train {

// The keywords of the trainer classes (`using namespace kata::train::kw;`), beside kata::kw's.
namespace kw {
#define KATA_TRAIN_KEYWORD(id) inline constexpr keyword<#id> id{};
KATA_TRAIN_KEYWORD(data_feeder)
KATA_TRAIN_KEYWORD(forward_callback_on_start)
KATA_TRAIN_KEYWORD(forward_callback_on_finish)
KATA_TRAIN_KEYWORD(backward_callback_on_start)
KATA_TRAIN_KEYWORD(backward_callback_on_finish)
KATA_TRAIN_KEYWORD(comm_callback_on_start)
KATA_TRAIN_KEYWORD(comm_callback_on_finish)
KATA_TRAIN_KEYWORD(update_callback_on_start)
KATA_TRAIN_KEYWORD(update_callback_on_finish)
KATA_TRAIN_KEYWORD(clear_buffer)
KATA_TRAIN_KEYWORD(accum_grad)
KATA_TRAIN_KEYWORD(comm)
KATA_TRAIN_KEYWORD(grads)
KATA_TRAIN_KEYWORD(scale)
KATA_TRAIN_KEYWORD(scaling_factor)
KATA_TRAIN_KEYWORD(N)
KATA_TRAIN_KEYWORD(weight_decay)
KATA_TRAIN_KEYWORD(val_iter)
KATA_TRAIN_KEYWORD(callback_on_start)
KATA_TRAIN_KEYWORD(callback_on_finish)
KATA_TRAIN_KEYWORD(model_save_path)
KATA_TRAIN_KEYWORD(max_epoch)
KATA_TRAIN_KEYWORD(iter_per_epoch)
KATA_TRAIN_KEYWORD(monitor_path)
KATA_TRAIN_KEYWORD(tinput)
KATA_TRAIN_KEYWORD(tlabel)
KATA_TRAIN_KEYWORD(tdata)
KATA_TRAIN_KEYWORD(vinput)
KATA_TRAIN_KEYWORD(vlabel)
KATA_TRAIN_KEYWORD(vdata)
#undef KATA_TRAIN_KEYWORD
}  // namespace kw

// ----- updaters ------------------------------------------------------------------------------------

// What a Trainer drives and checkpoints: update(i), the solver and parameter store it trains, and the
// updater's own state (the loss scale of DynamicLossScalingUpdater; nothing for Updater).
class updater_base {
public:
    virtual ~updater_base() = default;
    virtual void update(std::int64_t i) = 0;
    virtual train::solver& solver() const = 0;
    virtual parameter_store* store() const = 0;
    virtual std::vector<double> state() const { return {}; }
    virtual void set_state(std::span<const double>) {}
};

namespace detail {
inline void check_updater(const graph_ref& loss, int accum_grad, const char* who) {
    if (!loss.forward)
        throw std::invalid_argument(std::string(who) + ": the loss is not bound to an executor");
    if (!loss.store)
        throw std::invalid_argument(std::string(who) +
                                    ": the loss must be a training executor (kata::train::cpu_executor)");
    if (accum_grad < 1)
        throw std::invalid_argument(std::string(who) + ": accum_grad must be >= 1, got " +
                                    std::to_string(accum_grad));
}
// The forward/backward phase of one iteration, shared by both updaters.
template <class Args>
void accumulate(const graph_ref& loss, const Args& a, std::int64_t i) {
    for (int k = 0; k < a.accum_grad; ++k) {
        a.data_feeder();
        a.forward_callback_on_start(i);
        loss.forward();  // forward and backward: one compiled step
        a.forward_callback_on_finish(i);
        a.backward_callback_on_start(i);
        a.backward_callback_on_finish(i);
    }
}
template <class Args>
void exchange(Args& a, std::int64_t i) {
    if (!a.comm) return;
    a.comm_callback_on_start(i);
    a.comm.all_reduce(std::span<std::span<float>>(a.grads), true, true);
    a.comm_callback_on_finish(i);
}
}  // namespace detail

class Updater : public updater_base {
public:
    Updater(train::solver& s, graph_ref loss, updater_args args)
        : solver_(&s), loss_(std::move(loss)), a_(std::move(args)) {
        detail::check_updater(loss_, a_.accum_grad, "kata::train::Updater");
        if (a_.comm && a_.grads.empty()) a_.grads = gradients_of(s);
    }
    template <keyword_argument... K>
    Updater(train::solver& s, graph_ref loss, const K&... kws)
        : Updater(s, std::move(loss), make_args<updater_args>(kws...)) {}

    // One iteration (docs/training.md): zero_grad; accum_grad x (data_feeder, forward, backward);
    // all_reduce (mean) when comm is set; update.
    void update(std::int64_t i) override {
        solver_->zero_grad();
        detail::accumulate(loss_, a_, i);
        detail::exchange(a_, i);
        a_.update_callback_on_start(i);
        solver_->update();
        a_.update_callback_on_finish(i);
    }
    train::solver& solver() const override { return *solver_; }
    parameter_store* store() const override { return loss_.store; }
    const graph_ref& loss() const noexcept { return loss_; }

private:
    train::solver* solver_;
    graph_ref loss_;
    updater_args a_;
};

}  // namespace kata::train
