// kata/train/backward.hpp
//
// The training graph as a type (docs/training.md):
//
//     constexpr var lenet_loss(builder& g) { ...; return F::mean(F::softmax_cross_entropy(y, t)); }
//     using Net   = kata::network<lenet_loss>;            // output 0: the loss
//     using Train = kata::train::training_graph<Net>;     // forward + backward, derived at compile time
//     kata::train::cpu_executor<Train> step(store);       // one plan for the whole step
//     step.execute(x, t);                                 // loss in output 0; gradients added to grad()
//     solver.update(); solver.zero_grad();                // kata/train/solvers.hpp
//
// The derivation is one constexpr function over the lifted forward graph (no Hana): it copies the forward
// nodes, marks which variables depend on a need_grad parameter, seeds the loss's gradient with a Constant
// of ones (nnabla's loss.backward() default), then walks the functions in reverse visit order and lets each
// op's descriptor rule (kata/ops/backward.hpp) emit the gradient nodes of the inputs that need one;
// gradients of a variable read several times are summed with Add2. For every need_grad parameter P an
// AccumulateGrad node adds dP into a leaf "P@grad", which the parameter source resolves to P's gradient
// buffer: gradients accumulate across steps until zero_grad, as in nnabla. Those nodes are the graph's
// outputs after the forward outputs. Inputs and need_grad=false parameters get no gradient node (no work).
// A kind without a backward rule is a compile error naming it (kata::invalid_graph<"...">).
//
// The result is an ordinary graph type: the one executor (kata/exec/executor.hpp) runs it with its
// compile-time memory plan (forward activations stay alive exactly until the last gradient node reading
// them; nothing is allocated per step), and SimpleGraph draws it.
#pragma once

#include "../detail/xtensor_fix.hpp"

#include <array>
#include <cstddef>
#include <span>
#include <string_view>
#include <type_traits>
#include <vector>

#include "../core/graph.hpp"
#include "../cpu/executor.hpp"
#include "../exec/binding.hpp"
#include "../exec/half_precision.hpp"
#include "../io/parameter_store_core.hpp"
#include "../ops/descriptors.hpp"

