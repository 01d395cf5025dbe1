// kata/converters/graph_converter.hpp
//
// kata::convert<Net, Mods...>: nnabla's GraphConverter(modifiers).convert(outputs) (docs/nnabla-semantics.md
// §1.1) as a new graph type.
//
//     using Folded = kata::convert<Net, kata::BatchNormalizationFoldingModifier{}>;
//     using Both   = kata::convert<Folded, kata::FusedBatchNormalizationModifier{}>;   // composes
//     kata::apply_conversion<Folded>(store);   // computes the folded parameters (apply_conversion.hpp)
//     kata::cpu::executor<Folded> run(store);
//
// Semantics: the modifiers are applied in order, each to the previous one's result; lists (values
// with expand(), kata::modifier_list) are flattened in place. Each pass visits the previous graph's
// reachable functions in nnabla's visit order and builds a fresh graph (function_modifier.hpp) in a
// kata::builder (std::vector, raw pointer loops: docs/toolchain.md §4), by constant evaluation.
// Each pass is its own constant evaluation whose result is lifted into an intermediate graph type
// (detail::conversion_step), like kata::network, except that the pass runs once: its result goes,
// uncompacted, into arrays of a capacity derived from its source graph (run again only if it outgrew
// them); two more evaluations count what the outputs reach and copy that into the exact-size type.
// Why separate evaluations: compilers bound the work of each constant evaluation (g++
// -fconstexpr-ops-limit, clang -fconstexpr-steps), and a multi-pass pipeline over thousands of nodes
// exceeded the default bounds as a whole, then a single pass with its compaction did (issue 16;
// bench/clang_steps.py measures clang's steps per evaluation). Every step is
// O(N + E) in the graph besides what its modifier does per function. Errors recorded by a modifier or
// by a rebuilt op's shape checks (c.g.fail) stop the compilation with kata::invalid_graph<"message">.
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
    builder g;                         // the current graph (the previous pass's result), once a pass has run
    bool has_graph = false;            // false: the current graph is still the source type's lifted graph
    graph_view source{};               // the source type's lifted graph
    growable<derivation> derivations;  // growable, not std::vector: see scratch.hpp
    // Copy kept functions whose inputs did not change instead of rebuilding them (see run_pass); false
    // only in the test that checks the copy gives the same graphs as rebuilding.
    bool copy_unchanged = true;
};

// Copies a lifted graph into a builder (nodes, edges and outputs keep their ids).
template <class G>
constexpr void load_graph(const G& src, builder& b) {
    b.nodes.clear();
    b.edges.clear();
    b.outputs.clear();
    b.nodes.reserve(src.nodes.size());
    b.edges.reserve(src.edges.size());
    for (std::size_t i = 0; i < src.nodes.size(); ++i) b.nodes.push_back(src.nodes[i]);
    for (std::size_t i = 0; i < src.edges.size(); ++i) b.edges.push_back(src.edges[i]);
    for (std::size_t i = 0; i < src.outputs.size(); ++i) b.outputs.push_back(src.outputs[i]);
    b.parameter_index_stale();
}

// Carries a leaf of the previous graph into the new one (parameters by name: two references to one
// key become one node, as nnabla's registry does).
constexpr var carry_leaf(builder& g, const node& n) {
    if (n.op == op_kind::input) return g.input(n.name.view(), n.shape, n.lay, n.type);
    return g.carry_parameter(n);
}

// Modifiers naming graph inputs provide num_named_inputs(), named_input(i) (empty: unused slot) and
// modifier_name (optionally renamed_input(i): the name input i gets, which also satisfies the check). Every given name must be an input of `src`; otherwise records "<Modifier>: no input of
// the graph is named 'image'; its inputs: 'x' (1,3,32,32), ..." and returns false.
template <class M>
constexpr bool check_named_inputs(builder& out, const pass_source& src, const M& m) {
    for (int i = 0; i < m.num_named_inputs(); ++i) {
        const std::string_view want = m.named_input(i);
        if (want.empty()) continue;
        // A renaming substitution already applied (its new name present) is satisfied: converting twice
        // with one IdentityModifier changes nothing instead of failing.
        std::string_view renamed{};
        if constexpr (requires { m.renamed_input(0); }) renamed = m.renamed_input(i);
        bool found = false;
        for (std::size_t j = 0; j < src.n && !found; ++j)
            found = src.nodes[j].op == op_kind::input &&
                    (src.nodes[j].name.view() == want ||
                     (!renamed.empty() && src.nodes[j].name.view() == renamed));
        if (found) continue;
        message_string msg(M::modifier_name);
        msg.append(": no input of the graph is named '").append(want).append("'; its inputs:");
        bool first = true;
        for (std::size_t j = 0; j < src.n; ++j) {
            if (src.nodes[j].op != op_kind::input) continue;
            msg.append(first ? " '" : ", '").append(src.nodes[j].name.view()).append("' ");
            append_shape(msg, src.nodes[j].shape);
            first = false;
        }
        if (first) msg.append(" none");
        out.fail(msg);
        return false;
    }
    return true;
}

