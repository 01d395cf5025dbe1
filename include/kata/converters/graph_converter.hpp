// kata/converters/graph_converter.hpp
//
// kata::convert<Net, Mods...>: nnabla's GraphConverter(modifiers).convert(outputs) (spec 1.1) as a
// new graph type.
//
//     using Folded = kata::convert<Net, kata::BatchNormalizationFoldingModifier{}>;
//     using Both   = kata::convert<Folded, kata::FusedBatchNormalizationModifier{}>;   // composes
//     kata::apply_conversion<Folded>(store);   // computes the folded parameters (apply_conversion.hpp)
//     kata::cpu::executor<Folded> run(store);
//
// Semantics: the modifiers are applied in order, each to the previous one's result; lists (values
// with expand(), kata::modifier_list) are flattened in place. Each pass visits the previous graph's
// reachable functions in nnabla's visit order and builds a fresh graph (function_modifier.hpp). The
// whole pipeline runs inside one constant evaluation over kata::builder values (std::vector, raw
// index loops: TOOLCHAIN.md trap 4) and is lifted into a `kata::graph<N, E, O>` once, exactly like
// kata::network, except that the pipeline runs once: its result goes into arrays of a capacity
// derived from the source graph and is copied into the exact-size type (run again only if it
// outgrew them). Errors recorded by a modifier or by a rebuilt op's shape checks (c.g.fail) stop the
// compilation with kata::invalid_graph<"message">.
//
// The converted type exposes:
//     static constexpr auto graph         kata::graph<N, E, O>: satisfies kata::graph_type, so it works
//                                         with executors, viewers, and as the Net of another convert;
//     static constexpr auto derivations   std::array<kata::derivation, D>: the value transforms of the
//                                         whole chain (a converted Net's own derivations first).
// The lifted graph keeps only what the outputs reach, plus every graph input (so an executor of the
// converted type takes the same inputs in the same order, unless a modifier substituted them).
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <type_traits>
#include <vector>

#include "../core/graph.hpp"
#include "function_modifier.hpp"

