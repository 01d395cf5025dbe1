// kata/exec/executor.hpp
//
// The one executor of kata: runs a graph type on any backend, from any storage, with parameters from
// any parameter source.
//
//     kata::exec::executor<Net, Backend, Storage, Source, Mode>
//         Net      a graph type (kata::network<f>, kata::convert<...>)
//         Backend  kernels per op kind (kata/exec/kernel_io.hpp): kata::cpu::backend, ...
//         Storage  exec::heap_arena or exec::static_arena (kata/exec/storage.hpp)
//         Source   a parameter source (kata/exec/binding.hpp): kata::store_parameters (a
//                  kata::parameter_store), exec::constant_parameters<table> (values compiled in)
//         Mode     parameter_mode::live: every kernel reads the source's values at every call;
//                  parameter_mode::frozen: kernels that prepare their parameters (pack them, kata's
//                  CPU convolutions) read them once, at construction and at every bind(), and run
//                  on that copy; the other kernels still read the source's buffer at every call
// kata::cpu::executor<Net> and kata::cpu::frozen_executor<Net> are instances (kata/cpu/executor.hpp);
// a new backend is a new Backend argument, never a new executor.
//
// What is decided at compile time (detail::schedule below): the execution order (nnabla's), every
// kernel's op_instance (shapes, arguments, which inputs are frozen), the activation memory plan
// (kata/exec/memory_plan.hpp), the scratch size, the bytes of prepared parameters and the staging
// buffers of inputs; so the storage size is a constant (a static arena needs no heap). What happens at
// run time: the constructor binds the parameters by name (and prepares them in frozen mode); each call
// binds the input pointers (gathering non-contiguous inputs into their staging buffer, where the backend
// stages inputs) and runs the
// kernels in order: no heap allocation per call. Outputs stay in the storage until the next call.
// Kernels are instantiated once per distinct op_instance and run from a constexpr table of steps (one
// function pointer per distinct instance): no template is instantiated per node, which is what kept
// the compile time of large graphs up (issue 16; bench/RESULTS.md).
//
// Inputs (kata/exec/inputs.hpp): in the order the network created them, each a pointer to contiguous
// values or a container/view with data() and shape(); fixed shapes are checked at compile time, the
// others at every call. Outputs: output_data<K>() (typed pointer) everywhere; on hosts that include
// kata/io/xtensor_boundary.hpp (kata/cpu.hpp does) also output<K>() (an xtensor view into the storage,
// valid until the next call), result<K>() (an owning xt::xtensor_fixed copy) and results() (all of
// them, a std::tuple). An xt::xtensor_fixed holds its values inline: copy a large output into an
// xt::xarray instead (xt::xarray<float> a = run.output<K>()).
//
// Errors: parameters are checked at compile time for sources that allow it (constant tables: these are
// also bound during compilation, so a firmware carries the handles, not the graph), at bind time
// otherwise; run-time failures go through exec::report (kata/exec/binding.hpp: binding_error on
// hosts, a trap without exceptions). A failed bind() leaves the previous binding in place.
//
// Threads: one executor is not re-entrant. It owns the buffers a call writes (activations, staged
// inputs, bound input pointers), so execute()/operator()/bind() must not run on two threads at once;
// a second entry while a call is running is detected (an atomic flag, always on) and reported as
// binding_error "called while another call of the same executor is running" instead of racing.
// Outputs (output<K>(), output_data<K>()) are valid until the next call on the same executor. Give each
// thread its own executor: executors are independent and may share one parameter store (they only read
// it, tests/sanitize/thread checks this under ThreadSanitizer) as long as nobody writes the store
// during their calls.
//
// Parameters replaced after bind(): a live executor reads the source's current buffers at every call,
// so new values of the same shape are used at the next call. A value replaced with another shape or
// dtype (parameter_store::create_or_replace) is not read: every call first re-checks the dtype and
// shape of each bound parameter and throws binding_error naming the parameter, its new shape and the
// shape it was bound with, before running anything (no out-of-bounds read). Restore the shape, or build
// an executor for a graph of the new shape. An executor is not copyable.
//
// Backend-neutral: no xtensor, no threads, no iostream, no std::string on the core path (profiling
// with -DKATA_CPU_PROFILE adds <chrono>).
#pragma once

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#ifdef KATA_CPU_PROFILE
#include <chrono>
#ifdef KATA_CPU_PROFILE_THREAD_TIME
#include <time.h>
#endif
#endif

#include "../core/graph.hpp"
#include "binding.hpp"
#include "buffer.hpp"
#include "inputs.hpp"
#include "kernel_io.hpp"
#include "memory_plan.hpp"
#include "op_instance.hpp"
#include "storage.hpp"

namespace kata::exec {

enum class parameter_mode : std::uint8_t {
    live,    // parameters are read from the source at every call (default)
    frozen,  // parameters are read (and prepared) at construction and at every bind()
};

// Constructor tag of frozen executors that consume their parameters: each parameter that only
// bind-time preparation reads is erased from the source (when the source can erase, like
// kata::store_parameters) right after the last kernel that reads it has prepared its copy, so the
// process never holds both copies of all the weights (see executor::release_prepared_parameters).
struct consume_parameters_t {
    explicit consume_parameters_t() = default;
};
inline constexpr consume_parameters_t consume_parameters{};

// How executor results look to host code: declared here, defined by kata/io/xtensor_boundary.hpp
// (xtensor views and xt::xtensor_fixed copies). Without it, use output_data<K>().
template <class = void>
struct host_tensors;

// Raised when a backend has no kernel for an op of the graph.
template <message_string Message>
struct missing_kernel {
    static_assert(Message.empty(), "kata: the backend cannot run this graph; the reason is the message in "
                                   "'kata::exec::missing_kernel<...>' shown in this diagnostic");
    static constexpr bool ok = true;
};

namespace detail {

template <class Backend, op_kind K>
using kernel_t = typename Backend::template kernel<K>;

template <class Backend, op_kind K>
concept has_kernel = requires {
    sizeof(kernel_t<Backend, K>);
};

// A backend may state which dtypes its kernels run: `static constexpr bool runs_dtype(op_kind k, int slot,
// dtype t)` (slot -1: the node's output) and `static constexpr std::string_view dtype_rule` (the rule in
// words, for the diagnostic). Without them the executor trusts the graph's dtypes: a kernel reads its
// buffers as the element type it was written for, so an int32 tensor reaching a float32 kernel would be
// read as float bit patterns, silently; the check makes that a compile error naming the node.
template <class Backend>
concept checks_dtypes = requires {
    { Backend::runs_dtype(op_kind::relu, 0, dtype::f32) } -> std::convertible_to<bool>;
    { Backend::dtype_rule } -> std::convertible_to<std::string_view>;
};

template <class Backend>
constexpr std::string_view executor_name() {
    if constexpr (requires { Backend::executor_name; })
        return Backend::executor_name;
    else
        return "kata::exec::executor";
}

template <class Source>
constexpr std::string_view source_description() {
    if constexpr (requires { Source::description; })
        return Source::description;
    else
        return "the parameter source";
}

// The compile-time part of an executor: everything that depends on the graph, the backend and the mode,
// not on the storage or the parameter source.
template <graph_type Net, class Backend, parameter_mode Mode>
struct schedule {
    static constexpr const auto& graph = Net::graph;
    static constexpr std::size_t num_nodes = graph.size();
    // The memory plan in four constant evaluations (g++'s per-evaluation budget, memory_plan.hpp).
    static constexpr auto plan_part0 = make_memory_plan_part(graph, memory_plan_part<num_nodes>{}, 0, 4);
    static constexpr auto plan_part1 = make_memory_plan_part(graph, plan_part0, 1, 4);
    static constexpr auto plan_part2 = make_memory_plan_part(graph, plan_part1, 2, 4);
    static constexpr auto plan = make_memory_plan_part(graph, plan_part2, 3, 4).plan;