// One modifier over the previous graph `src` (a builder or the lifted source graph, see pass_source).
// O(N + E) besides what the modifier itself does per function.
template <class M>
constexpr builder run_pass(const pass_source& src, const int* prev_outputs, std::size_t num_outputs, M& m,
                           growable<derivation>& ders, bool copy_unchanged) {
    int max_inputs = 1;
    for (int t = 0; t < src.num_order; ++t) {
        const int k = src.nodes[src.order[t]].num_inputs;
        if (k > max_inputs) max_inputs = k;
    }
    const std::size_t n = src.n;
    // The new graph is about as large as the previous one; reserving avoids copying nodes on growth.
    builder out(n + n / 2 + 64, 2 * n + 64);
    scratch<int> map(n, -1);
    modify_context c(out, src, map, ders, copy_unchanged);
    const node* nd = src.nodes;
    int* mp = map.data();
    // 1. leaves: every input, and every parameter a reachable function reads, in creation order
    for (std::size_t i = 0; i < n; ++i) {
        if (!is_leaf(nd[i].op) || (nd[i].op == op_kind::parameter && !src.reach[i])) continue;
        var v = keep;
        if constexpr (requires(function_ref r) { m.map_leaf(c, r); })
            v = m.map_leaf(c, function_ref(&src, int(i)));
        if (is_keep(v)) v = carry_leaf(out, nd[i]);
        if (v.g != &out || v.id < 0) {
            message_string msg("a modifier's map_leaf returned an invalid variable for '");
            msg.append(nd[i].name.view()).append("'");
            out.fail(msg);
            return out;
        }
        mp[i] = v.id;
    }
    // A modifier that selects graph inputs by name (ChannelLast/ChannelFirst, IdentityModifier) and is
    // given a name no input has would convert nothing, silently: a compile error listing the inputs.
    if constexpr (requires { m.named_input(0); })
        if (!check_named_inputs(out, src, m)) return out;
    // 2. functions in nnabla's visit order
    scratch<var> ins_v{std::size_t(max_inputs)};
    var* ins = ins_v.data();
    for (int t = 0; t < src.num_order; ++t) {
        const int f = src.order[t];
        const node& fn = nd[f];
        const int nin = fn.num_inputs;
        for (int k = 0; k < nin; ++k) ins[k] = var{&out, mp[src.edges[fn.first_input + k]]};
        const function_ref fr(&src, f);
        const std::span<const var> sp(ins, std::size_t(nin));
        var r = m.modify(c, fr, sp);
        if (is_keep(r)) r = c.rebuild(fr, sp);  // copied when its inputs are unchanged
        if (r.g != &out || r.id < 0) {
            message_string msg(
                "a modifier returned an invalid variable (not kata::keep nor a variable of the new "
                "graph) for ");
            msg.append(type_name(fn.op)).append(" in scope '").append(fn.name.view()).append("'");
            out.fail(msg);
            return out;
        }
        mp[f] = r.id;
        if (out.failed) return out;
    }
    // 3. outputs, in the original order
    for (std::size_t o = 0; o < num_outputs; ++o) {
        const int id = mp[prev_outputs[o]];
        out.outputs.push_back(id >= 0 ? id : carry_leaf(out, nd[prev_outputs[o]]).id);
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
        if (st.has_graph) {
            const pass_source src(st.g);
            builder next = run_pass(src, st.g.outputs.data(), st.g.outputs.size(), local, st.derivations,
                                    st.copy_unchanged);
            st.g = static_cast<builder&&>(next);
        } else {
            const pass_source src(st.source);
            st.g = run_pass(src, st.source.outputs, st.source.num_outputs, local, st.derivations,
                            st.copy_unchanged);
            st.has_graph = true;
        }
    }
}

