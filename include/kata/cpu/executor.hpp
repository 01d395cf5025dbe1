// kata/cpu/executor.hpp
//
// Runs a graph type on the CPU.
//
//     kata::parameter_store params;              // names -> xtensor values (kata/io)
//     kata::create_parameters<Net>(params, rng); // or load them from an .npz file
//     kata::cpu::executor<Net> run(params);      // binds parameters by name, plans memory once
//     auto y = run(x);                           // x: a contiguous float xtensor/xarray
//
// What is decided at compile time: the execution order (nnabla's), every kernel's shapes and
// arguments (kernels are instantiated per op_instance), the activation memory plan and the scratch
// size. What happens at run time: one arena allocation in the constructor, then each call binds the
// input pointers and runs the kernels: no heap allocation in steady state (after the first call, which
// may let OpenBLAS and the thread pool set themselves up; tests/ops/executor_allocations.cpp). The
// returned outputs are views into the arena, valid until the next call (copy them to keep them).
//
// Threads: the kernels split their work over kata's pool (kata/cpu/parallel.hpp), GEMMs included;
// OpenBLAS itself runs single-threaded because its threaded driver allocates at every call
// (kata/cpu/gemm.hpp). The constructor sets OpenBLAS's (process-wide) thread count to 1.
//
// Parameters are looked up by name once, at construction; the executor keeps pointers to the store's
// `parameter` objects (stable addresses) and reads their data pointer at every call, so loading new
// values into the same store is picked up. Erasing a parameter from the store while an executor
// uses it is undefined behaviour, as with any reference.
//
// Frozen executors (`executor<Net, parameter_mode::frozen>`, alias `frozen_executor<Net>`) read the
// parameter values once instead, at construction and at every bind() (like torch.jit.freeze): their
// channel-last group-1 convolutions run the direct NHWC kernel (kernels/conv_nhwc.hpp) on weights
// packed at bind time, with bias, a residual Add2 and ReLU fused into the epilogue (fusion.hpp). Other
// ops run the same kernels as in a live executor. Changing a parameter's values without calling
// bind() again is not seen by a frozen executor.
#pragma once

#include "../detail/xtensor_fix.hpp"

#include <array>
#include <cstddef>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>

#include <xtensor/xadapt.hpp>

#ifdef KATA_CPU_PROFILE
#include <chrono>
#endif

#include "../io/parameter_store.hpp"
#include "fusion.hpp"
#include "gemm.hpp"
#include "kernel.hpp"
#include "kernels.hpp"
#include "kernels/conv_nhwc.hpp"
#include "memory_plan.hpp"

namespace kata::cpu {

namespace detail {

template <std::size_t N>
std::string shape_string(const std::array<std::size_t, N>& s) {
    std::string r = "(";
    for (std::size_t i = 0; i < N; ++i) r += (i ? "," : "") + std::to_string(s[i]);
    return r + (N == 1 ? ",)" : ")");
}
inline std::string shape_string(const shape_t& s) {
    std::string r = "(";
    for (int i = 0; i < s.rank; ++i) r += (i ? "," : "") + std::to_string(s.dims[i]);
    return r + (s.rank == 1 ? ",)" : ")");
}
template <class S>
std::string dyn_shape_string(const S& s) {
    std::string r = "(";
    for (std::size_t i = 0; i < s.size(); ++i) r += (i ? "," : "") + std::to_string(s[i]);
    return r + (s.size() == 1 ? ",)" : ")");
}

struct aligned_free {
    void operator()(std::byte* p) const { ::operator delete[](p, std::align_val_t{arena_alignment}); }
};

}  // namespace detail

// Thrown when parameters or inputs do not match the graph type.
class binding_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

template <graph_type Net, parameter_mode Mode = parameter_mode::live>
class executor {
public:
    static constexpr const auto& graph = Net::graph;
    static constexpr std::size_t num_nodes = graph.size();
    static constexpr parameter_mode mode = Mode;
    // Frozen executors: fast NHWC convolutions with packed weights and fused epilogues (fusion.hpp).
    static constexpr auto fusion = detail::make_fusion_plan(graph, Mode == parameter_mode::frozen);
    static constexpr auto plan = detail::make_memory_plan(graph, fusion.absorbed_by);

private:
    template <std::size_t... T>
    static constexpr std::size_t max_workspace(std::index_sequence<T...>) {
        std::size_t m = 0;
        ((m = std::max(m, node_workspace<graph.order[T]>())), ...);
        return m;
    }
    template <int Id>
    static constexpr std::size_t node_workspace() {
        constexpr node n = graph.nodes[Id];
        if constexpr (n.op == op_kind::sink || plan.aliased[Id]) {
            return 0;
        } else if constexpr (fusion.fast[Id]) {
            constexpr op_instance I = instance_of<graph>(Id);
            return std::size_t(nhwc::scratch_floats(nhwc::make_params(I))) * sizeof(float);
        } else {
            constexpr op_instance I = instance_of<graph>(Id);
            return kernel<n.op>::template workspace_bytes<I>();
        }
    }
    static constexpr auto order_seq = std::make_index_sequence<std::size_t(graph.num_order)>{};

