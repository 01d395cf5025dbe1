// kata/core/graph.hpp
//
// The lifted graph: fixed-size arrays of nodes and edges, a structural value usable as a template
// argument, and `kata::network<Fn>`, the type that a network definition becomes.
//
//     using Net = kata::network<lenet>;       // runs lenet(builder&) at compile time, once
//     static_assert(Net::graph.num_functions() == 9);
//     kata::cpu::executor<Net> run(params);   // executors, viewers and converters take graph types
//
// Every graph type exposes `static constexpr auto graph` (a kata::graph<...>); converters produce new
// graph types with the same interface (kata::graph_type concept below).
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <type_traits>
#include <utility>
#include <vector>

#include "builder.hpp"
#include "scratch.hpp"

namespace kata {

template <std::size_t N, std::size_t E, std::size_t O>
struct graph {
    std::array<node, N> nodes{};
    std::array<int, E> edges{};
    std::array<int, O> outputs{};
    // Function nodes in nnabla's visit order (docs/nnabla-semantics.md §0.3); only the first `num_order` are
    // used.
    std::array<int, N> order{};
    int num_order = 0;
    // Indexes computed once when the graph is frozen, so that passes over a lifted graph (executors'
    // plans, viewers) ask "is it reachable, where does it run, who reads it" in O(1) instead of
    // scanning the graph per node (issue 16):
    //   position[i]    index of node i in `order`, -1 for leaves and unreachable functions;
    //   consumers of node i: consumer_ids[consumer_first[i] .. consumer_first[i + 1]), the reachable
    //                  functions reading it, in creation order, each once (nnabla's
    //                  function_references).
    std::array<int, N> position{};
    std::array<int, N + 1> consumer_first{};
    std::array<int, E> consumer_ids{};

    static constexpr std::size_t size() { return N; }
    static constexpr std::size_t num_outputs() { return O; }

    constexpr const node& operator[](int i) const { return nodes[std::size_t(i)]; }
    constexpr int input_of(int id, int k) const { return edges[std::size_t(nodes[id].first_input + k)]; }
    constexpr const node& input_node(int id, int k) const { return nodes[std::size_t(input_of(id, k))]; }
    constexpr int num_functions() const { return num_order; }