    static constexpr bool runs_kernel(int id) {
        return graph.nodes[std::size_t(id)].op != op_kind::sink && !plan.aliased[std::size_t(id)];
    }

    // Per op kind (not per node): whether the backend has a kernel and whether it prepares parameters.
    template <op_kind K>
    static constexpr bool prepares() {
        if constexpr (has_kernel<Backend, K>)
            return preparing_kernel<kernel_t<Backend, K>>;
        else
            return false;
    }
    template <std::size_t... K>
    static constexpr std::array<bool, op_kind_count> kind_has_kernel(std::index_sequence<K...>) {
        return {has_kernel<Backend, op_kind(K)>...};
    }
    template <std::size_t... K>
    static constexpr std::array<bool, op_kind_count> kind_prepares(std::index_sequence<K...>) {
        return {prepares<op_kind(K)>()...};
    }
    static constexpr auto has_kernel_of = kind_has_kernel(std::make_index_sequence<op_kind_count>{});
    static constexpr auto prepares_of = kind_prepares(std::make_index_sequence<op_kind_count>{});

    // The op_instance the kernel of node `id` is instantiated with (a plain constexpr function: one
    // evaluation per node, no template per node).
    static constexpr op_instance instance_at(int id) {
        op_instance I = make_instance(graph, id);
        if (Mode == parameter_mode::frozen && prepares_of[std::size_t(I.op)]) {
            for (int j = 0; j < I.nin && j < max_kernel_inputs; ++j)
                I.in_frozen[j] = graph.input_node(id, j).op == op_kind::parameter;
        }
        return I;
    }
    template <int Id>
    static constexpr op_instance instance = instance_at(Id);

    template <int Id>
    static constexpr bool check_kernel() {
        constexpr op_kind k = graph.nodes[Id].op;
        if constexpr (has_kernel<Backend, k>) {
            return true;
        } else {
            constexpr message_string m = [] {
                message_string s("the backend has no kernel for ");
                s.append(type_name(k));
                const node& n = graph.nodes[Id];
                if (!n.name.empty()) s.append(" in scope '").append(n.name.view()).append("'");
                return s;
            }();
            return missing_kernel<m>::ok && false;
        }
    }
    // A node whose output or input `slot` has a dtype the backend's kernels do not run (checks_dtypes).
    template <int Id>
    static constexpr bool check_dtypes() {
        constexpr message_string m = [] {
            const node& n = graph.nodes[Id];
            message_string s("the backend's kernels do not run ");
            s.append(type_name(n.op));
            if (!n.name.empty()) s.append(" in scope '").append(n.name.view()).append("'");
            // The first input the kernels do not read, else the output they do not write.
            int bad = -1;
            for (int j = 0; j < n.num_inputs && bad < 0; ++j)
                if (!Backend::runs_dtype(n.op, j, graph.input_node(Id, j).type)) bad = j;
            if (bad >= 0) {
                const node& in = graph.input_node(Id, bad);
                s.append(" on its input ").append_int(bad).append(" ");
                if (in.op == op_kind::input || in.op == op_kind::parameter)
                    s.append("'").append(in.name.view()).append("' ");
                else
                    s.append("(a ").append(type_name(in.op)).append(" output) ");
                s.append("of dtype ").append(dtype_name(in.type));
            } else {
                s.append(" with an output of dtype ").append(dtype_name(n.type));
            }
            s.append(": ").append(Backend::dtype_rule);
            return s;
        }();
        return missing_kernel<m>::ok && false;
    }
    // The first node (in execution order) with a dtype the backend's kernels do not run, or -1.
    static constexpr int wrong_dtype_node = [] {
        if constexpr (checks_dtypes<Backend>) {
            for (int t = 0; t < graph.num_order; ++t) {
                const int id = graph.order[t];
                if (!runs_kernel(id)) continue;
                const node& n = graph.nodes[std::size_t(id)];
                if (!Backend::runs_dtype(n.op, -1, n.type)) return id;
                for (int j = 0; j < n.num_inputs; ++j)
                    if (!Backend::runs_dtype(n.op, j, graph.input_node(id, j).type)) return id;
            }
        }
        return -1;
    }();
    // The first node (in execution order) whose op the backend has no kernel for, or -1.
    static constexpr int missing_kernel_node = [] {
        for (int t = 0; t < graph.num_order; ++t) {
            const int id = graph.order[t];
            if (runs_kernel(id) && !has_kernel_of[std::size_t(graph.nodes[std::size_t(id)].op)]) return id;
        }
        return -1;
    }();
    static constexpr bool kernels_exist() {
        if constexpr (missing_kernel_node >= 0)
            return check_kernel<missing_kernel_node>();
        else if constexpr (wrong_dtype_node >= 0)
            return check_dtypes<wrong_dtype_node>();
        else
            return true;
    }

