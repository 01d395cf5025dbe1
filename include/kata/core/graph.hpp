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

namespace kata {

template <std::size_t N, std::size_t E, std::size_t O>
struct graph {
    std::array<node, N> nodes{};
    std::array<int, E> edges{};
    std::array<int, O> outputs{};
    // Function nodes in nnabla's visit order (spec 0.3); only the first `num_order` are used.
    std::array<int, N> order{};
    int num_order = 0;

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
    // Index of the node named `name` of kind k, or -1.
    constexpr int find(op_kind k, std::string_view name) const {
        for (std::size_t i = 0; i < N; ++i)
            if (nodes[i].op == k && nodes[i].name == name) return int(i);
        return -1;
    }
    // Consumers of node `id` among the reachable functions, in creation order (nnabla's
    // function_references order). Returns the count and fills `out` (capacity N).
    constexpr int consumers(int id, std::array<int, N>& out) const {
        int c = 0;
        for (std::size_t f = 0; f < N; ++f) {
            if (!is_function(nodes[f].op) || !reachable(int(f))) continue;
            for (int k = 0; k < nodes[f].num_inputs; ++k)
                if (input_of(int(f), k) == id) {
                    out[std::size_t(c++)] = int(f);
                    break;
                }
        }
        return c;
    }
    constexpr int num_consumers(int id) const {
        std::array<int, N> tmp{};
        return consumers(id, tmp);
    }
    constexpr bool reachable(int id) const {
        for (int i = 0; i < num_order; ++i)
            if (order[i] == id) return true;
        return false;
    }
    constexpr bool is_output(int id) const {
        for (auto o : outputs)
            if (o == id) return true;
        return false;
    }
};

namespace detail {

// nnabla's Variable.visit: depth-first post-order from the outputs, inputs in index order, each
// function once (spec 0.3). Several outputs behave like a Sink over them. An explicit stack keeps
// deep graphs within constexpr limits and gives the same order as upstream's recursion.
template <class Nodes, class Edges, class Outs, class Order>
constexpr int visit_order(const Nodes& nodes, const Edges& edges, const Outs& outs, std::size_t nouts,
                          Order& order) {
    const std::size_t n = nodes.size();
    std::vector<char> seen(n, 0);
    std::vector<std::pair<int, int>> stack;  // (node, next input index)
    int count = 0;
    for (std::size_t o = 0; o < nouts; ++o) {
        int root = outs[o];
        if (!is_function(nodes[root].op) || seen[std::size_t(root)]) continue;
        seen[std::size_t(root)] = 1;
        stack.push_back({root, 0});
        while (!stack.empty()) {
            auto& [f, k] = stack.back();
            const auto& nd = nodes[std::size_t(f)];
            if (k < nd.num_inputs) {
                int in = edges[std::size_t(nd.first_input + k)];
                ++k;
                if (is_function(nodes[std::size_t(in)].op) && !seen[std::size_t(in)]) {
                    seen[std::size_t(in)] = 1;
                    stack.push_back({in, 0});
                }
            } else {
                order[std::size_t(count++)] = f;
                stack.pop_back();
            }
        }
    }
    return count;
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

template <std::size_t N, std::size_t E, std::size_t O>
constexpr graph<N, E, O> freeze(const builder& b) {
    graph<N, E, O> g{};
    for (std::size_t i = 0; i < N; ++i) g.nodes[i] = b.nodes[i];
    for (std::size_t i = 0; i < b.edges.size(); ++i) g.edges[i] = b.edges[i];
    for (std::size_t i = 0; i < O; ++i) g.outputs[i] = b.outputs[i];
    g.num_order = visit_order(g.nodes, g.edges, g.outputs, O, g.order);
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
        builder b;
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
concept graph_type = requires { T::graph; T::graph.nodes; T::graph.order; };

}  // namespace kata