namespace kata {

namespace detail {

struct conversion_state {
    builder g;  // the current graph (the previous pass's result)
    std::vector<derivation> derivations;
};

// Copies a lifted graph into a builder (nodes, edges and outputs keep their ids).
template <class G>
constexpr void load_graph(const G& src, builder& b) {
    b.nodes.clear();
    b.edges.clear();
    b.outputs.clear();
    for (std::size_t i = 0; i < src.nodes.size(); ++i) b.nodes.push_back(src.nodes[i]);
    for (std::size_t i = 0; i < src.edges.size(); ++i) b.edges.push_back(src.edges[i]);
    for (std::size_t i = 0; i < src.outputs.size(); ++i) b.outputs.push_back(src.outputs[i]);
}

// Carries a leaf of the previous graph into the new one (parameters by name: two references to one
// key become one node, as nnabla's registry does).
constexpr var carry_leaf(builder& g, const node& n) {
    if (n.op == op_kind::input) return g.input(n.name.view(), n.shape, n.lay, n.type);
    var v = g.parameter(n.name.view(), n.shape, n.init, n.need_grad);
    return v;
}

template <class M>
constexpr builder run_pass(const builder& prev, M& m, std::vector<derivation>& ders) {
    const pass_source src(prev);
    builder out;
    std::vector<int> map(prev.nodes.size(), -1);
    modify_context c(out, src, map, ders);
    c.set_first_own(ders.size());
    const node* nd = prev.nodes.data();
    const std::size_t n = prev.nodes.size();
    // 1. leaves: every input, and every parameter a reachable function reads, in creation order
    for (std::size_t i = 0; i < n; ++i) {
        if (!is_leaf(nd[i].op) || (nd[i].op == op_kind::parameter && !src.reach[i])) continue;
        var v = keep;
        if constexpr (requires(function_ref r) { m.map_leaf(c, r); }) v = m.map_leaf(c, function_ref(&src, int(i)));
        if (is_keep(v)) v = carry_leaf(out, nd[i]);
        if (v.g != &out || v.id < 0) {
            message_string msg("a modifier's map_leaf returned an invalid variable for '");
            msg.append(nd[i].name.view()).append("'");
            out.fail(msg);
            return out;
        }
        map[i] = v.id;
    }
    // 2. functions in nnabla's visit order
    std::vector<var> ins;
    ins.reserve(16);
    for (int t = 0; t < src.num_order; ++t) {
        const int f = src.order[std::size_t(t)];
        const node& fn = nd[f];
        ins.clear();
        for (int k = 0; k < fn.num_inputs; ++k) {
            const int in = prev.edges[std::size_t(fn.first_input + k)];
            ins.push_back(var{&out, map[std::size_t(in)]});
        }
        const function_ref fr(&src, f);
        const std::span<const var> sp(ins.data(), ins.size());
        var r = m.modify(c, fr, sp);
        if (is_keep(r)) r = c.rebuild(fr, sp);
        if (r.g != &out || r.id < 0) {
            message_string msg("a modifier returned an invalid variable (not kata::keep nor a variable of the new "
                               "graph) for ");
            msg.append(type_name(fn.op)).append(" in scope '").append(fn.name.view()).append("'");
            out.fail(msg);
            return out;
        }
        map[std::size_t(f)] = r.id;
        if (out.failed) return out;
    }
    // 3. outputs, in the original order
    for (std::size_t o = 0; o < prev.outputs.size(); ++o) {
        const int id = map[std::size_t(prev.outputs[o])];
        out.outputs.push_back(id >= 0 ? id : carry_leaf(out, nd[prev.outputs[o]]).id);
    }
    if constexpr (requires { m.finish_up(); }) m.finish_up();
    return out;
}

template <class M>
struct is_modifier_list : std::false_type {};
template <class... Ms>
struct is_modifier_list<modifier_list<Ms...>> : std::true_type {};

template <class M>
constexpr void run_item(conversion_state& st, const M& m);

template <class... Ms>
constexpr void run_list(conversion_state& st, const modifier_list<Ms...>& l) {
    if constexpr (sizeof...(Ms) > 0) {
        run_item(st, l.head);
        run_list(st, l.tail);
    }
}

template <class M>
constexpr void run_item(conversion_state& st, const M& m) {
    if (st.g.failed) return;
    if constexpr (is_modifier_list<M>::value) {
        run_list(st, m);
    } else if constexpr (modifier_sequence<M>) {
        run_item(st, m.expand());
    } else {
        static_assert(function_modifier<M>,
                      "kata::convert: a modifier needs `constexpr kata::var modify(kata::modify_context&, "
                      "kata::function_ref, std::span<const kata::var>)` (or expand() for a list)");
        M local = m;  // fresh state for every conversion
        builder next = run_pass(st.g, local, st.derivations);
        st.g = static_cast<builder&&>(next);
    }
}

// Keeps reachable functions, the leaves they read and every graph input; ids stay in creation order.
constexpr builder compact(const builder& b) {
    const pass_source src(b);
    const std::size_t n = b.nodes.size();
    std::vector<int> nid(n, -1);
    builder r;
    for (std::size_t i = 0; i < n; ++i) {
        const node& x = b.nodes[i];
        if (!(src.reach[i] || x.op == op_kind::input)) continue;
        node y = x;
        y.first_input = int(r.edges.size());
        for (int k = 0; k < x.num_inputs; ++k) r.edges.push_back(nid[std::size_t(b.edges[std::size_t(x.first_input + k)])]);
        nid[i] = int(r.nodes.size());
        r.nodes.push_back(y);
    }
    for (int o : b.outputs) r.outputs.push_back(nid[std::size_t(o)]);
    r.error = b.error;
    r.failed = b.failed;
    return r;
}

template <class Net, auto... Mods>
constexpr conversion_state run_conversion() {
    conversion_state st;
    load_graph(Net::graph, st.g);
    if constexpr (requires { Net::derivations; }) {
        for (std::size_t i = 0; i < Net::derivations.size(); ++i) st.derivations.push_back(Net::derivations[i]);
    }
    (run_item(st, Mods), ...);
    st.g = compact(st.g);
    return st;
}

struct conversion_sizes {
    std::size_t nodes = 0, edges = 0, outputs = 0, derivations = 0;
    message_string error{};
    bool failed = false;
};

template <std::size_t N, std::size_t E, std::size_t O, std::size_t D>
struct conversion_result {
    kata::graph<N, E, O> graph{};
    std::array<derivation, D> derivations{};
};

// The whole conversion in ONE constant evaluation: the result in arrays of a generous capacity
// (derived from the source graph), plus the exact sizes. When it fits (always, unless modifiers grow
// the graph more than twofold), the exact-size type is copied out of it instead of running the
// pipeline a second time: the pipeline is the expensive part (about half of a converted ResNet-50
// translation unit's compile time), the copy is cheap.
template <std::size_t N, std::size_t E, std::size_t O, std::size_t D>
struct conversion_buffer {
    conversion_sizes sizes{};
    bool fits = false;
    std::array<node, N> nodes{};
    std::array<int, E> edges{};
    std::array<int, O> outputs{};
    std::array<derivation, D> derivations{};
};

template <std::size_t N, std::size_t E, std::size_t O, std::size_t D, class Net, auto... Mods>
constexpr conversion_buffer<N, E, O, D> run_conversion_buffered() {
    conversion_buffer<N, E, O, D> r;
    auto st = run_conversion<Net, Mods...>();
    r.sizes = conversion_sizes{st.g.nodes.size(), st.g.edges.size(), st.g.outputs.size(), st.derivations.size(),
                               st.g.error, st.g.failed};
    r.fits = st.g.nodes.size() <= N && st.g.edges.size() <= E && st.g.outputs.size() <= O &&
             st.derivations.size() <= D;
    if (!r.fits || st.g.failed) return r;
    for (std::size_t i = 0; i < st.g.nodes.size(); ++i) r.nodes[i] = st.g.nodes[i];
    for (std::size_t i = 0; i < st.g.edges.size(); ++i) r.edges[i] = st.g.edges[i];
    for (std::size_t i = 0; i < st.g.outputs.size(); ++i) r.outputs[i] = st.g.outputs[i];
    for (std::size_t i = 0; i < st.derivations.size(); ++i) r.derivations[i] = st.derivations[i];
    return r;
}

template <std::size_t N, std::size_t E, std::size_t O, std::size_t D, class Buffer>
constexpr conversion_result<N, E, O, D> copy_conversion(const Buffer& b) {
    conversion_result<N, E, O, D> r;
    for (std::size_t i = 0; i < N; ++i) r.graph.nodes[i] = b.nodes[i];
    for (std::size_t i = 0; i < b.sizes.edges; ++i) r.graph.edges[i] = b.edges[i];
    for (std::size_t i = 0; i < O; ++i) r.graph.outputs[i] = b.outputs[i];
    r.graph.num_order = visit_order(r.graph.nodes, r.graph.edges, r.graph.outputs, O, r.graph.order);
    for (std::size_t i = 0; i < D; ++i) r.derivations[i] = b.derivations[i];
    return r;
}

template <class Net>
constexpr std::size_t source_derivations() {
    if constexpr (requires { Net::derivations; }) return Net::derivations.size();
    else return 0;
}

}  // namespace detail

// The type of a converted network (see the header comment). Use the alias kata::convert.
template <graph_type Net, auto... Mods>
struct converted {
    using source = Net;

private:
    static constexpr std::size_t cap_nodes_ = 2 * Net::graph.nodes.size() + 64;
    static constexpr std::size_t cap_edges_ = 2 * Net::graph.edges.size() + 128;
    static constexpr std::size_t cap_outputs_ = Net::graph.outputs.size() + 8;
    static constexpr std::size_t cap_derivations_ = detail::source_derivations<Net>() + Net::graph.nodes.size() + 16;
    static constexpr auto buffer_ =
        detail::run_conversion_buffered<cap_nodes_, cap_edges_, cap_outputs_, cap_derivations_, Net, Mods...>();

public:
    static constexpr detail::conversion_sizes sizes = buffer_.sizes;
    static_assert(invalid_graph<sizes.error>::ok);

private:
    static constexpr std::size_t E_ = sizes.edges ? sizes.edges : 1;
    static constexpr auto result_ = [] {
        if constexpr (sizes.failed) {
            return detail::conversion_result<sizes.nodes, E_, sizes.outputs, sizes.derivations>{};
        } else if constexpr (buffer_.fits) {
            return detail::copy_conversion<sizes.nodes, E_, sizes.outputs, sizes.derivations>(buffer_);
        } else {
            // Grown beyond the buffer: run the pipeline again into the exact sizes.
            detail::conversion_result<sizes.nodes, E_, sizes.outputs, sizes.derivations> r;
            auto st = detail::run_conversion<Net, Mods...>();
            r.graph = detail::freeze<sizes.nodes, E_, sizes.outputs>(st.g);
            for (std::size_t i = 0; i < sizes.derivations; ++i) r.derivations[i] = st.derivations[i];
            return r;
        }
    }();

public:
    static constexpr auto graph = result_.graph;
    static constexpr auto derivations = result_.derivations;
};

template <graph_type Net, auto... Mods>
using convert = converted<Net, Mods...>;

}  // namespace kata
