// kata/core/builder.hpp
//
// The compile-time graph builder. A network is a constexpr function taking a `kata::builder&`:
//
//     constexpr kata::var lenet(kata::builder& g) {
//         auto x = g.input("x", {1, 1, 28, 28});
//         auto h = kata::F::relu(kata::PF::convolution(x, 16, {5, 5}, {.name = "conv1"}));  // conv1/conv/W
//         ...
//         return y;
//     }
//     using LeNet = kata::network<lenet>;
//
// The builder is only ever run during constant evaluation. It uses std::vector (transient constexpr
// allocation, C++20) and is then copied into a fixed-size structural `graph` (graph.hpp): graph
// passes are plain constexpr functions over arrays, lifted into a type once. This is the
// representation that keeps compile time flat (see docs/toolchain.md §4).
//
// Errors: an op that detects a bad shape or attribute records a formatted message with `fail()`
// and keeps building with a placeholder shape. The first message is raised by a static_assert when
// the graph is lifted (graph.hpp), so the compiler prints the op, the scope and the shapes.
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "fixed_string.hpp"
#include "hash_index.hpp"
#include "node.hpp"
#include "scratch.hpp"

namespace kata {

class builder;

// A handle to a node under construction: what F:: and PF:: functions take and return.
struct var {
    builder* g = nullptr;
    int id = -1;

    constexpr const node& get() const;
    constexpr const shape_t& shape() const { return get().shape; }
    constexpr int ndim() const { return get().shape.rank; }
    constexpr layout lay() const { return get().lay; }
    constexpr dtype type() const { return get().type; }
};

class builder {
public:
    // Not std::vector: detail::growable (scratch.hpp) costs a fraction of the constant-evaluation
    // steps per push_back under clang's -fconstexpr-steps.
    detail::growable<node> nodes;
    detail::growable<int> edges;
    detail::growable<int> outputs;
    message_string error{};
    bool failed = false;

    // Capacities: the number of nodes and edges the graph is expected to reach. Reallocation copies
    // every node during constant evaluation (a node is a few hundred bytes), so callers that know the
    // size say so: the second lift of a network (graph.hpp) knows it exactly, a conversion pass knows
    // its source graph's. Unknown sizes start small and grow geometrically (amortised O(1) per node).
    constexpr builder() : builder(256, 512) {}
    constexpr builder(std::size_t node_capacity, std::size_t edge_capacity) {
        nodes.reserve(node_capacity);
        edges.reserve(edge_capacity);
        // At most every node a parameter; zero-initialised slots cost no evaluation steps, each growth
        // of the index re-inserts every entry (hash_index.hpp).
        param_index_.reserve(node_capacity);
    }

    // ---- leaves -------------------------------------------------------------------------------
    // A graph input. 4-D (and 3-D/5-D) inputs default to channel-first, as in nnabla.
    constexpr var input(std::string_view name, shape_t shape, layout l = layout::none, dtype t = dtype::f32) {
        node& n = new_node();
        n.op = op_kind::input;
        n.shape = shape;
        n.type = t;
        n.lay = (l == layout::none && shape.rank >= 3) ? layout::channel_first : l;
        n.name = name_string(name);
        check_name(n.name, name);
        return last();
    }

    // nnabla's get_parameter_or_create: the key is `<current scope>/<name>`. An existing key is
    // returned as is (weight sharing); a different shape is an error; the initializer is ignored.
    // Keys are found through a hash table (expected O(1) per call): conversion passes re-create every
    // parameter through here, so a scan over the earlier parameters made a pass O(P^2) (issue 16).
    constexpr var parameter(std::string_view name, shape_t shape, init_spec init = {},
                            bool need_grad = true) {
        const name_string key = scoped(name);
        return parameter_key(key, shape, init, need_grad, detail::hash_string(key.view()));
    }
    // parameter(key.view(), ...) for a key that is already a name_string (a parameter carried into a
    // new graph, a derived parameter): at the root scope the key is taken as a whole instead of
    // character by character.
    constexpr var parameter_at(const name_string& key, shape_t shape, init_spec init = {},
                               bool need_grad = true) {
        if (!scope_.empty() || key.overflowed) return parameter(key.view(), shape, init, need_grad);
        return parameter_key(key, shape, init, need_grad, detail::hash_string(key.view()));
    }

    // parameter_at(key, ...) with key's detail::hash_string(key.view()) already computed (a converter
    // that looked the key up in its own index first).
    constexpr var parameter_hashed(const name_string& key, std::uint64_t key_hash, shape_t shape,
                                   init_spec init = {}, bool need_grad = true) {
        if (!scope_.empty() || key.overflowed) return parameter(key.view(), shape, init, need_grad);
        return parameter_key(key, shape, init, need_grad, key_hash);
    }
    // parameter_at(p.name, p.shape, p.init, p.need_grad) for a parameter node `p` of another graph (a
    // conversion pass carrying the previous graph's parameters): the same node, fewer evaluation steps.
    constexpr var carry_parameter(const node& p) {
        if (!scope_.empty() || p.name.overflowed)
            return parameter(p.name.view(), p.shape, p.init, p.need_grad);
        return parameter_key(p.name, p.shape, p.init, p.need_grad, detail::hash_string(p.name.view()));
    }