    // Kernels are instantiated once per DISTINCT op_instance, not once per node (issue 16: ResNet-50's
    // 442 nodes have about 130 distinct instances; repeated blocks share theirs). The nodes that run a
    // kernel are grouped by instance with a hash table over the instances (O(N)); the executor then
    // runs a table of steps (node, kernel, input buffers) with one function pointer per distinct
    // instance, instead of one template per node.
    static constexpr std::uint64_t instance_hash(const op_instance& I) {
        std::uint64_t h = 1469598103934665603ull;
        auto mix = [&h](std::int64_t v) { h = (h ^ std::uint64_t(v)) * 1099511628211ull; };
        auto mix_shape = [&mix](const shape_t& s) {
            mix(s.rank);
            for (int d = 0; d < s.rank; ++d) mix(s.dims[d]);
        };
        mix(std::int64_t(I.op));
        mix(std::int64_t(I.type));
        mix(std::int64_t(I.out_layout));
        mix_shape(I.out);
        mix(I.nin);
        for (int k = 0; k < I.nin && k < max_kernel_inputs; ++k) {
            mix_shape(I.in[k]);
            mix(std::int64_t(I.in_type[k]) * 4 + std::int64_t(I.in_layout[k]) * 2 +
                std::int64_t(I.in_frozen[k]));
        }
        return h;  // the attributes are left out: equal hashes are compared in full
    }
    static constexpr std::size_t hash_capacity = [] {
        std::size_t c = 16;
        while (c < 2 * num_nodes) c *= 2;
        return c;
    }();
    struct kernel_grouping {
        int num_kernels = 0;                          // distinct op_instances
        std::array<int, num_nodes> kernel_of{};       // node id -> its distinct instance (-1: no kernel run)
        std::array<int, num_nodes + 1> first_node{};  // distinct instance -> the first node using it
    };
    static constexpr kernel_grouping grouping = [] {
        kernel_grouping g{};
        for (auto& k : g.kernel_of) k = -1;
        std::array<int, hash_capacity> slot{};  // distinct instance + 1 (0: empty)
        std::array<std::uint64_t, num_nodes + 1> hash_of{};
        for (int t = 0; t < graph.num_order; ++t) {
            const int id = graph.order[t];
            if (!runs_kernel(id)) continue;
            const op_instance I = instance_at(id);
            const std::uint64_t h = instance_hash(I);
            std::size_t at = std::size_t(h) & (hash_capacity - 1);
            while (true) {
                const int j = slot[at] - 1;
                if (j < 0) {
                    slot[at] = g.num_kernels + 1;
                    hash_of[std::size_t(g.num_kernels)] = h;
                    g.first_node[std::size_t(g.num_kernels)] = id;
                    g.kernel_of[std::size_t(id)] = g.num_kernels++;
                    break;
                }
                if (hash_of[std::size_t(j)] == h && instance_at(g.first_node[std::size_t(j)]) == I) {
                    g.kernel_of[std::size_t(id)] = j;
                    break;
                }
                at = (at + 1) & (hash_capacity - 1);
            }
        }
        return g;
    }();
    static constexpr int num_kernels = grouping.num_kernels;
    static constexpr auto kernel_seq = std::make_index_sequence<std::size_t(num_kernels)>{};
    template <std::size_t J>
    static constexpr op_instance kernel_instance = instance_at(grouping.first_node[J]);

    template <std::size_t J>
    static constexpr std::size_t workspace_of() {
        if constexpr (!has_kernel<Backend, kernel_instance<J>.op>)
            return 0;
        else
            return kernel_t<Backend, kernel_instance<J>.op>::template workspace_bytes<kernel_instance<J>>();
    }
    template <std::size_t J>
    static constexpr std::size_t prepared_of() {
        if constexpr (Mode != parameter_mode::frozen || !prepares<kernel_instance<J>.op>())
            return 0;
        else
            return kernel_t<Backend, kernel_instance<J>.op>::template prepared_bytes<kernel_instance<J>>();
    }

    static constexpr std::size_t align(std::size_t v) {
        return std::size_t(exec::detail::align_up(std::int64_t(v), std::int64_t(arena_alignment)));
    }

    template <std::size_t... J>
    static constexpr std::size_t max_workspace(std::index_sequence<J...>) {
        static_assert(kernels_exist());
        std::size_t m = 0;
        ((m = std::max(m, workspace_of<J>())), ...);
        return m;
    }
    template <std::size_t... J>
    static constexpr std::array<std::size_t, sizeof...(J) + 1>
    kernel_prepared_sizes(std::index_sequence<J...>) {
        return {align(prepared_of<J>())..., 0};
    }
    static constexpr auto kernel_prepared_size = kernel_prepared_sizes(kernel_seq);
    static constexpr std::array<std::size_t, num_nodes> prepared_size = [] {
        std::array<std::size_t, num_nodes> a{};
        for (std::size_t i = 0; i < num_nodes; ++i)
            if (grouping.kernel_of[i] >= 0) a[i] = kernel_prepared_size[std::size_t(grouping.kernel_of[i])];
        return a;
    }();

    // The run-time program: one step per node that runs a kernel, in execution order; a step's inputs
    // and output are buffer references (the root node of the buffer, and whether that root is a
    // parameter: read through the source at every call).
    struct buffer_ref {
        int root = 0;
        bool parameter = false;
    };
    struct step {
        int node = 0;
        int kernel = 0;       // distinct instance (index into the executor's kernel table)
        int first_input = 0;  // into step_inputs
        int num_inputs = 0;
        buffer_ref out{};
    };
    static constexpr buffer_ref buffer_of(int id) {
        const int r = plan.root[std::size_t(id)];
        return {r, graph.nodes[std::size_t(r)].op == op_kind::parameter};
    }
    static constexpr int num_steps = [] {
        int c = 0;
        for (int t = 0; t < graph.num_order; ++t) c += runs_kernel(graph.order[t]);
        return c;
    }();
    static constexpr int num_step_inputs = [] {
        int c = 0;
        for (int t = 0; t < graph.num_order; ++t)
            if (runs_kernel(graph.order[t])) c += graph.nodes[std::size_t(graph.order[t])].num_inputs;
        return c;
    }();
    static constexpr int max_step_inputs = [] {
        int m = 1;
        for (std::size_t i = 0; i < num_nodes; ++i) m = std::max(m, int(graph.nodes[i].num_inputs));
        return m;
    }();
    static constexpr std::array<step, std::size_t(num_steps)> steps = [] {
        std::array<step, std::size_t(num_steps)> a{};
        int s = 0, in = 0;
        for (int t = 0; t < graph.num_order; ++t) {
            const int id = graph.order[t];
            if (!runs_kernel(id)) continue;
            const int nin = graph.nodes[std::size_t(id)].num_inputs;
            a[std::size_t(s++)] = step{id, grouping.kernel_of[std::size_t(id)], in, nin, buffer_of(id)};
            in += nin;
        }
        return a;
    }();
    static constexpr std::array<buffer_ref, std::size_t(num_step_inputs) + 1> step_inputs = [] {
        std::array<buffer_ref, std::size_t(num_step_inputs) + 1> a{};
        std::size_t in = 0;
        for (int t = 0; t < graph.num_order; ++t) {
            const int id = graph.order[t];
            if (!runs_kernel(id)) continue;
            for (int k = 0; k < graph.nodes[std::size_t(id)].num_inputs; ++k)
                a[in++] = buffer_of(graph.input_of(id, k));
        }
        return a;
    }();