    // Number of nodes of kind k reachable from the outputs.
    constexpr int count(op_kind k) const {
        int c = 0;
        for (int i = 0; i < num_order; ++i) c += nodes[order[i]].op == k;
        return c;
    }
    constexpr int count_leaves(op_kind k) const {
        int c = 0;
        for (std::size_t i = 0; i < N; ++i) c += nodes[i].op == k;
        return c;
    }
    // Index of the node named `name` of kind k, or -1. A scan (O(N)): for tests and one-off
    // look-ups, not for loops over the graph.
    constexpr int find(op_kind k, std::string_view name) const {
        for (std::size_t i = 0; i < N; ++i)
            if (nodes[i].op == k && nodes[i].name == name) return int(i);
        return -1;
    }
    // Consumers of node `id` among the reachable functions, in creation order (nnabla's
    // function_references order). Returns the count and fills `out` (capacity N). O(consumers).
    constexpr int consumers(int id, std::array<int, N>& out) const {
        const int first = consumer_first[std::size_t(id)], c = consumer_first[std::size_t(id) + 1] - first;
        for (int j = 0; j < c; ++j) out[std::size_t(j)] = consumer_ids[std::size_t(first + j)];
        return c;
    }
    constexpr int num_consumers(int id) const {
        return consumer_first[std::size_t(id) + 1] - consumer_first[std::size_t(id)];
    }
    constexpr int consumer(int id, int j) const {
        return consumer_ids[std::size_t(consumer_first[std::size_t(id)] + j)];
    }
    constexpr bool reachable(int id) const { return position[std::size_t(id)] >= 0; }
    // O(number of outputs).
    constexpr bool is_output(int id) const {
        for (auto o : outputs)
            if (o == id) return true;
        return false;
    }
};

namespace detail {

// nnabla's Variable.visit: depth-first post-order from the outputs, inputs in index order, each
// function once (docs/nnabla-semantics.md §0.3). Several outputs behave like a Sink over them. An explicit
// stack keeps deep graphs within constexpr limits and gives the same order as upstream's recursion. O(N + E);
// raw pointers instead of container calls, which cost tens of evaluation steps each. Working arrays
// are detail::scratch (scratch.hpp), not std::vector: a vector's fill costs ~24 clang evaluation steps
// per element.
template <class Nodes, class Edges, class Outs, class Order>
constexpr int visit_order(const Nodes& nodes, const Edges& edges, const Outs& outs, std::size_t nouts,
                          Order& order) {
    const std::size_t n = nodes.size();
    const node* nd = nodes.data();
    const int* ed = edges.data();
    int* ord = order.data();
    scratch<char> seen_v(n);
    scratch<int> stack_v(2 * n + 2);  // (node, next input index) pairs; depth <= functions
    char* seen = seen_v.data();
    int* stack = stack_v.data();
    int top = 0;  // number of ints on the stack
    int count = 0;
    for (std::size_t o = 0; o < nouts; ++o) {
        const int root = outs[o];
        if (!is_function(nd[root].op) || seen[root]) continue;
        seen[root] = 1;
        stack[0] = root;
        stack[1] = 0;
        top = 2;
        while (top > 0) {
            const int f = stack[top - 2];
            const int k = stack[top - 1];
            const node& fn = nd[f];
            if (k < fn.num_inputs) {
                const int in = ed[fn.first_input + k];
                stack[top - 1] = k + 1;
                if (is_function(nd[in].op) && !seen[in]) {
                    seen[in] = 1;
                    stack[top] = in;
                    stack[top + 1] = 0;
                    top += 2;
                }
            } else {
                ord[count++] = f;
                top -= 2;
            }
        }
    }
    return count;
}

// The position and consumer indexes of a graph (see kata::graph): position[i] = index in order or -1;
// consumers in CSR form (first: n + 1 entries, ids: at most one per edge). Returns the number of
// consumer entries. A function reading the same variable twice is listed once. O(N + E) (plus the
// inputs of one function squared, for that duplicate check).
template <class Nodes, class Edges, class Order, class Pos, class First, class Ids>
constexpr int index_graph(const Nodes& nodes, const Edges& edges, const Order& order, int num_order,
                          Pos& position, First& consumer_first, Ids& consumer_ids) {
    const std::size_t n = nodes.size();
    const node* nd = nodes.data();
    const int* ed = edges.data();
    const int* ord = order.data();
    int* pos = position.data();
    int* first = consumer_first.data();
    int* ids = consumer_ids.data();
    for (std::size_t i = 0; i < n; ++i) pos[i] = -1;
    for (int t = 0; t < num_order; ++t) pos[ord[t]] = t;
    for (std::size_t i = 0; i <= n; ++i) first[i] = 0;
    auto repeated = [&](const node& f, int k) {  // input k of f already appears among inputs 0..k-1
        const int in = ed[f.first_input + k];
        for (int j = 0; j < k; ++j)
            if (ed[f.first_input + j] == in) return true;
        return false;
    };
    for (std::size_t f = 0; f < n; ++f) {
        if (pos[f] < 0) continue;
        for (int k = 0; k < nd[f].num_inputs; ++k)
            if (!repeated(nd[f], k)) ++first[ed[nd[f].first_input + k] + 1];
    }
    for (std::size_t i = 0; i < n; ++i) first[i + 1] += first[i];
    scratch<int> fill_v(first, n);
    int* fill = fill_v.data();
    for (std::size_t f = 0; f < n; ++f) {
        if (pos[f] < 0) continue;
        for (int k = 0; k < nd[f].num_inputs; ++k)
            if (!repeated(nd[f], k)) ids[fill[ed[nd[f].first_input + k]]++] = int(f);
    }
    return first[n];
}

struct graph_sizes {
    std::size_t nodes = 0, edges = 0, outputs = 0;
    message_string error{};
    bool failed = false;
};

template <class Fn>
constexpr void run_network(Fn fn, builder& b) {
    if constexpr (std::is_void_v<decltype(fn(b))>) {
        fn(b);
    } else {
        var v = fn(b);
        b.output(v);
    }
    if (b.outputs.empty() && !b.failed) b.fail(message_string("network defines no output"));
}

// Computes a graph's visit order and indexes once its nodes, edges and outputs are in place.
template <std::size_t N, std::size_t E, std::size_t O>
constexpr void finish_graph(graph<N, E, O>& g) {
    g.num_order = visit_order(g.nodes, g.edges, g.outputs, O, g.order);
    index_graph(g.nodes, g.edges, g.order, g.num_order, g.position, g.consumer_first, g.consumer_ids);
}

template <std::size_t N, std::size_t E, std::size_t O>
constexpr graph<N, E, O> freeze(const builder& b) {
    graph<N, E, O> g{};
    const node* nd = b.nodes.data();
    for (std::size_t i = 0; i < N; ++i) g.nodes[i] = nd[i];
    const int* ed = b.edges.data();
    for (std::size_t i = 0, ne = b.edges.size(); i < ne; ++i) g.edges[i] = ed[i];
    for (std::size_t i = 0; i < O; ++i) g.outputs[i] = b.outputs[i];
    finish_graph(g);
    return g;
}

}  // namespace detail

// Raised when a network definition recorded an error. The message (op, scope, shapes) is the
// template argument, which the compiler prints in the "required from" context.
template <message_string Message>
struct invalid_graph {
    static_assert(Message.empty(), "kata: the network is invalid; the reason is the message in "
                                   "'kata::invalid_graph<...>' shown in this diagnostic");
    static constexpr bool ok = true;
};

// Lifts a builder-producing callable into a graph value (once per type).
template <auto Fn>
struct lift_graph {
    static constexpr detail::graph_sizes sizes = [] {
        builder b;
        detail::run_network(Fn, b);
        return detail::graph_sizes{b.nodes.size(), b.edges.size(), b.outputs.size(), b.error, b.failed};
    }();
    static_assert(invalid_graph<sizes.error>::ok);
    static constexpr auto value = [] {
        builder b(sizes.nodes, sizes.edges);  // the sizes are known now: no reallocation
        detail::run_network(Fn, b);
        return detail::freeze<sizes.nodes, (sizes.edges ? sizes.edges : 1), sizes.outputs>(b);
    }();
};

// The type a network definition becomes. Fn: `constexpr var f(kata::builder&)` (one output) or
// `constexpr void f(kata::builder&)` calling `g.output(v)` for each output.
template <auto Fn>
struct network {
    static constexpr auto graph = lift_graph<Fn>::value;
};

template <class T>
concept graph_type = requires {
    T::graph;
    T::graph.nodes;
    T::graph.order;
};

}  // namespace kata