// The nodes a compacted graph keeps: the reachable functions, the leaves they read and every graph
// input. nid[i] (n entries, all -1 on entry) becomes node i's id in the compacted graph, in creation
// order; returns the number kept. O(N + E).
constexpr int number_kept(std::span<const node> nodes, std::span<const int> edges, std::span<const int> outs,
                          int* nid) {
    const std::size_t n = nodes.size();
    scratch<int> order(n);
    const int num_order = visit_order(nodes, edges, outs, outs.size(), order);
    const node* nd = nodes.data();
    const int* ed = edges.data();
    const int* ord = order.data();
    for (int t = 0; t < num_order; ++t) {
        const node& f = nd[ord[t]];
        nid[ord[t]] = 0;
        for (int k = 0; k < f.num_inputs; ++k) nid[ed[f.first_input + k]] = 0;
    }
    int kept = 0;
    for (std::size_t i = 0; i < n; ++i)
        if (nid[i] == 0 || nd[i].op == op_kind::input) nid[i] = kept++;
    return kept;
}

// Keeps reachable functions, the leaves they read and every graph input, in place; ids stay in
// creation order. O(N + E), one copy of each kept node that moves down.
constexpr void compact(builder& b) {
    const std::size_t n = b.nodes.size();
    scratch<int> nid_v(n, -1);
    int* nid = nid_v.data();
    const int kept = number_kept({b.nodes.data(), n}, {b.edges.data(), b.edges.size()},
                                 {b.outputs.data(), b.outputs.size()}, nid);
    node* nd = b.nodes.data();
    const int* ed = b.edges.data();
    growable<int> edges;
    edges.reserve(b.edges.size());
    for (std::size_t i = 0; i < n; ++i) {
        if (nid[i] < 0) continue;
        const int first = int(edges.size());
        for (int k = 0; k < nd[i].num_inputs; ++k) edges.push_back(nid[ed[nd[i].first_input + k]]);
        if (std::size_t(nid[i]) != i) nd[nid[i]] = nd[i];
        nd[nid[i]].first_input = first;
    }
    b.nodes.erase(b.nodes.begin() + kept, b.nodes.end());
    b.edges = static_cast<growable<int>&&>(edges);
    for (int& o : b.outputs) o = nid[o];
    b.parameter_index_stale();
}

// The passes of a conversion, without compacting the result (what the outputs do not reach is still
// there: the previous graph's leaves that a folded function no longer reads, ...).
template <class Net, auto... Mods>
constexpr conversion_state run_passes(bool copy_unchanged = true) {
    conversion_state st;
    st.copy_unchanged = copy_unchanged;
    st.source = graph_view(Net::graph);
    if constexpr (requires { Net::derivations; }) {
        st.derivations.reserve(Net::derivations.size() + Net::graph.nodes.size() / 2 + 16);
        for (std::size_t i = 0; i < Net::derivations.size(); ++i)
            st.derivations.push_back(Net::derivations[i]);
    } else {
        st.derivations.reserve(Net::graph.nodes.size() / 2 + 16);
    }
    (run_item(st, Mods), ...);
    if (!st.has_graph) load_graph(Net::graph, st.g);  // no modifier ran
    return st;
}