    // Graph input node ids in creation order.
    static constexpr auto input_ids = [] {
        constexpr int count = graph.count_leaves(op_kind::input);
        std::array<int, std::size_t(count)> ids{};
        int c = 0;
        for (std::size_t i = 0; i < num_nodes; ++i)
            if (graph.nodes[i].op == op_kind::input) ids[std::size_t(c++)] = int(i);
        return ids;
    }();
    static constexpr std::size_t num_inputs = input_ids.size();

    // Parameters a reachable function reads (the ones bind() looks up), in node order. The graph's
    // consumer index answers "does a reachable function read it" in O(1) (a scan of every function per
    // parameter was O(N * P), issue 16).
    static constexpr bool referenced(int id) { return graph.num_consumers(id) > 0; }
    static constexpr int num_params = [] {
        int c = 0;
        for (std::size_t i = 0; i < num_nodes; ++i)
            c += graph.nodes[i].op == op_kind::parameter && referenced(int(i));
        return c;
    }();
    static constexpr auto param_ids = [] {
        std::array<int, std::size_t(num_params)> ids{};
        int c = 0;
        for (std::size_t i = 0; i < num_nodes; ++i)
            if (graph.nodes[i].op == op_kind::parameter && referenced(int(i))) ids[std::size_t(c++)] = int(i);
        return ids;
    }();

    // Storage layout: [arena | workspace | prepared parameters | input staging], each 64-byte aligned.
    static constexpr std::size_t arena_bytes = align(std::size_t(plan.arena_bytes));
    static constexpr std::size_t workspace_bytes = align(max_workspace(kernel_seq));
    static constexpr std::size_t prepared_bytes = [] {
        std::size_t s = 0;
        for (std::size_t b : prepared_size) s += b;
        return s;
    }();
    static constexpr std::array<std::size_t, num_nodes> prepared_offset = [] {
        std::array<std::size_t, num_nodes> o{};
        std::size_t at = arena_bytes + workspace_bytes;
        for (int t = 0; t < graph.num_order; ++t) {
            const std::size_t f = std::size_t(graph.order[t]);
            o[f] = at;
            at += prepared_size[f];
        }
        return o;
    }();
    static constexpr std::array<std::size_t, num_inputs> staging_offset = [] {
        std::array<std::size_t, num_inputs> o{};
        std::size_t at = arena_bytes + workspace_bytes + prepared_bytes;
        for (std::size_t k = 0; k < num_inputs; ++k) {
            o[k] = at;
            const node& n = graph.nodes[std::size_t(input_ids[k])];
            at += align(std::size_t(n.shape.numel()) * std::size_t(dtype_size(n.type)));
        }
        return o;
    }();
    // A backend may declare `static constexpr bool stages_inputs = false` (the embedded one: inputs are
    // pointers or contiguous arrays, and RAM is scarce): no staging bytes, and a non-contiguous input
    // is reported (binding_failure input_not_contiguous) instead of copied.
    static constexpr bool stages_inputs = [] {
        if constexpr (requires { Backend::stages_inputs; })
            return bool(Backend::stages_inputs);
        else
            return true;
    }();
    static constexpr std::size_t staging_bytes = [] {
        if (!stages_inputs) return std::size_t(0);
        std::size_t s = 0;
        for (std::size_t k = 0; k < num_inputs; ++k) {
            const node& n = graph.nodes[std::size_t(input_ids[k])];
            s += align(std::size_t(n.shape.numel()) * std::size_t(dtype_size(n.type)));
        }
        return s;
    }();
    static constexpr std::size_t storage_bytes =
        arena_bytes + workspace_bytes + prepared_bytes + staging_bytes;

    // Nodes whose kernel prepared its parameters at bind time (frozen executors).
    static constexpr std::array<bool, num_nodes> prepared = [] {
        std::array<bool, num_nodes> p{};
        for (std::size_t i = 0; i < num_nodes; ++i) p[i] = prepared_size[i] > 0;
        return p;
    }();
    static constexpr int num_prepared = [] {
        int c = 0;
        for (bool b : prepared) c += b;
        return c;
    }();
    static constexpr auto prepared_ids = [] {
        std::array<int, std::size_t(num_prepared)> ids{};
        int c = 0;
        for (std::size_t i = 0; i < num_nodes; ++i)
            if (prepared[i]) ids[std::size_t(c++)] = int(i);
        return ids;
    }();

    // Inputs that only bind-time preparation reads (frozen executors): bit k of consumed[Id] is set
    // when node Id's kernel declares, through `template <op_instance I> static constexpr bool
    // prepared_input(int k)`, that run() never reads input k (its values are in the prepared copy).
    // Kernels without the declaration keep reading every input at run time. Evaluated once per
    // distinct op_instance (kernel_instance<J>), like the kernels themselves.
    template <std::size_t J>
    static constexpr std::uint32_t kernel_consumed_mask() {
        constexpr op_instance I = kernel_instance<J>;
        if constexpr (Mode != parameter_mode::frozen || prepared_of<J>() == 0) {
            return 0;
        } else if constexpr (!requires { kernel_t<Backend, I.op>::template prepared_input<I>(0); }) {
            return 0;
        } else {
            std::uint32_t m = 0;
            for (int k = 0; k < I.nin && k < max_kernel_inputs && k < 32; ++k)
                if (I.in_frozen[k] && kernel_t<Backend, I.op>::template prepared_input<I>(k))
                    m |= std::uint32_t(1) << k;
            return m;
        }
    }
    template <std::size_t... J>
    static constexpr std::array<std::uint32_t, sizeof...(J) + 1>
    kernel_consumed_masks(std::index_sequence<J...>) {
        return {kernel_consumed_mask<J>()..., 0};
    }
    static constexpr std::array<std::uint32_t, num_nodes> consumed = [] {
        constexpr auto by_kernel = kernel_consumed_masks(kernel_seq);
        std::array<std::uint32_t, num_nodes> a{};
        for (std::size_t i = 0; i < num_nodes; ++i)
            if (grouping.kernel_of[i] >= 0) a[i] = by_kernel[std::size_t(grouping.kernel_of[i])];
        return a;
    }();