    // Input node ids in creation order.
    static constexpr auto input_ids = [] {
        constexpr int count = graph.count_leaves(op_kind::input);
        std::array<int, std::size_t(count)> ids{};
        int c = 0;
        for (std::size_t i = 0; i < num_nodes; ++i)
            if (graph.nodes[i].op == op_kind::input) ids[std::size_t(c++)] = int(i);
        return ids;
    }();

public:
    static constexpr std::size_t workspace_bytes = detail::align_up(max_workspace(order_seq), arena_alignment);
    static constexpr std::size_t arena_bytes = std::size_t(plan.arena_bytes);
    static constexpr std::size_t num_inputs = input_ids.size();
    // Bytes of packed weights a frozen executor keeps (0 for live executors).
    static constexpr std::size_t packed_bytes = std::size_t(fusion.packed_floats) * sizeof(float);

    explicit executor(parameter_store& store) {
        blas::use_single_threaded_blas();
        if constexpr (packed_bytes > 0)
            packed_.reset(static_cast<std::byte*>(::operator new[](packed_bytes, std::align_val_t{arena_alignment})));
        bind(store);
        const std::size_t total = arena_bytes + workspace_bytes + arena_alignment;
        arena_.reset(static_cast<std::byte*>(::operator new[](total, std::align_val_t{arena_alignment})));
        for (std::size_t i = 0; i < num_nodes; ++i) {
            if (plan.offset[i] >= 0) ptr_[i] = reinterpret_cast<float*>(arena_.get() + plan.offset[i]);
        }
        workspace_ = arena_.get() + arena_bytes;
    }
    executor(const executor&) = delete;
    executor& operator=(const executor&) = delete;

    // Re-resolves parameters by name (after replacing the store or its entries). A frozen executor also
    // re-reads (re-packs) the parameter values here: call bind() after changing them.
    void bind(parameter_store& store) {
        for (std::size_t i = 0; i < num_nodes; ++i) {
            const node& n = graph.nodes[i];
            if (n.op != op_kind::parameter || !referenced(int(i))) continue;
            parameter* p = store.find(n.name.view());
            if (!p)
                throw binding_error("kata::cpu::executor: parameter '" + std::string(n.name.view()) +
                                    "' with shape " + detail::shape_string(n.shape) +
                                    " is not in the parameter store");
            check_param_shape(n, *p);
            params_[i] = p;
        }
        if constexpr (fusion.num_fast > 0) pack_all(std::make_index_sequence<fast_ids.size()>{});
    }