// The passes of a conversion and the compacted result (the graph the converted type lifts).
template <class Net, auto... Mods>
constexpr conversion_state run_conversion(bool copy_unchanged = true) {
    conversion_state st = run_passes<Net, Mods...>(copy_unchanged);
    compact(st.g);
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

// The result of a conversion step's passes, uncompacted, in arrays of a given capacity, plus its
// sizes (`fits`: whether they fit the capacity; otherwise only the sizes are set).
template <std::size_t N, std::size_t E, std::size_t O, std::size_t D>
struct conversion_buffer {
    conversion_sizes sizes{};
    bool fits = false;
    std::array<node, N> nodes{};
    std::array<int, E> edges{};
    std::array<int, O> outputs{};
    std::array<derivation, D> derivations{};
};

// Copies [from, from + n) to `to` (raw pointers: std::array's operator[] costs clang evaluation steps
// per element).
template <class T>
constexpr void copy_n(const T* from, std::size_t n, T* to) {
    for (std::size_t i = 0; i < n; ++i) to[i] = from[i];
}

template <std::size_t N, std::size_t E, std::size_t O, std::size_t D, class Net, auto... Mods>
constexpr conversion_buffer<N, E, O, D> run_conversion_buffered() {
    conversion_buffer<N, E, O, D> r;
    auto st = run_passes<Net, Mods...>();
    r.sizes = conversion_sizes{st.g.nodes.size(),     st.g.edges.size(), st.g.outputs.size(),
                               st.derivations.size(), st.g.error,        st.g.failed};
    r.fits = st.g.nodes.size() <= N && st.g.edges.size() <= E && st.g.outputs.size() <= O &&
             st.derivations.size() <= D;
    if (!r.fits || st.g.failed) return r;
    copy_n(st.g.nodes.data(), st.g.nodes.size(), r.nodes.data());
    copy_n(st.g.edges.data(), st.g.edges.size(), r.edges.data());
    copy_n(st.g.outputs.data(), st.g.outputs.size(), r.outputs.data());
    copy_n(st.derivations.data(), st.derivations.size(), r.derivations.data());
    return r;
}

// The sizes of a pass's result once compacted (the exact sizes of the lifted type).
template <class Buffer>
constexpr conversion_sizes compacted_sizes(const Buffer& b) {
    conversion_sizes s = b.sizes;
    if (s.failed) return s;
    scratch<int> nid_v(s.nodes, -1);
    int* nid = nid_v.data();
    const node* nd = b.nodes.data();
    s.nodes = std::size_t(number_kept({nd, b.sizes.nodes}, {b.edges.data(), b.sizes.edges},
                                      {b.outputs.data(), b.sizes.outputs}, nid));
    s.edges = 0;
    for (std::size_t i = 0; i < b.sizes.nodes; ++i)
        if (nid[i] >= 0) s.edges += std::size_t(nd[i].num_inputs);
    return s;
}

// The compacted graph of a pass's result, in its exact-size type.
template <std::size_t N, std::size_t E, std::size_t O, std::size_t D, class Buffer>
constexpr conversion_result<N, E, O, D> compacted_copy(const Buffer& b) {
    conversion_result<N, E, O, D> r;
    const std::size_t n = b.sizes.nodes;
    scratch<int> nid_v(n, -1);
    int* nid = nid_v.data();
    const node* nd = b.nodes.data();
    const int* ed = b.edges.data();
    number_kept({nd, n}, {ed, b.sizes.edges}, {b.outputs.data(), O}, nid);
    node* to = r.graph.nodes.data();
    int* to_edges = r.graph.edges.data();
    int edges = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (nid[i] < 0) continue;
        node& k = to[nid[i]];
        k = nd[i];
        k.first_input = edges;
        for (int j = 0; j < k.num_inputs; ++j) to_edges[edges++] = nid[ed[nd[i].first_input + j]];
    }
    int* to_outputs = r.graph.outputs.data();
    for (std::size_t o = 0; o < O; ++o) to_outputs[o] = nid[b.outputs[o]];
    finish_graph(r.graph);
    copy_n(b.derivations.data(), D, r.derivations.data());
    return r;
}

template <class Net>
constexpr std::size_t source_derivations() {
    if constexpr (requires { Net::derivations; })
        return Net::derivations.size();
    else
        return 0;
}

// The uncompacted result of ONE conversion step's passes (see conversion_step), in a buffer: first
// with capacities derived from the source graph, which fit unless a modifier grows the graph by more
// than half (then the passes run once more, into a buffer of the exact sizes).
template <graph_type Net, auto... Mod>
struct conversion_pass {
    static constexpr std::size_t nodes_ = Net::graph.nodes.size();
    struct first {
        static constexpr auto value =
            run_conversion_buffered<nodes_ + nodes_ / 2 + 64, 2 * Net::graph.edges.size() + 128,
                                    // + one per two nodes: a pass may add outputs (Int8CalibrationModifier:
                                    // one per layer)
                                    Net::graph.outputs.size() + nodes_ / 2 + 8,
                                    source_derivations<Net>() + nodes_ / 2 + 16, Net, Mod...>();
    };
    template <conversion_sizes S>
    struct exact {
        static constexpr auto value = run_conversion_buffered<S.nodes, (S.edges ? S.edges : 1), S.outputs,
                                                              S.derivations, Net, Mod...>();
    };
    using holder =
        std::conditional_t<first::value.fits || first::value.sizes.failed, first, exact<first::value.sizes>>;
};

