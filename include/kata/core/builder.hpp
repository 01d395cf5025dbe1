// kata/core/builder.hpp
//
// The compile-time graph builder. A network is a constexpr function taking a `kata::builder&`:
//
//     constexpr kata::var lenet(kata::builder& g) {
//         auto x = g.input("x", {1, 1, 28, 28});
//         auto h = kata::F::relu(kata::PF::convolution(x, 16, {5, 5}, {.name = "conv1"}));
//         ...
//         return y;
//     }
//     using LeNet = kata::network<lenet>;
//
// The builder is only ever run during constant evaluation. It uses std::vector (transient constexpr
// allocation, C++20) and is then copied into a fixed-size structural `graph` (graph.hpp): graph
// passes are plain constexpr functions over arrays, lifted into a type once. This is the
// representation that keeps compile time flat (see TOOLCHAIN.md, trap 4).
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
#include "node.hpp"

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
    std::vector<node> nodes;
    std::vector<int> edges;
    std::vector<int> outputs;
    message_string error{};
    bool failed = false;

    constexpr builder() {
        // Reallocation copies every node during constant evaluation, which costs more than the
        // unused capacity; graphs beyond this size simply grow as usual.
        nodes.reserve(1024);
        edges.reserve(2048);
    }

    // ---- leaves -------------------------------------------------------------------------------
    // A graph input. 4-D (and 3-D/5-D) inputs default to channel-first, as in nnabla.
    constexpr var input(std::string_view name, shape_t shape, layout l = layout::none, dtype t = dtype::f32) {
        node n;
        n.op = op_kind::input;
        n.shape = shape;
        n.type = t;
        n.lay = (l == layout::none && shape.rank >= 3) ? layout::channel_first : l;
        n.name = name_string(name);
        check_name(n.name, name);
        return add(n);
    }

    // nnabla's get_parameter_or_create: the key is `<current scope>/<name>`. An existing key is
    // returned as is (weight sharing); a different shape is an error; the initializer is ignored.
    constexpr var parameter(std::string_view name, shape_t shape, init_spec init = {}, bool need_grad = true) {
        name_string key = scoped(name);
        // Lookup by hash first, with a raw-pointer loop: comparing names character by character, or
        // iterating with vector iterators, dominated the constant evaluation of ResNet-50 (3.5 s and
        // 1.8 s against 1.0 s for the whole lift with g++ 12).
        const std::uint64_t h = hash_name(key.view());
        const std::size_t np = param_index_.size();
        const std::pair<std::uint64_t, int>* pi = param_index_.data();
        for (std::size_t j = 0; j < np; ++j) {
            const int i = pi[j].second;
            if (pi[j].first != h || !(nodes[std::size_t(i)].name == key)) continue;
            if (!(nodes[std::size_t(i)].shape == shape)) {
                message_string m("Parameter '");
                m.append(key.view()).append("' already exists with shape ");
                append_shape(m, nodes[std::size_t(i)].shape).append(" but was requested with shape ");
                append_shape(m, shape);
                fail(m);
            }
            nodes[std::size_t(i)].need_grad = need_grad;  // nnabla overwrites the stored flag
            return {this, i};
        }
        param_index_.push_back({h, int(nodes.size())});
        node n;
        n.op = op_kind::parameter;
        n.shape = shape;
        n.name = key;
        n.need_grad = need_grad;
        n.init = init;
        return add(n);
    }

    // ---- functions ----------------------------------------------------------------------------
    // Adds a function node reading `ins`; used by the op definitions in kata/ops.
    constexpr var function(op_kind k, std::initializer_list<var> ins, const attributes& a, shape_t out,
                           layout l) {
        return function_n(k, ins.begin(), int(ins.size()), a, out, l);
    }
    constexpr var function_n(op_kind k, const var* ins, int count, const attributes& a, shape_t out, layout l) {
        node n;
        n.op = k;
        n.first_input = int(edges.size());
        n.num_inputs = count;
        for (int i = 0; i < count; ++i) edges.push_back(ins[i].id);
        n.attr = a;
        n.shape = out;
        n.lay = l;
        n.type = count > 0 ? nodes[ins[0].id].type : dtype::f32;
        n.name = scope_;
        return add(n);
    }

    // Marks `v` as a graph output (in order). A network function may also simply return its output.
    constexpr void output(var v) { outputs.push_back(v.id); }

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
    constexpr var add(const node& n) {
        nodes.push_back(n);
        return {this, int(nodes.size()) - 1};
    }
    // Not a template: clang 14 reports a member function template that is defined after its first
    // use in the class as "undefined ... in a constant expression" (KATA_CLANG_LATE_MEMBER_TEMPLATE).
    constexpr void check_name(const name_string& s, std::string_view what) {
        if (s.overflowed) {
            message_string m("name too long (kata::name_string holds 95 characters): '");
            m.append(what).append("'");
            fail(m);
        }
    }

    static constexpr std::uint64_t hash_name(std::string_view s) {
        std::uint64_t h = 1469598103934665603ull;  // FNV-1a
        for (char c : s) h = (h ^ std::uint64_t(static_cast<unsigned char>(c))) * 1099511628211ull;
        return h;
    }

    name_string scope_{};
    std::vector<std::pair<std::uint64_t, int>> param_index_;
};

constexpr const node& var::get() const { return g->nodes[std::size_t(id)]; }

}  // namespace kata