namespace kata::train {

// The suffix of the leaf that stands for a parameter's gradient buffer in a training graph.
inline constexpr std::string_view grad_suffix = "@grad";

constexpr bool is_gradient_key(std::string_view key) {
    return key.size() > grad_suffix.size() && key.substr(key.size() - grad_suffix.size()) == grad_suffix;
}

// How the loss's gradient is seeded: `one` is nnabla's loss.backward() (a Constant of ones, compiled in);
// `scale` is loss.backward(grad=scale) with the scale read at run time from a parameter leaf named
// loss_scale_key (need_grad=false) of the loss's shape, so a loss-scaling updater
// (kata/train/loss_scaling.hpp) changes it between steps without recompiling or allocating.
enum class loss_seed { one, scale };
inline constexpr std::string_view loss_scale_key = "@loss_scale";

// The number format of a training step's activations and gradients (docs/training.md, "Mixed
// precision"). `float32`: everything float32. `half`: nnabla's mixed precision -- every forward
// activation and every backward gradient is a binary16 value (rounded after each kernel), parameters are
// read as binary16 copies, and the parameters themselves (master weights), the gradient accumulators
// "P@grad" and the solver state stay float32 (kata/exec/half_precision.hpp). The graph is the same;
// only the executor's backend changes, so the loss scale stays a run-time value.
enum class precision { float32, half };

namespace detail {

// Appends the backward of `src` (a lifted graph whose output 0 is the loss) to a copy of it in `b`.
template <class G>
constexpr void derive_training_graph(const G& src, builder& b, loss_seed seed = loss_seed::one) {
    const std::size_t n = src.nodes.size();
    for (std::size_t i = 0; i < n; ++i) b.nodes.push_back(src.nodes[i]);
    for (std::size_t i = 0; i < src.edges.size(); ++i) b.edges.push_back(src.edges[i]);
    for (std::size_t i = 0; i < src.outputs.size(); ++i) b.outputs.push_back(src.outputs[i]);
    b.parameter_index_stale();

    std::vector<char> need(n, 0);
    for (std::size_t i = 0; i < n; ++i)
        need[i] = src.nodes[i].op == op_kind::parameter && src.nodes[i].need_grad &&
                  !is_gradient_key(src.nodes[i].name.view());
    for (int t = 0; t < src.num_order; ++t) {
        const int f = src.order[t];
        const node& fn = src.nodes[std::size_t(f)];
        for (int k = 0; k < fn.num_inputs; ++k)
            if (need[std::size_t(src.input_of(f, k))]) need[std::size_t(f)] = 1;
    }
    const int loss = src.outputs[0];
    if (!need[std::size_t(loss)]) {
        b.fail(message_string("kata::train::training_graph: the loss (output 0) depends on no parameter "
                              "with need_grad=true"));
        return;
    }
    std::vector<var> grad(n, var{});
    const shape_t loss_shape = src.nodes[std::size_t(loss)].shape;
    grad[std::size_t(loss)] =
        seed == loss_seed::one ? grad::constant(b, loss_shape, 1.0)
                               : b.parameter_at(name_string(loss_scale_key), loss_shape, init_spec{}, false);

    for (int t = src.num_order - 1; t >= 0; --t) {
        const int f = src.order[t];
        const node fn = src.nodes[std::size_t(f)];
        if (!need[std::size_t(f)] || grad[std::size_t(f)].id < 0) continue;
        const op_descriptor& d = descriptor_of(fn.op);
        if (!d.backward) {
            message_string m("kata::train::training_graph: ");
            m.append(type_name(fn.op));
            if (!fn.name.empty()) m.append(" in scope '").append(fn.name.view()).append("'");
            m.append(" has no backward rule yet");
            b.fail(m);
            return;
        }
        var ins[16]{};
        bool needs[16]{};
        var dx[16]{};
        const int nin = fn.num_inputs < 16 ? fn.num_inputs : 16;
        for (int k = 0; k < nin; ++k) {
            const int in = src.input_of(f, k);
            ins[k] = var{&b, in};
            needs[k] = need[std::size_t(in)] != 0;
        }
        {
            auto scope = b.scope(fn.name.view());
            d.backward(b, fn.attr, std::span<const var>(ins, std::size_t(nin)), var{&b, f},
                       grad[std::size_t(f)], std::span<const bool>(needs, std::size_t(nin)),
                       std::span<var>(dx, std::size_t(nin)));
        }
        if (b.failed) return;
        for (int k = 0; k < nin; ++k) {
            if (!needs[k] || dx[k].id < 0) continue;
            var& acc = grad[std::size_t(ins[k].id)];
            acc = acc.id < 0 ? dx[k] : F::add2(acc, dx[k]);
        }
    }
    for (std::size_t i = 0; i < n; ++i) {
        const node& p = src.nodes[i];
        if (p.op != op_kind::parameter || !need[i] || grad[i].id < 0) continue;
        name_string key = p.name;
        key.append(grad_suffix);
        const var leaf = b.parameter_at(key, p.shape, init_spec{}, false);
        b.output(
            b.function(op_kind::accumulate_grad, {grad[i], leaf}, attributes{}, shape_t{}, layout::none));
    }
}

template <auto const& G, loss_seed Seed>
struct derived {
    static constexpr kata::detail::graph_sizes sizes = [] {
        builder b(2 * G.nodes.size() + 64, 2 * G.edges.size() + 128);
        derive_training_graph(G, b, Seed);
        return kata::detail::graph_sizes{b.nodes.size(), b.edges.size(), b.outputs.size(), b.error, b.failed};
    }();
    static_assert(invalid_graph<sizes.error>::ok);
    static constexpr auto value = [] {
        builder b(sizes.nodes, sizes.edges);
        derive_training_graph(G, b, Seed);
        return kata::detail::freeze<sizes.nodes, (sizes.edges ? sizes.edges : 1), sizes.outputs>(b);
    }();
};

}  // namespace detail

// The forward + backward graph of Net (output 0: a loss; other forward outputs are kept, in order,
// before the gradient accumulators). Seed: see loss_seed; Precision: see precision.
template <graph_type Net, loss_seed Seed = loss_seed::one, precision Precision = precision::float32>
struct training_graph {
    static constexpr auto graph = detail::derived<Net::graph, Seed>::value;
    static constexpr loss_seed seed = Seed;
    static constexpr train::precision precision = Precision;
    static constexpr std::size_t num_forward_outputs = Net::graph.outputs.size();
    static constexpr std::size_t num_gradients = graph.outputs.size() - num_forward_outputs;
};

// A parameter_store as the source of a training executor: "P" is P's values, "P@grad" its gradient
// buffer (allocated as zeros at bind time when missing, never per step).
class training_parameters {
public:
    struct handle {
        parameter* p = nullptr;
        bool grad = false;
        explicit operator bool() const noexcept { return p != nullptr; }
    };
    static constexpr std::string_view description = "the parameter store";

