// kata/converters/function_modifier.hpp
//
// The FunctionModifier interface (nnabla's graph_converters.FunctionModifier, docs/nnabla-semantics.md §1.2).
//
// A modifier is a structural aggregate (it is passed as a template argument to kata::convert) with
//
//     constexpr kata::var modify(kata::modify_context& c, kata::function_ref f,
//                                std::span<const kata::var> inputs);
//
// called for every function f of the ORIGINAL graph (the previous pass's result) in nnabla's visit
// order (docs/nnabla-semantics.md §0.3), with `inputs` = f's inputs mapped into the NEW graph `c.g` (a
// kata::builder): outputs of functions visited before are replaced by whatever modify returned for them;
// graph inputs and parameters are carried over (copied) into the new graph, parameters by name. modify
// returns
//     kata::keep      -> rebuild the same function type with the same arguments on `inputs`
//                        (shapes and layouts re-inferred, see rebuild.hpp);
//     a kata::var      -> the replacement of f's output: one of `inputs` (removes f), a newly built
//                        sub-graph in c.g, or a carried-over leaf.
// Optional members, detected by the converter:
//     constexpr kata::var map_leaf(kata::modify_context& c, kata::function_ref leaf);
//         called once per graph input (all of them) and per parameter that a reachable function
//         reads, in creation order, BEFORE the functions are visited; return kata::keep to copy the
//         leaf or a new var (IdentityModifier's input substitution, NoGradModifier's need_grad=false,
//         a channel-last input declaration...).
//     constexpr void finish_up();  called after the pass (nnabla's finish_up / __finish__).
//     constexpr auto expand() const;  makes the value a LIST of modifiers (nnabla's nested lists,
//         flattened in place): it returns a kata::modifier_list (or another modifier / list).
//
// The converter copies each modifier into a local before the pass, so modify may mutate member state
// (nnabla modifiers are stateful) and every modifier value is reusable: state never leaks from one
// conversion into the next (kata fixes upstream's single-use modifiers, docs/nnabla-semantics.md §10.7).
//
// Inside modify:
//     c.g                         the new graph (call F::/PF:: on vars of it)
//     c.rebuild(f, inputs[, a])   f's function type on new inputs (optionally with changed attributes)
//     c.mapped(ref)               the new var that an ORIGINAL node (function already visited, or a
//                                 carried leaf) was mapped to (kata::none if not yet)
//     c.parameter_scope(v)        nnabla's get_parameter_scope: "cb1/conv" for the parameter
//                                 "cb1/conv/W", "" for anything that is not a parameter
//     c.derive(d)                 creates the parameter d.target (shape d.shape) in the new graph and
//                                 records the value transform d (derivation.hpp); returns its var
//     c.fail(message)             a compile-time error naming the layer (raised when the type is lifted)
//     c.mark(ref), c.marked(ref)  a flag per node of the ORIGINAL graph, for decisions a later
//                                 function of the same pass reads (clear when the pass starts)
// function_ref (a node of the ORIGINAL graph): type(), attr() (nnabla's info.args), shape(), lay(),
// name() (the function's parameter scope; for leaves the input name or full parameter key),
// num_inputs(), input(k) (the original producer / leaf, a function_ref), num_consumers() and
// consumer(i) (nnabla's function_references: consumer functions in creation order), is_output().
#pragma once

#include <concepts>
#include <initializer_list>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "../core/graph.hpp"
#include "derivation.hpp"
#include "rebuild.hpp"

namespace kata {

// "Rebuild this function unchanged" (nnabla: modify returns None).
inline constexpr var keep{nullptr, -2};
constexpr bool is_keep(var v) { return v.id == -2 && v.g == nullptr; }

namespace detail {

// The previous pass's graph, with what modifiers query precomputed: visit order, reachability and
// consumers (CSR, creation order, reachable functions only; a function reading the same variable
// twice is listed once, as in nnabla's function_references). The graph is either a builder (the
// previous pass's result: the indexes are computed here, O(N + E)) or a lifted kata::graph (the
// first pass of a conversion reads the source type's arrays and their precomputed indexes in place:
// no copy of its nodes). Holds pointers into itself and into the graph: not copyable.
// A lifted graph's arrays and precomputed indexes, whatever its sizes.
struct graph_view {
    const node* nodes = nullptr;
    const int* edges = nullptr;
    const int* outputs = nullptr;
    std::size_t n = 0, num_outputs = 0;
    const int* order = nullptr;
    int num_order = 0;
    const int* consumer_first = nullptr;
    const int* consumer_ids = nullptr;