    // Parameters read only at bind time: every reader is a prepared kernel that consumed it (so a
    // frozen executor may let the source drop them once prepared), and none is a graph output.
    static constexpr std::array<bool, num_nodes> bind_time_only = [] {
        std::array<bool, num_nodes> b{};
        for (int j = 0; j < num_params; ++j) {
            const int p = param_ids[std::size_t(j)];
            bool only = !graph.is_output(p);
            for (int c = 0; only && c < graph.num_consumers(p); ++c) {
                const int f = graph.consumer(p, c);
                for (int k = 0; only && k < graph.nodes[std::size_t(f)].num_inputs; ++k)
                    if (graph.input_of(f, k) == p) only = k < 32 && (consumed[std::size_t(f)] >> k & 1u);
            }
            b[std::size_t(p)] = only;
        }
        return b;
    }();
    static constexpr int num_bind_time_only = [] {
        int c = 0;
        for (bool v : bind_time_only) c += v;
        return c;
    }();
    // The last node (in preparation order: ascending id) that prepares each bind-time-only parameter:
    // a consuming bind may let the source drop the parameter right after that node is prepared.
    static constexpr std::array<int, num_nodes> last_preparer = [] {
        std::array<int, num_nodes> l{};
        for (std::size_t i = 0; i < num_nodes; ++i) {
            l[i] = -1;
            if (!bind_time_only[i]) continue;
            for (int c = 0; c < graph.num_consumers(int(i)); ++c)
                l[i] = std::max(l[i], graph.consumer(int(i), c));
        }
        return l;
    }();
};

// Sources whose parameters are known during compilation (constant tables): they provide check<G>(),
// are empty and default-constructible, and find() is a constant expression.
template <class Source, auto const& G>
concept constant_source = requires {
    Source::template check<G>();
}
&&std::is_empty_v<Source>&& std::default_initializable<Source>;

// The compile-time parameter check of sources that provide one (constant tables).
template <class Source, auto const& G>
constexpr bool source_binds() {
    if constexpr (requires { Source::template check<G>(); })
        return invalid_binding<Source::template check<G>()>::ok;
    else
        return true;
}

template <class X>
constexpr message_string fixed_shape_message(std::string_view name, const shape_t& want) {
    using E = fixed_extents<typename X::shape_type>;
    message_string m("input '");
    m.append(name).append("' has the fixed shape ");
    shape_t got;
    for (int d = 0; d < E::rank && d < max_rank; ++d) got.push_back(std::int64_t(E::dims[d]));
    append_dims(m, got, E::rank);
    m.append(" but the graph expects ");
    append_shape(m, want);
    return m;
}
template <class X>
constexpr bool fixed_shape_matches(const shape_t& want) {
    using E = fixed_extents<typename X::shape_type>;
    if (E::rank != want.rank) return false;
    for (int d = 0; d < E::rank; ++d)
        if (std::int64_t(E::dims[d]) != want.dims[d]) return false;
    return true;
}

constexpr message_string flat_size_message(std::string_view name, const shape_t& want, std::size_t got) {
    message_string m("input '");
    m.append(name).append("' is given as an array of ").append_int(std::int64_t(got));
    m.append(" values but the graph expects ");
    append_shape(m, want).append(" (").append_int(want.numel()).append(" values)");
    return m;
}

template <class T>
constexpr message_string element_message(std::string_view name, dtype want) {
    message_string m("input '");
    m.append(name).append("' is ").append(dtype_name(want)).append(" but the caller's values are ");
    if constexpr (has_dtype<T>)
        m.append(dtype_name(dtype_of<T>));
    else
        m.append("of a type with no kata dtype");
    return m;
}

}  // namespace detail

template <graph_type Net, class Backend, template <std::size_t> class Storage, parameter_source Source,
          parameter_mode Mode = parameter_mode::live>
class executor {
    using sched = detail::schedule<Net, Backend, Mode>;
    static_assert(detail::source_binds<Source, Net::graph>());

public:
    using backend_type = Backend;
    using source_type = Source;
    using parameter_handle = typename Source::handle;

    static constexpr const auto& graph = Net::graph;
    static constexpr std::size_t num_nodes = sched::num_nodes;
    static constexpr parameter_mode mode = Mode;
    static constexpr const auto& plan = sched::plan;
    static constexpr std::size_t num_inputs = sched::num_inputs;
    static constexpr std::size_t arena_bytes = sched::arena_bytes;          // activations
    static constexpr std::size_t workspace_bytes = sched::workspace_bytes;  // kernel scratch
    static constexpr std::size_t prepared_bytes = sched::prepared_bytes;    // prepared (packed) parameters
    static constexpr std::size_t staging_bytes = sched::staging_bytes;      // non-contiguous input copies
    static constexpr std::size_t storage_bytes = sched::storage_bytes;
    // Nodes whose kernel prepares its parameters at bind time, and how many (frozen executors).
    static constexpr const auto& prepared = sched::prepared;
    static constexpr int num_prepared = sched::num_prepared;
    // Parameters only bind-time preparation reads (frozen executors; node ids in the graph): the
    // executor runs on its prepared copy of them, so the source's copy may go
    // (release_prepared_parameters, or the consume_parameters constructor).
    static constexpr const auto& bind_time_only = sched::bind_time_only;
    static constexpr int num_bind_time_only = sched::num_bind_time_only;
    template <int Id>
    static constexpr op_instance instance = sched::template instance<Id>;

    using storage_type = Storage<storage_bytes>;