    // ---- functions ----------------------------------------------------------------------------
    // Adds a function node reading `ins`; used by the op definitions in kata/ops.
    constexpr var function(op_kind k, std::initializer_list<var> ins, const attributes& a, shape_t out,
                           layout l) {
        return function_n(k, ins.begin(), int(ins.size()), a, out, l);
    }
    constexpr var function_n(op_kind k, const var* ins, int count, const attributes& a, shape_t out,
                             layout l) {
        const dtype type = count > 0 ? nodes[std::size_t(ins[0].id)].type : dtype::f32;
        const int first = int(edges.size());
        for (int i = 0; i < count; ++i) edges.push_back(ins[i].id);
        node& n = new_node();
        n.op = k;
        n.first_input = first;
        n.num_inputs = count;
        n.attr = a;
        n.shape = out;
        n.lay = l;
        n.type = type;
        n.name = scope_;
        return last();
    }

    // Marks `v` as a graph output (in order). A network function may also simply return its output.
    constexpr void output(var v) { outputs.push_back(v.id); }

    // Code that writes `nodes` directly (copying a lifted graph in, renumbering nodes) calls this;
    // the parameter index is then rebuilt from the nodes at the next parameter() call.
    constexpr void parameter_index_stale() { param_index_valid_ = false; }

    // ---- scopes (nnabla's parameter_scope) ----------------------------------------------------
    class scope_guard {
    public:
        constexpr scope_guard(builder& b, std::string_view s) : b_(&b), saved_(b.scope_.size()) {
            if (!b.scope_.empty()) b.scope_.append('/');
            b.scope_.append(s);
            b.check_name(b.scope_, s);
        }
        constexpr ~scope_guard() { b_->scope_.truncate(saved_); }
        scope_guard(const scope_guard&) = delete;
        scope_guard& operator=(const scope_guard&) = delete;

    private:
        builder* b_;
        std::size_t saved_;
    };
    [[nodiscard]] constexpr scope_guard scope(std::string_view s) { return scope_guard(*this, s); }
    constexpr std::string_view current_scope() const { return scope_.view(); }
    constexpr name_string scoped(std::string_view name) {
        name_string k = scope_;
        if (!k.empty()) k.append('/');
        k.append(name);
        check_name(k, name);
        return k;
    }

    // ---- diagnostics --------------------------------------------------------------------------
    // Records the first error; later ones are usually consequences of it.
    constexpr void fail(const message_string& m) {
        if (!failed) {
            failed = true;
            error = m;
        }
    }
    // "Convolution 'conv1/conv': " prefix used by every op diagnostic.
    constexpr message_string prefix(op_kind k) const {
        message_string m(type_name(k));
        if (!scope_.empty()) m.append(" in scope '").append(scope_.view()).append("'");
        m.append(": ");
        return m;
    }

private:
    constexpr var parameter_key(const name_string& key, const shape_t& shape, const init_spec& init,
                                bool need_grad, std::uint64_t h) {
        const std::string_view kv = key.view();
        if (!param_index_valid_) index_parameters();
        const node* nd = nodes.data();
        const std::size_t slot = param_index_.find(h, [&](int id) { return nd[id].name == kv; });
        if (const int i = param_index_.id_at(slot); i >= 0) {
            node& existing = nodes[std::size_t(i)];
            if (!(existing.shape == shape)) {
                message_string m("Parameter '");
                m.append(kv).append("' already exists with shape ");
                append_shape(m, existing.shape).append(" but was requested with shape ");
                append_shape(m, shape);
                fail(m);
            }
            existing.need_grad = need_grad;  // nnabla overwrites the stored flag
            return {this, i};
        }
        param_index_.insert(slot, h, int(nodes.size()));
        node& n = new_node();
        n.op = op_kind::parameter;
        n.shape = shape;
        n.name = key;
        n.need_grad = need_grad;
        n.init = init;
        return last();
    }

    // A new default node at the end. Copying a constant blank node costs fewer evaluation steps than
    // default-constructing one member by member.
    static constexpr node blank_node_{};
    constexpr node& new_node() {
        nodes.push_back(blank_node_);
        return nodes.back();
    }
    constexpr var last() { return {this, int(nodes.size()) - 1}; }
    // Not a template: clang 14 reports a member function template that is defined after its first
    // use in the class as "undefined ... in a constant expression" (KATA_CLANG_LATE_MEMBER_TEMPLATE).
    constexpr void check_name(const name_string& s, std::string_view what) {
        if (s.overflowed) {
            message_string m("name too long (kata::name_string holds 95 characters): '");
            m.append(what).append("'");
            fail(m);
        }
    }

    // Rebuilds the parameter index from the nodes (after they were written directly, see
    // parameter_index_stale()).
    constexpr void index_parameters() {
        param_index_.clear();
        param_index_.reserve(nodes.capacity());
        const node* nd = nodes.data();
        for (std::size_t i = 0, n = nodes.size(); i < n; ++i) {
            if (nd[i].op != op_kind::parameter) continue;
            const std::string_view kv = nd[i].name.view();
            const std::uint64_t h = detail::hash_string(kv);
            const std::size_t slot = param_index_.find(h, [&](int id) { return nd[id].name.view() == kv; });
            if (param_index_.id_at(slot) < 0) param_index_.insert(slot, h, int(i));
        }
        param_index_valid_ = true;
    }

    name_string scope_{};
    detail::hash_index param_index_;  // parameter keys -> node ids
    bool param_index_valid_ = true;
};

constexpr const node& var::get() const { return g->nodes[std::size_t(id)]; }

}  // namespace kata