    constexpr graph_view() = default;
    template <std::size_t N, std::size_t E, std::size_t O>
    constexpr explicit graph_view(const graph<N, E, O>& g)
        : nodes(g.nodes.data()), edges(g.edges.data()), outputs(g.outputs.data()), n(N), num_outputs(O),
          order(g.order.data()), num_order(g.num_order), consumer_first(g.consumer_first.data()),
          consumer_ids(g.consumer_ids.data()) {}
};

struct pass_source {
    const node* nodes = nullptr;
    const int* edges = nullptr;
    std::size_t n = 0;
    const int* order = nullptr;
    int num_order = 0;
    const int* cons_first = nullptr;  // n + 1 entries
    const int* cons = nullptr;
    const char* reach = nullptr;  // reachable function / leaf read by one
    const char* out = nullptr;    // graph output

    constexpr explicit pass_source(const builder& g)
        : nodes(g.nodes.data()), edges(g.edges.data()), n(g.nodes.size()) {
        order_v = scratch<int>(n);
        num_order = visit_order(g.nodes, g.edges, g.outputs, g.outputs.size(), order_v);
        scratch<int> position(n);
        first_v = scratch<int>(n + 1);
        cons_v = scratch<int>(g.edges.size() + 1);
        index_graph(g.nodes, g.edges, order_v, num_order, position, first_v, cons_v);
        order = order_v.data();
        cons_first = first_v.data();
        cons = cons_v.data();
        mark(g.outputs.data(), g.outputs.size());
    }
    constexpr explicit pass_source(const graph_view& g)
        : nodes(g.nodes), edges(g.edges), n(g.n), order(g.order), num_order(g.num_order),
          cons_first(g.consumer_first), cons(g.consumer_ids) {
        mark(g.outputs, g.num_outputs);
    }
    pass_source(const pass_source&) = delete;
    pass_source& operator=(const pass_source&) = delete;

private:
    constexpr void mark(const int* outputs, std::size_t num_outputs) {
        reach_v = scratch<char>(n);
        out_v = scratch<char>(n);
        char* r = reach_v.data();
        for (std::size_t o = 0; o < num_outputs; ++o) out_v[std::size_t(outputs[o])] = 1;
        // reachable functions, and the leaves they read (carried over into the next graph)
        for (int t = 0; t < num_order; ++t) {
            const int f = order[t];
            r[f] = 1;
            const node& fn = nodes[f];
            for (int k = 0; k < fn.num_inputs; ++k) r[edges[fn.first_input + k]] = 1;
        }
        reach = r;
        out = out_v.data();
    }

    // scratch, not std::vector: see scratch.hpp (clang's per-element evaluation steps).
    scratch<int> order_v, first_v, cons_v;
    scratch<char> reach_v, out_v;
};

// A function that a modifier keeps, on new inputs with the same shape, dtype and layout as its old ones
// (functions where they were functions, the same kind of leaf where they were leaves): rebuilding it
// (its F:: definition: shape inference and every check) gives the node it was, so it is copied with its
// new input ids instead. Why: rebuilding costs
// hundreds of constant-evaluation steps per function, and most functions of most passes are kept
// unchanged (AddBias and BN folding touch a few kinds; a folded convolution reads a
// folded weight of the weight's shape); clang bounds every evaluation at 2^20 steps
// (issue 16). A function with any changed input (another shape, layout or kind) is rebuilt as before.
constexpr bool inputs_unchanged(const builder& out, const pass_source& src, const node& fn,
                                std::span<const var> ins) {
    // none: rebuild reports it (a function needs an input); another count: another function
    if (fn.num_inputs == 0 || ins.size() != std::size_t(fn.num_inputs)) return false;
    for (int k = 0; k < fn.num_inputs; ++k) {
        if (ins[k].g != &out || ins[k].id < 0) return false;  // rebuild reports it
        const node& now = out.nodes[std::size_t(ins[k].id)];
        const node& was = src.nodes[src.edges[fn.first_input + k]];
        // The op of a FUNCTION input does not matter (F:: definitions read their inputs' shapes, dtypes
        // and layouts only: a ReLU reading a folded convolution instead of its batch norm is copied);
        // a leaf stays the same kind of leaf.
        const bool same_kind = now.op == was.op || (!is_leaf(now.op) && !is_leaf(was.op));
        if (!same_kind || now.type != was.type || now.lay != was.lay || !(now.shape == was.shape))
            return false;
    }
    return true;
}
constexpr var copy_function(builder& out, const node& fn, const var* ins) {
    const int first = int(out.edges.size());
    for (int k = 0; k < fn.num_inputs; ++k) out.edges.push_back(ins[k].id);
    out.nodes.push_back(fn);
    out.nodes.back().first_input = first;
    return var{&out, int(out.nodes.size()) - 1};
}

}  // namespace detail

// A node (function or leaf) of the graph a modifier is visiting (the previous pass's result).
class function_ref {
public:
    constexpr function_ref() = default;
    constexpr function_ref(const detail::pass_source* s, int id) : s_(s), id_(id) {}

