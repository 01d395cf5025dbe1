// kata/exec/constant_parameters.hpp
//
// Parameters compiled into the program: a constexpr table of {name, values, shape} that an executor
// binds by name, like a parameter store, but without any heap, file or xtensor.
//
//     constexpr float conv1_W[150] = {...};                 // or a constexpr std::array
//     constexpr float conv1_b[6] = {...};
//     constexpr kata::exec::constant_parameter lenet_table[] = {
//         {"conv1/W", conv1_W, {6, 1, 5, 5}},                // dtype from the element type
//         {"conv1/b", conv1_b, {6}},
//         ...
//     };
//     using Weights = kata::exec::constant_parameters<lenet_table>;
//     kata::exec::executor<LeNet, kata::cpu::backend, kata::exec::static_arena, Weights> run;
//
// The table is a template argument, so the executor checks it at compile time (check<G>() below): a
// parameter of the graph missing from the table, a dtype or shape that differs from the graph's, an
// array whose length differs from its shape's element count, or a parameter that a kernel would
// write (the running statistics of a BatchNormalization in batch_stat mode: the values are
// read-only) is a compile error whose message (kata::exec::invalid_binding<"...">) names the parameter
// and both shapes. Entries the graph does not use are allowed (one table can serve converted graphs).
//
// Live and frozen executors behave alike here (the values cannot change); a frozen executor still
// prepares (packs) them at bind time if its backend does. Backend-neutral: no xtensor, no exceptions,
// no heap.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "../core/graph.hpp"
#include "binding.hpp"

namespace kata::exec {

struct constant_parameter {
    std::string_view name{};
    const void* data = nullptr;
    dtype type = dtype::f32;
    shape_t shape{};
    std::int64_t count = -1;  // elements of the array when the entry was made from one (checked)

    constexpr constant_parameter() = default;
    template <class T, std::size_t N>
    requires has_dtype<T>
    constexpr constant_parameter(std::string_view n, const T (&values)[N], shape_t s)
        : name(n), data(values), type(dtype_of<T>), shape(s), count(std::int64_t(N)) {}
    template <class T, std::size_t N>
    requires has_dtype<T>
    constexpr constant_parameter(std::string_view n, const std::array<T, N>& values, shape_t s)
        : name(n), data(values.data()), type(dtype_of<T>), shape(s), count(std::int64_t(N)) {}
    // From a bare pointer: its length is not known, only the shape is.
    template <class T>
    requires has_dtype<T>
    static constexpr constant_parameter unsized(std::string_view n, const T* values, shape_t s) {
        constant_parameter e;
        e.name = n;
        e.data = values;
        e.type = dtype_of<T>;
        e.shape = s;
        return e;
    }
};

namespace detail {

// Whether function f of G writes its input k (BatchNormalization / FusedBatchNormalization in
// batch_stat mode update their running mean and variance, nnabla semantics).
template <std::size_t N, std::size_t E, std::size_t O>
constexpr bool writes_input(const graph<N, E, O>& G, int f, int k) {
    const node& n = G.nodes[std::size_t(f)];
    if (!n.attr.batch_stat) return false;
    if (n.op == op_kind::batch_normalization) return k == n.num_inputs - 2 || k == n.num_inputs - 1;
    if (n.op == op_kind::fused_batch_normalization) return k == 3 || k == 4;
    return false;
}

}  // namespace detail

template <auto const& Table>
struct constant_parameters {
    using handle = const constant_parameter*;
    static constexpr std::string_view description = "the constant parameter table";

    constexpr handle find(std::string_view name) const {
        for (const constant_parameter& e : Table)
            if (e.name == name) return &e;
        return nullptr;
    }
    static constexpr parameter_view view(handle h) {
        return {const_cast<void*>(h->data), h->type, h->shape, h->shape.rank};
    }
    static void* data(handle h) { return const_cast<void*>(h->data); }

    // The first mismatch between the table and graph G's parameters, or "" (see the header comment).
    template <auto const& G>
    static constexpr message_string check() {
        constexpr std::string_view who = "kata::exec::constant_parameters";
        for (int t = 0; t < G.num_order; ++t) {
            const int f = G.order[std::size_t(t)];
            for (int k = 0; k < G.nodes[std::size_t(f)].num_inputs; ++k) {
                const node& p = G.input_node(f, k);
                if (p.op != op_kind::parameter) continue;
                binding_failure fail{failure_kind::missing_parameter, who, p.name.view(), description,
                                     buffer_desc{p.type, p.shape, p.lay}};
                const handle h = constant_parameters{}.find(p.name.view());
                if (!h) return describe(fail);
                if (h->type != p.type || !(h->shape == p.shape)) {
                    fail.kind = failure_kind::parameter_mismatch;
                    fail.got_type = h->type;
                    fail.got_shape = h->shape;
                    fail.got_rank = h->shape.rank;
                    return describe(fail);
                }
                if (h->count >= 0 && h->count != p.shape.numel()) {
                    message_string m(who);
                    m.append(": parameter '").append(p.name.view()).append("' holds ").append_int(h->count);
                    m.append(" values but its shape ");
                    append_shape(m, p.shape).append(" has ").append_int(p.shape.numel());
                    return m;
                }
                if (!h->data) {
                    message_string m(who);
                    m.append(": parameter '").append(p.name.view()).append("' has no values (null pointer)");
                    return m;
                }
                if (detail::writes_input(G, f, k)) {
                    message_string m(who);
                    m.append(": parameter '").append(p.name.view()).append("' is updated by ");
                    m.append(type_name(G.nodes[std::size_t(f)].op)).append(" in batch_stat mode");
                    m.append(" and cannot be a constant");
                    return m;
                }
            }
        }
        return {};
    }
};

}  // namespace kata::exec