    explicit executor(Source source) {
        if constexpr (requires { Backend::initialize(); }) Backend::initialize();
        std::byte* base = storage_.data();
        for (std::size_t i = 0; i < num_nodes; ++i)
            if (plan.offset[i] >= 0) ptr_[i] = base + plan.offset[i];
        workspace_ = base + arena_bytes;
        bind(source);
    }
    executor() requires std::default_initializable<Source> : executor(Source{}) {}
    // Frozen executors: binds and prepares like executor(source), erasing each bind-time-only
    // parameter from the source as soon as it is prepared (a source without erase(name) keeps them;
    // they are released all the same). Peak memory: the source's weights plus the prepared ones
    // written so far, instead of both in full.
    executor(Source source, consume_parameters_t) {
        static_assert(Mode == parameter_mode::frozen,
                      "kata::exec::executor: only a frozen executor can consume its parameters");
        if constexpr (requires { Backend::initialize(); }) Backend::initialize();
        std::byte* base = storage_.data();
        for (std::size_t i = 0; i < num_nodes; ++i)
            if (plan.offset[i] >= 0) ptr_[i] = base + plan.offset[i];
        workspace_ = base + arena_bytes;
        const call_guard guard(busy_);
        resolve_all(source);
        prepare_all(&source);
    }
    executor(const executor&) = delete;
    executor& operator=(const executor&) = delete;

    // Resolves the parameters by name again (after replacing the source or its entries); a frozen
    // executor also re-reads (re-prepares) their values here: call bind() after changing them. On a
    // failure nothing changes.
    void bind(Source source) {
        const call_guard guard(busy_);
        if constexpr (detail::constant_source<Source, graph>) {
            // Parameters compiled in: every handle is found during compilation, so the program holds
            // the handles, not the graph (a run-time look-up would put the whole graph value, names
            // and attributes, into the binary: 19 KB of flash for LeNet on a Cortex-M).
            bind_constants(std::make_index_sequence<std::size_t(sched::num_params)>{});
            if constexpr (Mode == parameter_mode::frozen) prepare_all();
            return;
        }
        resolve_all(source);
        if constexpr (Mode == parameter_mode::frozen) prepare_all();
    }

    // Frozen executors, after construction or bind(): stops reading the parameters that only
    // bind-time preparation reads (bind_time_only; the executor runs on its prepared copy of them)
    // and, if the source can erase entries (kata::store_parameters: parameter_store::erase), erases
    // them from `source`, which must be the source bound (names are looked up the same way). Calls
    // then neither read nor check them; a later bind() needs them in the source again (it re-reads
    // and re-prepares every parameter). Returns how many parameters were released by this call (0 when
    // they already were).
    int release_prepared_parameters(Source source) {
        static_assert(Mode == parameter_mode::frozen,
                      "kata::exec::executor: only a frozen executor prepares (and can release) parameters");
        const call_guard guard(busy_);
        int released = 0;
        for (int j = 0; j < sched::num_params; ++j) {
            const int id = sched::param_ids[std::size_t(j)];
            if (!sched::bind_time_only[std::size_t(id)] || !handles_[std::size_t(id)]) continue;  // released
            release(source, id);
            ++released;
        }
        return released;
    }

    // Binds the inputs (in the order the network created them) and runs the graph.
    template <class... X>
    void execute(const X&... xs) {
        static_assert(sizeof...(X) == num_inputs,
                      "kata::exec::executor: wrong number of inputs for this graph");
        const call_guard guard(busy_);
        check_bound_parameters();
        bind_inputs(std::index_sequence_for<X...>{}, xs...);
        ++calls_;
        run_all();
    }
    // Runs the graph and returns a view of output 0 (kata/io/xtensor_boundary.hpp; see output<K>()).
    template <class... X>
    decltype(auto) operator()(const X&... xs) {
        execute(xs...);
        return output<0>();
    }
    template <class... X>
    decltype(auto) forward(const X&... xs) {
        return (*this)(xs...);
    }

    // Output K of the last call: its description, a typed pointer into the storage, an xtensor view
    // (valid until the next call) and an owning xt::xtensor_fixed copy.
    template <std::size_t K>
    static constexpr buffer_desc output_desc = [] {
        static_assert(K < graph.num_outputs(), "kata::exec::executor: output index out of range");
        const node& n = graph.nodes[std::size_t(graph.outputs[K])];
        return buffer_desc{n.type, n.shape, n.lay};
    }();
    template <std::size_t K>
    auto* output_data() {
        using T = element_t<output_desc<K>.type>;
        return static_cast<T*>(node_ptr<graph.outputs[K]>());
    }
    template <std::size_t K, class Host = host_tensors<>>
    auto output() {
        return output_as<K, Host, false>(std::make_index_sequence<std::size_t(output_desc<K>.shape.rank)>{});
    }
    template <std::size_t K, class Host = host_tensors<>>
    auto result() {
        return output_as<K, Host, true>(std::make_index_sequence<std::size_t(output_desc<K>.shape.rank)>{});
    }
    // Owning copies of every output, as a std::tuple.
    template <class Host = host_tensors<>>
    auto results() {
        return results_as<Host>(std::make_index_sequence<graph.num_outputs()>{});
    }

#ifdef KATA_CPU_PROFILE
    // Accumulated nanoseconds per node (benchmarks only: compiled in with -DKATA_CPU_PROFILE).
    std::array<double, num_nodes> profile_ns_{};
#endif

private:
    template <class Host, std::size_t... K>
    auto results_as(std::index_sequence<K...>) {
        return std::tuple{result<K, Host>()...};
    }
    template <std::size_t K, class Host, bool Owning, std::size_t... D>
    auto output_as(std::index_sequence<D...>) {
        using T = element_t<output_desc<K>.type>;
        if constexpr (Owning)
            return Host::template copy<T, std::size_t(output_desc<K>.shape.dims[D])...>(output_data<K>());
        else
            return Host::template view<T, std::size_t(output_desc<K>.shape.dims[D])...>(output_data<K>());
    }

    // Looks every parameter up (all or nothing: a failure leaves the previous handles in place).
    // A run-time loop over the parameters (not one instantiation per parameter: ResNet-50 has 320).
    void resolve_all(Source& source) {
        std::array<parameter_handle, std::size_t(sched::num_params) + 1> found{};
        for (int j = 0; j < sched::num_params; ++j)
            found[std::size_t(j)] =
                resolve(source, graph.nodes[std::size_t(sched::param_ids[std::size_t(j)])]);
        for (int j = 0; j < sched::num_params; ++j)
            handles_[std::size_t(sched::param_ids[std::size_t(j)])] = found[std::size_t(j)];
    }