// One step of a conversion: the graph type `Net` after ONE modifier pass (or, without a modifier, just
// compacted), lifted into a type by its own constant evaluations: the passes (conversion_pass), the
// compacted sizes, the compacted copy. Why three: compilers bound each constant evaluation (g++
// -fconstexpr-ops-limit, clang -fconstexpr-steps), and compacting a 3,201-node graph costs ~0.15
// million clang steps that the pass's own evaluation does not have to spare (issue 16).
template <graph_type Net, auto... Mod>
struct conversion_step {
    static_assert(sizeof...(Mod) <= 1);

private:
    static constexpr const auto& pass_ = conversion_pass<Net, Mod...>::holder::value;

public:
    static constexpr conversion_sizes sizes = compacted_sizes(pass_);
    static_assert(invalid_graph<sizes.error>::ok);

private:
    static constexpr std::size_t E_ = sizes.edges ? sizes.edges : 1;
    static constexpr auto result_ = [] {
        if constexpr (sizes.failed)
            return conversion_result<sizes.nodes, E_, sizes.outputs, sizes.derivations>{};
        else
            return compacted_copy<sizes.nodes, E_, sizes.outputs, sizes.derivations>(pass_);
    }();

public:
    static constexpr auto graph = result_.graph;
    static constexpr auto derivations = result_.derivations;
};

// The modifier values of a conversion flattened into single passes: lists (kata::modifier_list) and
// values with expand() are replaced by their elements, in order.
template <auto... Ms>
struct pass_list {};

template <class A, class B>
struct concat_passes;
template <auto... A, auto... B>
struct concat_passes<pass_list<A...>, pass_list<B...>> {
    using type = pass_list<A..., B...>;
};

template <auto M>
struct flatten_modifier {
    using type = pass_list<M>;
};
template <auto L>
struct flatten_list {  // L: a kata::modifier_list value
    using type = pass_list<>;
};
template <auto L>
requires requires { L.head; }
struct flatten_list<L> {
    using type = typename concat_passes<typename flatten_modifier<L.head>::type,
                                        typename flatten_list<L.tail>::type>::type;
};
template <auto M>
requires is_modifier_list<std::remove_cvref_t<decltype(M)>>::value struct flatten_modifier<M> {
    using type = typename flatten_list<M>::type;
};
template <auto M>
requires(!is_modifier_list<std::remove_cvref_t<decltype(M)>>::value &&
         modifier_sequence<std::remove_cvref_t<decltype(M)>>) struct flatten_modifier<M> {
    using type = typename flatten_modifier<M.expand()>::type;
};

template <auto... Ms>
struct flatten_modifiers {
    using type = pass_list<>;
};
template <auto M, auto... Ms>
struct flatten_modifiers<M, Ms...> {
    using type = typename concat_passes<typename flatten_modifier<M>::type,
                                        typename flatten_modifiers<Ms...>::type>::type;
};

// The last step of the chain Net -> pass 1 -> pass 2 -> ...
template <class Net, class Passes>
struct conversion_chain;
template <class Net>
struct conversion_chain<Net, pass_list<>> {
    using type = conversion_step<Net>;  // no modifier: the graph compacted
};
template <class Net, auto M>
struct conversion_chain<Net, pass_list<M>> {
    using type = conversion_step<Net, M>;
};
template <class Net, auto M, auto M2, auto... Ms>
struct conversion_chain<Net, pass_list<M, M2, Ms...>> {
    using type = typename conversion_chain<conversion_step<Net, M>, pass_list<M2, Ms...>>::type;
};

}  // namespace detail

// The type of a converted network (see the header comment). Use the alias kata::convert.
//
// Each modifier pass is its own constant evaluation, lifted into an intermediate graph type
// (detail::conversion_step) that the next pass reads: compilers limit the work of ONE constant
// evaluation (g++'s -fconstexpr-ops-limit, clang's -fconstexpr-steps), so a pipeline evaluated as a
// whole hit the default limits for graphs of a few thousand nodes where each pass alone does not
// (issue 16). The result is the same as one evaluation of the whole pipeline: a pass visits only the
// reachable functions and the leaves they read (plus every graph input), in creation and visit order,
// which compacting the intermediate graph preserves.
template <graph_type Net, auto... Mods>
struct converted {
    using source = Net;

private:
    using last_ =
        typename detail::conversion_chain<Net, typename detail::flatten_modifiers<Mods...>::type>::type;

public:
    static constexpr detail::conversion_sizes sizes = last_::sizes;
    static constexpr auto graph = last_::graph;
    static constexpr auto derivations = last_::derivations;
};

template <graph_type Net, auto... Mods>
using convert = converted<Net, Mods...>;

}  // namespace kata