    training_parameters(parameter_store& store) noexcept : store_(&store) {}  // NOLINT: implicit on purpose

    handle find(std::string_view name) const {
        if (is_gradient_key(name)) {
            parameter* p = store_->find(name.substr(0, name.size() - grad_suffix.size()));
            if (p) (void)p->grad();
            return {p, true};
        }
        return {store_->find(name), false};
    }
    static exec::parameter_view view(const handle& h) {
        xt::xarray<float>& a = h.grad ? h.p->grad() : h.p->data;
        exec::parameter_view v{a.data(), dtype::f32, shape_t{}, int(a.dimension())};
        for (std::size_t d = 0; d < a.shape().size() && d < std::size_t(max_rank); ++d)
            v.shape.push_back(std::int64_t(a.shape()[d]));
        return v;
    }
    static void* data(const handle& h) noexcept { return h.grad ? h.p->grad().data() : h.p->data.data(); }

private:
    parameter_store* store_;
};

// The CPU executor of a training graph: execute(inputs...) runs forward and backward and adds every
// parameter gradient into the store's grad() buffers. It remembers its store (the updaters of
// kata/train/updater.hpp reach the parameters through it); with loss_seed::scale it creates the store's
// loss-scale entry (loss_scale_key, need_grad=false, value 1) before binding when it is missing.
// A training_graph with precision::half runs on the CPU kernels through exec::half_precision_backend.
namespace detail {
template <graph_type Train>
constexpr precision precision_of() {
    if constexpr (requires { Train::precision; })
        return Train::precision;
    else
        return precision::float32;
}
template <graph_type Train>
using training_backend =
    std::conditional_t<precision_of<Train>() == precision::half,
                       exec::half_precision_backend<cpu::backend, Train::graph>, cpu::backend>;
}  // namespace detail

template <graph_type Train>
class cpu_executor
    : public exec::executor<Train, detail::training_backend<Train>, exec::heap_arena, training_parameters> {
    using base =
        exec::executor<Train, detail::training_backend<Train>, exec::heap_arena, training_parameters>;

public:
    static constexpr precision precision_kind = detail::precision_of<Train>();
    static constexpr std::size_t num_forward_outputs = Train::num_forward_outputs;
    static constexpr loss_seed seed_kind = [] {
        if constexpr (requires { Train::seed; })
            return Train::seed;
        else
            return loss_seed::one;
    }();

    explicit cpu_executor(parameter_store& store) : base(prepare(store)), store_(&store) {}
    void bind(parameter_store& store) {
        base::bind(prepare(store));
        store_ = &store;
    }
    parameter_store& store() const noexcept { return *store_; }

private:
    static training_parameters prepare(parameter_store& store) {
        if constexpr (requires { Train::seed; }) {
            if constexpr (Train::seed == loss_seed::scale) {
                const shape_t s = Train::graph.nodes[std::size_t(Train::graph.outputs[0])].shape;
                std::vector<std::size_t> shape;
                for (int d = 0; d < s.rank; ++d) shape.push_back(std::size_t(s.dims[d]));
                if (!store.find(loss_scale_key))
                    store.get_or_create(loss_scale_key, shape, initializer::constant(1.0f), false);
            }
        }
        return training_parameters(store);
    }
    parameter_store* store_;
};

}  // namespace kata::train