    // Forgets a bind-time-only parameter (null handle: calls skip it) and erases it from the source
    // where the source can.
    void release(Source& source, int id) {
        handles_[std::size_t(id)] = parameter_handle{};
        if constexpr (requires { source.erase(std::string_view{}); })
            source.erase(graph.nodes[std::size_t(id)].name.view());
    }

    static parameter_handle resolve(Source& source, const node& n) {
        binding_failure f{failure_kind::missing_parameter, detail::executor_name<Backend>(), n.name.view(),
                          detail::source_description<Source>(), buffer_desc{n.type, n.shape, n.lay}};
        const parameter_handle h = source.find(n.name.view());
        if (!h) {
            f.derived = derived_by_conversion(n.name.view());
            report(f);
        }
        const parameter_view v = Source::view(h);
        if (v.type != n.type || v.rank != n.shape.rank || !(v.shape == n.shape)) {
            f.kind = failure_kind::parameter_mismatch;
            f.got_type = v.type;
            f.got_shape = v.shape;
            f.got_rank = v.rank;
            report(f);
        }
        return h;
    }

    template <std::size_t J>
    static constexpr parameter_handle
        constant_handle = Source{}.find(graph.nodes[std::size_t(sched::param_ids[J])].name.view());
    template <std::size_t... J>
    void bind_constants(std::index_sequence<J...>) {
        ((handles_[std::size_t(sched::param_ids[J])] = constant_handle<J>), ...);
    }

    // One executor is not re-entrant (its storage holds the call's activations, staged inputs and bound
    // input pointers): execute() and bind() hold this flag, and a second entry while it is held reports
    // failure_kind::concurrent_call instead of racing. One atomic exchange and one store per call.
    // (The flag is a plain bool used through the compiler's atomic builtins: <atomic> pulls <string> and
    // <stdexcept> into the core path on hosted C++20 libraries.)
    class call_guard {
    public:
        explicit call_guard(bool& busy) : busy_(busy) {
            if (__atomic_exchange_n(&busy_, true, __ATOMIC_ACQUIRE)) {
                binding_failure f{};
                f.kind = failure_kind::concurrent_call;
                f.who = detail::executor_name<Backend>();
                report(f);  // throws (or traps) before this guard owns the flag: the destructor does not run
            }
        }
        ~call_guard() { __atomic_store_n(&busy_, false, __ATOMIC_RELEASE); }
        call_guard(const call_guard&) = delete;
        call_guard& operator=(const call_guard&) = delete;

    private:
        bool& busy_;
    };

    // The kernels read parameters through the source at every call and were instantiated for the shapes
    // bound: a store entry replaced since bind() with another shape (parameter_store::create_or_replace)
    // would be read out of bounds. So every call first re-checks the bound parameters' dtype and shape
    // and refuses (failure_kind::parameter_changed, naming the parameter and both shapes) without running
    // anything. Sources whose values the compiler checked (constant tables) cannot change: no check.
    void check_bound_parameters() const {
        if constexpr (!requires { Source::template check<Net::graph>(); }) {
            for (int j = 0; j < sched::num_params; ++j) {
                const int id = sched::param_ids[std::size_t(j)];
                if (sched::bind_time_only[std::size_t(id)] && !handles_[std::size_t(id)])
                    continue;  // released
                const node& n = graph.nodes[std::size_t(id)];
                const parameter_view v = Source::view(handles_[std::size_t(id)]);
                if (v.type == n.type && v.rank == n.shape.rank && v.shape == n.shape) continue;
                binding_failure f{failure_kind::parameter_changed, detail::executor_name<Backend>(),
                                  n.name.view(), detail::source_description<Source>(),
                                  buffer_desc{n.type, n.shape, n.lay}};
                f.got_type = v.type;
                f.got_shape = v.shape;
                f.got_rank = v.rank;
                report(f);
            }
        }
    }

    // Whether a conversion (kata::convert<...>) computes this parameter from the trained ones: a
    // missing one then means apply_conversion was not called, and the message says so.
    static constexpr bool derived_by_conversion(std::string_view name) {
        if constexpr (requires { Net::derivations; }) {
            for (const auto& d : Net::derivations)
                if (d.target.view() == name) return true;
        }
        return false;
    }

    // One function per distinct op_instance (sched::grouping), called through a table.
    template <std::size_t J>
    static void run_kernel(const kernel_io& io) {
        constexpr op_kind k = sched::template kernel_instance<J>.op;
        if constexpr (detail::has_kernel<Backend, k>)
            detail::kernel_t<Backend, k>::template run<sched::template kernel_instance<J>>(io);
    }
    template <std::size_t J>
    static void prepare_kernel(const prepare_io& io) {
        constexpr op_kind k = sched::template kernel_instance<J>.op;
        if constexpr (sched::kernel_prepared_size[J] > 0)
            detail::kernel_t<Backend, k>::template prepare<sched::template kernel_instance<J>>(io);
    }
    using kernel_fn = void (*)(const kernel_io&);
    using prepare_fn = void (*)(const prepare_io&);
    template <std::size_t... J>
    static constexpr std::array<kernel_fn, sizeof...(J) + 1> kernel_table(std::index_sequence<J...>) {
        return {&run_kernel<J>..., nullptr};
    }
    template <std::size_t... J>
    static constexpr std::array<prepare_fn, sizeof...(J) + 1> prepare_table(std::index_sequence<J...>) {
        return {&prepare_kernel<J>..., nullptr};
    }
    static constexpr auto kernels = kernel_table(sched::kernel_seq);
    static constexpr auto preparers = prepare_table(sched::kernel_seq);

    // The buffer of a step's input or output now (see node_ptr).
    void* buffer(typename sched::buffer_ref b) {
        return b.parameter ? Source::data(handles_[std::size_t(b.root)]) : ptr_[std::size_t(b.root)];
    }