    constexpr bool valid() const { return s_ != nullptr && id_ >= 0; }
    constexpr int id() const { return id_; }
    constexpr const node& get() const { return s_->nodes[id_]; }
    constexpr op_kind type() const { return get().op; }
    constexpr std::string_view type_name() const { return kata::type_name(get().op); }
    constexpr const attributes& attr() const { return get().attr; }
    constexpr const shape_t& shape() const { return get().shape; }
    constexpr layout lay() const { return get().lay; }
    constexpr int ndim() const { return get().shape.rank; }
    // Functions: the parameter scope they were created in ("cb1/conv"); leaves: input name or the
    // full parameter key ("cb1/conv/W").
    constexpr std::string_view name() const { return get().name.view(); }
    constexpr bool is_leaf() const { return kata::is_leaf(get().op); }
    constexpr bool is_parameter() const { return get().op == op_kind::parameter; }
    constexpr bool is_input() const { return get().op == op_kind::input; }

    constexpr int num_inputs() const { return get().num_inputs; }
    constexpr int input_id(int k) const { return s_->edges[get().first_input + k]; }
    constexpr function_ref input(int k) const { return {s_, input_id(k)}; }
    constexpr const shape_t& input_shape(int k) const { return input(k).shape(); }

    // nnabla's function_references of this node's output: consumer functions in creation order.
    constexpr int num_consumers() const { return s_->cons_first[id_ + 1] - s_->cons_first[id_]; }
    constexpr function_ref consumer(int i) const { return {s_, s_->cons[s_->cons_first[id_] + i]}; }
    constexpr bool is_output() const { return s_->out[id_] != 0; }

    constexpr bool operator==(const function_ref& o) const { return s_ == o.s_ && id_ == o.id_; }

private:
    const detail::pass_source* s_ = nullptr;
    int id_ = -1;
};

// What modify() gets besides the function: the new graph and the converter's services.
class modify_context {
public:
    builder& g;  // the new graph

    constexpr modify_context(builder& nb, const detail::pass_source& src, detail::scratch<int>& map,
                             detail::growable<derivation>& ders, bool copy_unchanged = true)
        : g(nb), src_(&src), map_(&map), ders_(&ders), copy_unchanged_(copy_unchanged) {
        own_.reserve(src.n / 2 + 16);  // derived parameters: about one per two nodes at most (no regrowth)
        marks_ = detail::scratch<char>(src.n);
    }

    // f's function type with f's arguments (or `a`) on `inputs`, in f's parameter scope. On inputs
    // that are the same kind of node with the same shape, dtype and layout as f's own (a folded weight
    // replacing a weight), f is copied with the new input ids: the node rebuilding gives, for a
    // fraction of the evaluation steps (see detail::inputs_unchanged).
    constexpr var rebuild(function_ref f, std::span<const var> inputs) {
        if (copy_unchanged_ && detail::inputs_unchanged(g, *src_, f.get(), inputs))
            return detail::copy_function(g, f.get(), inputs.data());
        return kata::rebuild(g, f.type(), f.attr(), inputs, f.name());
    }
    constexpr var rebuild(function_ref f, std::span<const var> inputs, const attributes& a) {
        return kata::rebuild(g, f.type(), a, inputs, f.name());
    }
    constexpr var rebuild(function_ref f, std::initializer_list<var> inputs) {
        return rebuild(f, std::span<const var>(inputs.begin(), inputs.size()));
    }

    // The new var an original node was mapped to (a visited function or a carried leaf), or none.
    constexpr var mapped(function_ref old) const {
        const int id = (*map_)[std::size_t(old.id())];
        return id < 0 ? none : var{&g, id};
    }

    // nnabla's get_parameter_scope(v): the parameter key without its last component, "" otherwise.
    // (kata: also for need_grad=false parameters, which upstream misses.)
    constexpr name_string parameter_scope(var v) const {
        if (v.g != &g || v.id < 0) return {};
        const node& n = g.nodes[std::size_t(v.id)];
        if (n.op != op_kind::parameter) return {};
        // The key copied whole and cut at its last '/': a character loop and string_view::rfind cost
        // clang evaluation steps per character (-fconstexpr-steps, issue 16).
        name_string r = n.name;
        std::size_t p = r.length;
        while (p > 0 && r.chars[p - 1] != '/') --p;
        if (p == 0) return {};
        r.truncate(p - 1);
        return r;
    }
    // "<scope>/<name>" (or "<name>" at the root).
    static constexpr name_string join(std::string_view scope, std::string_view name) {
        name_string r{scope};
        if (!r.empty()) r.append('/');
        r.append(name);
        return r;
    }
    // A literal name: its length is known (a string_view from a pointer counts characters, one clang
    // evaluation step each).
    template <std::size_t L>
    static constexpr name_string join(std::string_view scope, const char (&name)[L]) {
        return join(scope, std::string_view(name, L - 1));
    }