    // Runs the graph. Inputs in the order the network created them; each a contiguous row-major
    // container (xt::xarray / xt::xtensor / anything with data() and shape()) of the declared shape.
    // Returns a view of output 0 (see output<K>() for the others).
    template <class... X>
    decltype(auto) operator()(const X&... xs) {
        static_assert(sizeof...(X) == num_inputs, "kata::cpu::executor: wrong number of inputs for this graph");
        bind_inputs(std::index_sequence_for<X...>{}, xs...);
        run(order_seq);
        return output<0>();
    }
    template <class... X>
    decltype(auto) forward(const X&... xs) {
        return (*this)(xs...);
    }

    // View of output K of the last call (valid until the next call).
    template <std::size_t K>
    auto output() {
        static_assert(K < graph.num_outputs(), "kata::cpu::executor: output index out of range");
        constexpr int id = graph.outputs[K];
        constexpr shape_t s = graph.nodes[id].shape;
        return adapt_output<s>(node_ptr<id>(), std::make_index_sequence<std::size_t(s.rank)>{});
    }

private:
    template <shape_t S, std::size_t... D>
    static auto adapt_output(float* p, std::index_sequence<D...>) {
        std::array<std::size_t, sizeof...(D)> shape{std::size_t(S.dims[D])...};
        return xt::adapt(p, std::size_t(S.numel()), xt::no_ownership(), shape);
    }

    static constexpr bool referenced(int id) {
        for (int t = 0; t < graph.num_order; ++t) {
            int f = graph.order[t];
            for (int k = 0; k < graph.nodes[f].num_inputs; ++k)
                if (graph.input_of(f, k) == id) return true;
        }
        return false;
    }

    static void check_param_shape(const node& n, const parameter& p) {
        const auto& s = p.data.shape();
        bool ok = int(s.size()) == n.shape.rank;
        for (int d = 0; ok && d < n.shape.rank; ++d) ok = std::int64_t(s[std::size_t(d)]) == n.shape.dims[d];
        if (!ok)
            throw binding_error("kata::cpu::executor: parameter '" + std::string(n.name.view()) + "' has shape " +
                                detail::dyn_shape_string(s) + " but the graph expects " +
                                detail::shape_string(n.shape));
    }

    template <std::size_t... K, class... X>
    void bind_inputs(std::index_sequence<K...>, const X&... xs) {
        (bind_input<input_ids[K]>(xs), ...);
    }
    template <int Id, class X>
    void bind_input(const X& x) {
        constexpr node n = graph.nodes[Id];
        const auto& s = x.shape();
        bool ok = int(s.size()) == n.shape.rank;
        for (int d = 0; ok && d < n.shape.rank; ++d) ok = std::int64_t(s[std::size_t(d)]) == n.shape.dims[d];
        if (!ok)
            throw binding_error("kata::cpu::executor: input '" + std::string(n.name.view()) + "' has shape " +
                                detail::dyn_shape_string(s) + " but the graph expects " +
                                detail::shape_string(n.shape));
        using value_type = std::remove_cv_t<std::remove_reference_t<decltype(*x.data())>>;
        if constexpr (n.type == dtype::f32) {
            static_assert(std::is_same_v<value_type, float>, "kata: this graph input is float32");
        } else if constexpr (n.type == dtype::i32) {
            static_assert(std::is_same_v<value_type, std::int32_t>, "kata: this graph input is int32");
        }
        // Kernels never write graph inputs; the cast only unifies the pointer table.
        ptr_[std::size_t(Id)] = reinterpret_cast<float*>(const_cast<value_type*>(x.data()));
    }

    template <int Id>
    float* node_ptr() {
        constexpr int r = plan.root[Id];
        if constexpr (graph.nodes[r].op == op_kind::parameter) {
            return params_[std::size_t(r)]->data.data();
        } else {
            return ptr_[std::size_t(r)];
        }
    }

    template <std::size_t... T>
    void run(std::index_sequence<T...>) {
        (run_node<graph.order[T]>(), ...);
    }

