// kata/create_parameters.hpp
//
// kata/parameters.hpp without the store's .npz save/load (it includes this header and
// kata/io/parameter_store.hpp): for translation units that create parameters and run or train a network
// but read and write no files, so that they skip the NPY/ZIP code, the name mapping and <filesystem>.
//
// Bridges a graph type's parameter nodes and a run-time parameter_store.
//
//     kata::parameter_store store(313);
//     kata::create_parameters<Net>(store);   // nnabla's get_parameter_or_create for every parameter
//     kata::sync_quantized_parameters<Net>(store);  // W_q = FixedPointQuantize(W) (fixed-point layers)
//
// Parameters are created in the order the network definition created them (the order nnabla's
// parametric functions would), from the initializer recorded in the graph (PF defaults: Glorot
// uniform for weights, constants for biases and batch-norm statistics). Existing entries are kept,
// as nnabla does; a shape mismatch is an error naming the parameter and both shapes.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/graph.hpp"
#include "io/initializers.hpp"
#include "io/parameter_store_core.hpp"

namespace kata {

inline initializer to_initializer(const init_spec& s) {
    switch (s.kind) {
    case init_kind::none: return initializer::constant(0.0f);
    case init_kind::constant: return initializer::constant(float(s.a));
    case init_kind::uniform: return initializer::uniform(s.a, s.b);
    case init_kind::normal: return initializer::normal(s.a, s.b);
    case init_kind::glorot_uniform: {
        const double lim = std::sqrt(6.0 / (s.k * (s.a + s.b)));
        return initializer::uniform(-lim, lim);
    }
    case init_kind::glorot_normal: return initializer::normal(0.0, std::sqrt(2.0 / (s.k * (s.a + s.b))));
    }
    return initializer::constant(0.0f);
}

inline std::vector<std::size_t> to_vector(const shape_t& s) {
    std::vector<std::size_t> v;
    for (int i = 0; i < s.rank; ++i) v.push_back(std::size_t(s.dims[i]));
    return v;
}

// Creates every parameter of graph type Net that the store lacks (values drawn from store's rng,
// or, for an init_spec with has_seed (nnabla's `rng=` argument), from a fresh kata::rng(seed): such a
// parameter does not advance the store's generator, and its values do not depend on what was
// created before it).
template <graph_type Net>
void create_parameters(parameter_store& store) {
    constexpr const auto& g = Net::graph;
    for (std::size_t i = 0; i < g.size(); ++i) {
        const node& n = g.nodes[i];
        if (n.op != op_kind::parameter) continue;
        // A training graph's gradient leaves ("<key>@grad", kata/train/backward.hpp) are the parameters'
        // gradient buffers, not parameters of their own.
        if (const std::string_view k = n.name.view(); k.size() > 5 && k.substr(k.size() - 5) == "@grad")
            continue;
        if (n.init.has_seed && !store.find(n.name.view())) {
            kata::rng r(n.init.seed);
            const auto shape = to_vector(n.shape);
            store.get_or_create(n.name.view(), shape,
                                initializer::from_array(to_initializer(n.init)(shape, r)), n.need_grad);
        } else {
            store.get_or_create(n.name.view(), to_vector(n.shape), to_initializer(n.init), n.need_grad);
        }
    }
}

// nnabla's fixed-point quantized layers keep the quantized weights in parameters "W_q"/"b_q", which
// nnabla fills during forward. kata's graph computes FixedPointQuantize(W) itself and never reads
// W_q/b_q; this writes them (W_q = FixedPointQuantize(W) with the layer's n/sign/delta) so that a
// saved file holds what nnabla's would after a forward pass. For every FixedPointQuantize node of
// Net reading a parameter "<p>/W" or "<p>/b" whose twin "<p>/W_q" / "<p>/b_q" is in the store.
template <graph_type Net>
void sync_quantized_parameters(parameter_store& store) {
    constexpr const auto& g = Net::graph;
    for (std::size_t i = 0; i < g.size(); ++i) {
        const node& f = g.nodes[i];
        if (f.op != op_kind::fixed_point_quantize || f.num_inputs != 1) continue;
        const node& src = g.input_node(int(i), 0);
        if (src.op != op_kind::parameter) continue;
        const std::string from(src.name.view());
        const parameter* w = store.find(from);
        if (!w) continue;
        parameter* q = store.find(from + "_q");
        if (!q || q->data.shape() != w->data.shape()) continue;
        const int nb = f.attr.sign ? f.attr.n - 1 : f.attr.n;
        const float delta = float(f.attr.delta);
        const float vmax = float((std::ldexp(1.0, nb) - 1.0) * double(delta));
        const float vmin = f.attr.sign ? -vmax : 0.0f;
        auto qi = q->data.begin();
        for (float v : w->data) {
            float r;
            if (v > vmax)
                r = vmax;
            else if (v < vmin)
                r = vmin;
            else {
                const float m = float(std::int64_t(double(std::fabs(v) / delta) + 0.5)) * delta;
                r = v < 0.0f ? -m : m;
            }
            *qi++ = r;
        }
    }
}

}  // namespace kata