    // Prepares every preparing node; with `consume`, releases each bind-time-only parameter right
    // after the last node that reads it (release()).
    void prepare_all(Source* consume = nullptr) {
        for (int j = 0; j < sched::num_prepared; ++j) {
            const int id = sched::prepared_ids[std::size_t(j)];
            const node& n = graph.nodes[std::size_t(id)];
            void* ins[sched::max_step_inputs]{};
            for (int k = 0; k < n.num_inputs; ++k) {
                const typename sched::buffer_ref b = sched::buffer_of(graph.input_of(id, k));
                ins[k] = b.parameter ? buffer(b) : nullptr;
            }
            preparers[std::size_t(sched::grouping.kernel_of[std::size_t(id)])](
                prepare_io{ins, storage_.data() + sched::prepared_offset[std::size_t(id)]});
            if (!consume) continue;
            for (int k = 0; k < n.num_inputs; ++k) {
                const int p = graph.input_of(id, k);
                if (sched::bind_time_only[std::size_t(p)] && sched::last_preparer[std::size_t(p)] == id &&
                    handles_[std::size_t(p)])
                    release(*consume, p);
            }
        }
    }

    template <std::size_t... K, class... X>
    void bind_inputs(std::index_sequence<K...>, const X&... xs) {
        (bind_input<K>(xs), ...);
    }
    template <std::size_t K, class X>
    void bind_input(const X& x) {
        constexpr int id = sched::input_ids[K];
        constexpr node n = graph.nodes[id];
        using T = typename detail::input_element<X>::type;
        if constexpr (!has_dtype<T> || dtype_of<T> != n.type) {
            static_assert(invalid_input<detail::element_message<T>(graph.nodes[id].name.view(), n.type)>::ok);
        } else if constexpr (detail::pointer_input<X>) {
            ptr_[std::size_t(id)] = const_cast<T*>(x);
        } else if constexpr (detail::flat_input<X>) {
            if constexpr (detail::flat_extent<std::remove_cv_t<X>>::size != std::size_t(n.shape.numel()))
                static_assert(invalid_input<detail::flat_size_message(
                                  graph.nodes[id].name.view(), n.shape,
                                  detail::flat_extent<std::remove_cv_t<X>>::size)>::ok);
            ptr_[std::size_t(id)] = const_cast<T*>(&x[0]);
        } else {
            static_assert(detail::container_input<X>,
                          "kata::exec::executor: an input must be a pointer or have data() and shape() "
                          "(evaluate an xtensor expression into a container or take a view of one)");
            if constexpr (detail::has_fixed_shape<X>()) {
                if constexpr (!detail::fixed_shape_matches<X>(n.shape))
                    static_assert(invalid_input<detail::fixed_shape_message<X>(graph.nodes[id].name.view(),
                                                                               n.shape)>::ok);
            } else {
                check_input_shape<id>(x.shape());
            }
            if (detail::row_major_contiguous(x)) {
                ptr_[std::size_t(id)] = const_cast<T*>(detail::first_element(x));
            } else if constexpr (sched::stages_inputs) {
                T* staged = reinterpret_cast<T*>(storage_.data() + sched::staging_offset[K]);
                detail::gather_strided(x, staged);
                ptr_[std::size_t(id)] = staged;
            } else {
                report(binding_failure{failure_kind::input_not_contiguous,
                                       detail::executor_name<Backend>(),
                                       n.name.view(),
                                       {},
                                       buffer_desc{n.type, n.shape, n.lay}});
            }
        }
    }
    template <int Id, class S>
    void check_input_shape(const S& s) {
        const node& n = graph.nodes[Id];
        bool ok = int(s.size()) == n.shape.rank;
        for (int d = 0; ok && d < n.shape.rank; ++d) ok = std::int64_t(s[std::size_t(d)]) == n.shape.dims[d];
        if (ok) return;
        binding_failure f{failure_kind::input_shape,
                          detail::executor_name<Backend>(),
                          n.name.view(),
                          {},
                          buffer_desc{n.type, n.shape, n.lay}};
        f.got_rank = int(s.size());
        for (int d = 0; d < f.got_rank && d < max_rank; ++d)
            f.got_shape.push_back(std::int64_t(s[std::size_t(d)]));
        report(f);
    }

    // The buffer of node Id's value now. Parameters are read through the source at every call, in both
    // modes: a frozen executor's prepared kernels read their copy, the others the source's current
    // buffer (a store entry given a new array is never read through a stale pointer).
    template <int Id>
    void* node_ptr() {
        constexpr int r = plan.root[Id];
        if constexpr (graph.nodes[r].op == op_kind::parameter)
            return Source::data(handles_[std::size_t(r)]);
        else
            return ptr_[std::size_t(r)];
    }

#ifdef KATA_CPU_PROFILE
    // Wall time; with KATA_CPU_PROFILE_THREAD_TIME the calling thread's CPU time instead (run with one
    // thread, it gives per-node times that other processes on a loaded machine do not inflate).
    static double profile_now_ns() {
#ifdef KATA_CPU_PROFILE_THREAD_TIME
        timespec ts{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return double(ts.tv_sec) * 1e9 + double(ts.tv_nsec);
#else
        return double(std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count());
#endif
    }
#endif

    void run_all() {
        for (const typename sched::step& st : sched::steps) {
            void* ins[sched::max_step_inputs];
            // Inputs the kernel consumed at bind time (sched::consumed) are passed as null: run() does
            // not read them, and a released parameter has no buffer any more.
            const std::uint32_t consumed = sched::consumed[std::size_t(st.node)];
            for (int k = 0; k < st.num_inputs; ++k)
                ins[k] = (k < 32 && (consumed >> k & 1u))
                             ? nullptr
                             : buffer(sched::step_inputs[std::size_t(st.first_input + k)]);
            const std::byte* prepared_at = nullptr;
            if (sched::prepared[std::size_t(st.node)])
                prepared_at = storage_.data() + sched::prepared_offset[std::size_t(st.node)];
#ifdef KATA_CPU_PROFILE
            const double t0 = profile_now_ns();
#endif
            kernels[std::size_t(st.kernel)](
                kernel_io{ins, buffer(st.out), workspace_, prepared_at, calls_, st.node});
#ifdef KATA_CPU_PROFILE
            profile_ns_[std::size_t(st.node)] += profile_now_ns() - t0;
#endif
        }
    }

    storage_type storage_;
    std::array<void*, num_nodes> ptr_{};
    std::array<parameter_handle, num_nodes> handles_{};
    std::byte* workspace_ = nullptr;
    std::uint64_t calls_ = 0;  // execute() calls so far: kernel_io::call (random streams, e.g. Dropout)
    bool busy_ = false;        // a call (execute or bind) is running: see call_guard (accessed atomically)
};

}  // namespace kata::exec