    // Creates parameter d.target (shape d.shape, d.need_grad) in the new graph and records d. Deriving
    // the same target twice with the same record returns the same parameter (weight sharing);
    // a different record, or a name that is already an ordinary parameter of the graph, is an error.
    constexpr var derive(const derivation& d) {
        if (d.target.overflowed || d.target.empty()) {
            message_string m("derived parameter name is empty or too long: '");
            m.append(d.target.view()).append("'");
            g.fail(m);
        }
        // This pass's derivations are indexed by target name (a scan made a pass O(N^2), issue 16).
        const std::string_view target = d.target.view();
        const std::uint64_t h = detail::hash_string(target);
        const derivation* ds = ders_->data();
        const std::size_t slot = own_.find(h, [&](int i) { return ds[i].target.view() == target; });
        if (const int i = own_.id_at(slot); i >= 0) {
            if (!(ds[i] == d)) {
                message_string m("derived parameter '");
                m.append(target).append("' is produced twice with different values (shared weights "
                                        "folded with different batch norms?)");
                g.fail(m);
            }
            return g.parameter_at(d.target, d.shape, {}, d.need_grad);
        }
        const std::size_t before = g.nodes.size();
        var v = g.parameter_hashed(d.target, h, d.shape, {}, d.need_grad);
        if (g.nodes.size() == before) {
            message_string m("derived parameter '");
            m.append(target).append("' collides with an existing parameter of the graph");
            g.fail(m);
        }
        own_.insert(slot, h, int(ders_->size()));
        ders_->push_back(d);
        return v;
    }

    constexpr void fail(const message_string& m) { g.fail(m); }

    // One flag per node of the visited graph that a modifier may set and read during its pass (a
    // decision taken at one function that a later one needs: BN folding marks the folded producer that
    // the batch norm visited next must remove). All clear when the pass starts.
    constexpr void mark(function_ref f) { marks_[std::size_t(f.id())] = 1; }
    constexpr bool marked(function_ref f) const { return f.valid() && marks_[std::size_t(f.id())] != 0; }

    // Whether parameter `key` of the visited graph was created by a derivation of an earlier pass (a
    // converter before this one in the same conversion chain, or the converted network's own).
    constexpr bool derived_before(std::string_view key) const {
        for (const derivation& d : *ders_)
            if (d.target.view() == key) return true;
        return false;
    }

    constexpr const detail::pass_source& source() const { return *src_; }

private:
    const detail::pass_source* src_;
    detail::scratch<int>* map_;
    detail::growable<derivation>* ders_;
    bool copy_unchanged_;
    detail::scratch<char> marks_;  // mark() / marked()
    detail::hash_index own_;       // target name -> index in *ders_, for the derivations of this pass
};

// The interface every (non-list) modifier satisfies.
template <class M>
concept function_modifier = requires(M m, modify_context& c, function_ref f, std::span<const var> in) {
    { m.modify(c, f, in) } -> std::convertible_to<var>;
};

// A modifier that stands for a list of modifiers (nnabla's nested lists).
template <class M>
concept modifier_sequence = requires(const M& m) {
    m.expand();
};

// A structural list of modifiers, applied in order (nested lists are flattened).
template <class... Ms>
struct modifier_list {};
template <class M, class... Ms>
struct modifier_list<M, Ms...> {
    M head;
    modifier_list<Ms...> tail;
};
template <class... Ms>
constexpr modifier_list<Ms...> make_modifier_list(Ms... ms) {
    if constexpr (sizeof...(Ms) == 0) {
        return {};
    } else {
        return [](auto h, auto... t) { return modifier_list<Ms...>{h, make_modifier_list(t...)}; }(ms...);
    }
}

// ---- helpers shared by the modifiers -------------------------------------------------------------

// Original input index of a batch norm's beta / gamma / mean / var (-1 when absent: no_bias,
// no_scale); nnabla's positional inputs[1..4] assume all four exist, kata does not.
struct bn_input_slots {
    int beta = -1, gamma = -1, mean = -1, var = -1;
};
constexpr bn_input_slots bn_slots(const attributes& a) {
    bn_input_slots s;
    int i = 1;
    if (!a.no_bias) s.beta = i++;
    if (!a.no_scale) s.gamma = i++;
    s.mean = i++;
    s.var = i++;
    return s;
}

// The name of the parameter at input k of f (empty when k < 0 or the input is not a parameter).
constexpr name_string param_name(function_ref f, int k) {
    if (k < 0 || k >= f.num_inputs() || !f.input(k).is_parameter()) return {};
    return f.input(k).get().name;  // copied whole, not character by character (clang's step budget)
}

}  // namespace kata