    // Ids of the fast convolutions (frozen executors).
    static constexpr auto fast_ids = [] {
        std::array<int, std::size_t(fusion.num_fast)> ids{};
        int c = 0;
        for (std::size_t i = 0; i < num_nodes; ++i)
            if (fusion.fast[i]) ids[std::size_t(c++)] = int(i);
        return ids;
    }();

    template <std::size_t... K>
    void pack_all(std::index_sequence<K...>) {
        (pack_one<fast_ids[K]>(), ...);
    }
    template <int Id>
    void pack_one() {
        constexpr op_instance I = instance_of<graph>(Id);
        constexpr nhwc::params P = nhwc::make_params(I);
        const float* w = params_[std::size_t(graph.input_of(Id, 1))]->data.data();
        const float* b = nullptr;
        if constexpr (P.has_bias) b = params_[std::size_t(graph.input_of(Id, 2))]->data.data();
        nhwc::pack(P, w, b, packed_floats() + fusion.packed_offset[Id]);
    }
    float* packed_floats() { return reinterpret_cast<float*>(packed_.get()); }

    template <int Id>
    void run_node() {
        constexpr node n = graph.nodes[Id];
        if constexpr (n.op == op_kind::sink || plan.aliased[Id]) {
            return;
        } else if constexpr (fusion.fast[Id]) {
            constexpr op_instance I = instance_of<graph>(Id);
            constexpr nhwc::params P = nhwc::make_params(I);
            const float* res = nullptr;
            if constexpr (fusion.residual[Id] >= 0) res = node_ptr<fusion.residual[Id]>();
#ifdef KATA_CPU_PROFILE
            const auto t0 = std::chrono::steady_clock::now();
#endif
            nhwc::forward(P, node_ptr<graph.input_of(Id, 0)>(), packed_floats() + fusion.packed_offset[Id], res,
                          fusion.relu[Id], node_ptr<Id>(), reinterpret_cast<float*>(workspace_));
#ifdef KATA_CPU_PROFILE
            profile_ns_[std::size_t(Id)] +=
                double(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
#endif
        } else {
            constexpr op_instance I = instance_of<graph>(Id);
            constexpr int nin = n.num_inputs;
            float* ins[nin > 0 ? nin : 1];
            gather_inputs<Id>(ins, std::make_index_sequence<std::size_t(nin)>{});
#ifdef KATA_CPU_PROFILE
            const auto t0 = std::chrono::steady_clock::now();
#endif
            kernel<n.op>::template run<I>(kernel_io{ins, node_ptr<Id>(), workspace_});
#ifdef KATA_CPU_PROFILE
            profile_ns_[std::size_t(Id)] +=
                double(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
#endif
        }
    }

public:
#ifdef KATA_CPU_PROFILE
    // Accumulated nanoseconds per node (benchmarks only: compiled in with -DKATA_CPU_PROFILE).
    std::array<double, num_nodes> profile_ns_{};
#endif

private:
    template <int Id, std::size_t... K>
    void gather_inputs(float** ins, std::index_sequence<K...>) {
        ((ins[K] = node_ptr<graph.input_of(Id, int(K))>()), ...);
    }

    std::array<float*, num_nodes> ptr_{};
    std::array<parameter*, num_nodes> params_{};
    std::unique_ptr<std::byte[], detail::aligned_free> arena_;
    std::unique_ptr<std::byte[], detail::aligned_free> packed_;
    std::byte* workspace_ = nullptr;
};

// An executor whose parameters are read once (at construction and at every bind()), like a frozen
// inference module: channel-last convolutions run the direct NHWC kernel on weights packed at bind time,
// with bias, residual Add2 and ReLU fused into their epilogue (kata/cpu/fusion.hpp).
template <graph_type Net>
using frozen_executor = executor<Net, parameter_mode::frozen>;

}  // namespace kata::cpu
