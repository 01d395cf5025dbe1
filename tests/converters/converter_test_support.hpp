// Shared helpers of the converter tests: structure comparison in the manner of nnabla's
// structure_tester (docs/nnabla-semantics.md §8.1) at compile time, and value comparison of two graph types
// run by the CPU executor on the same inputs with the same parameter store.
#pragma once

#include <kata/converters.hpp>
#include <kata/converters/apply_conversion.hpp>
#include <kata/cpu.hpp>

#include "../../examples/models/synthetic_weights.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <tuple>
#include <utility>

namespace test {

using namespace kata;

// Same number of functions; pairwise (visit order) the same kind, input count, input shapes and output
// shape; the same number of outputs with the same shapes.
template <class GA, class GB>
constexpr bool same_structure(const GA& a, const GB& b) {
    if (a.num_order != b.num_order || a.outputs.size() != b.outputs.size()) return false;
    for (int t = 0; t < a.num_order; ++t) {
        const int fa = a.order[std::size_t(t)], fb = b.order[std::size_t(t)];
        const node& na = a.nodes[std::size_t(fa)];
        const node& nb = b.nodes[std::size_t(fb)];
        if (na.op != nb.op || na.num_inputs != nb.num_inputs || !(na.shape == nb.shape)) return false;
        for (int k = 0; k < na.num_inputs; ++k)
            if (!(a.input_node(fa, k).shape == b.input_node(fb, k).shape)) return false;
    }
    for (std::size_t o = 0; o < a.outputs.size(); ++o)
        if (!(a.nodes[std::size_t(a.outputs[o])].shape == b.nodes[std::size_t(b.outputs[o])].shape))
            return false;
    return true;
}

// Kinds of the functions in visit order.
template <class G>
constexpr int count_params(const G& g) {
    return g.count_leaves(op_kind::parameter);
}

// The inputs of Net, synthetic values in [-1, 1) times `scale`: 255 by default, for the reference nets
// that read images and divide by 255 as upstream's do. Nets that read x directly (softmaxes over it,
// say) pass 1: logits of a few hundred saturate a softmax, which hides a wrong axis and turns float32
// rounding of the logits (a few 1e-5 absolute) into output differences of the same size.
template <graph_type Net>
auto make_inputs(float scale = 255.0f) {
    constexpr const auto& g = Net::graph;
    constexpr std::size_t n = std::size_t(g.count_leaves(op_kind::input));
    std::array<xt::xarray<float>, n> xs;
    std::size_t c = 0;
    for (std::size_t i = 0; i < g.size(); ++i) {
        const node& nd = g.nodes[i];
        if (nd.op != op_kind::input) continue;
        xs[c] = xt::xarray<float>(to_vector(nd.shape));
        models::synthetic_input(nd.name.view(), xs[c].data(), xs[c].size());
        for (auto& v : xs[c]) v *= scale;
        ++c;
    }
    return xs;
}

inline double rel_diff(const float* a, const float* b, std::size_t n) {
    double d = 0, m = 0;
    for (std::size_t i = 0; i < n; ++i) {
        d = std::max(d, std::abs(double(a[i]) - double(b[i])));
        m = std::max(m, std::abs(double(a[i])));
    }
    return m > 0 ? d / m : d;
}

// Runs A and B (same inputs, same store) and returns the largest normwise relative difference
// max|a - b| / max|a| over all outputs.
template <graph_type A, graph_type B, float InputScale = 255.0f>
double compare(parameter_store& store) {
    auto xs = make_inputs<A>(InputScale);
    cpu::executor<A> ea(store);
    cpu::executor<B> eb(store);
    std::apply([&](auto&... x) { ea(x...); }, xs);
    std::apply([&](auto&... x) { eb(x...); }, xs);
    double worst = 0;
    [&]<std::size_t... K>(std::index_sequence<K...>) {
        ((worst = std::max(worst,
                           [&] {
                               auto ya = ea.template output<K>();
                               auto yb = eb.template output<K>();
                               return rel_diff(ya.data(), yb.data(), ya.size());
                           }())),
         ...);
    }
    (std::make_index_sequence<A::graph.num_outputs()>{});
    return worst;
}

// Parameters of Net with the synthetic values (BN statistics far from 0/1), then the conversion.
template <graph_type Net, graph_type Converted>
parameter_store prepare() {
    parameter_store store(313);
    models::synthetic_parameters<Net>(store);
    apply_conversion<Converted>(store);
    return store;
}

}  // namespace test
