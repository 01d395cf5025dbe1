// Checks shared by channel_last_axes.cpp, idempotence.cpp and modifier_variants.cpp, on top of
// converter_test_support.hpp: a stricter structure comparison (function arguments and layouts too,
// which nnabla's structure_tester does not compare), the axis arguments of the functions of one kind
// in visit order, batch_stat of every BN, snapshots of a parameter store, and the value comparison of
// two networks in different memory layouts (inputs permuted on the host, outputs permuted back).
#pragma once

#include "converter_test_support.hpp"

#include <map>
#include <string>
#include <vector>

namespace test {

// same_structure, and pairwise the same function arguments (attributes) and layout tags.
template <class GA, class GB>
constexpr bool same_functions(const GA& a, const GB& b) {
    if (!same_structure(a, b)) return false;
    for (int t = 0; t < a.num_order; ++t) {
        const node& na = a.nodes[std::size_t(a.order[std::size_t(t)])];
        const node& nb = b.nodes[std::size_t(b.order[std::size_t(t)])];
        if (!(na.attr == nb.attr) || na.lay != nb.lay) return false;
    }
    return true;
}

// The `axis` argument of every function of kind k, in visit order (-1 past the last one).
struct axis_list {
    int v[8]{-1, -1, -1, -1, -1, -1, -1, -1};
    int n = 0;
    constexpr bool operator==(const axis_list&) const = default;
};
template <class G>
constexpr axis_list axes_of(const G& g, op_kind k) {
    axis_list r;
    for (int t = 0; t < g.num_order; ++t) {
        const node& n = g.nodes[std::size_t(g.order[std::size_t(t)])];
        if (n.op == k && r.n < 8) r.v[r.n++] = n.attr.axis;
    }
    return r;
}
constexpr axis_list axes(std::initializer_list<int> l) {
    axis_list r;
    for (int a : l) r.v[r.n++] = a;
    return r;
}

// Every (fused) batch normalization has batch_stat == want.
template <class G>
constexpr bool all_batch_stat(const G& g, bool want) {
    int found = 0;
    for (std::size_t i = 0; i < g.size(); ++i) {
        const node& n = g.nodes[i];
        if (n.op != op_kind::batch_normalization && n.op != op_kind::fused_batch_normalization) continue;
        ++found;
        if (n.attr.batch_stat != want) return false;
    }
    return found > 0;
}

// Number of parameters whose key starts with `prefix`.
template <class G>
constexpr int count_parameters_with_prefix(const G& g, std::string_view prefix) {
    int c = 0;
    for (std::size_t i = 0; i < g.size(); ++i)
        if (g.nodes[i].op == op_kind::parameter && g.nodes[i].name.view().starts_with(prefix)) ++c;
    return c;
}

// Every key and value of a store.
using store_snapshot = std::map<std::string, xt::xarray<float>>;
inline store_snapshot snapshot(parameter_store& s) {
    store_snapshot r;
    for (auto& [k, p] : s.get_parameters(false)) r.emplace(k, p->data);
    return r;
}

// a with its channel axis moved: to_last NC.. -> N..C, else N..C -> NC.. (rank < 3: unchanged).
inline xt::xarray<float> permute_layout(const xt::xarray<float>& a, bool to_last) {
    const std::size_t n = a.dimension();
    std::vector<std::size_t> perm(n);
    for (std::size_t i = 0; i < n; ++i) perm[i] = i;
    if (n >= 3)
        for (std::size_t i = 1; i < n; ++i)
            perm[i] = to_last ? (i + 1 < n ? i + 1 : 1) : (i == 1 ? n - 1 : i - 1);
    return xt::transpose(a, perm);
}

// Runs A on its inputs and B on the same data in B's layout (inputs whose shapes differ are permuted,
// ToLast: A is channel-first); B's outputs whose shapes differ from A's are permuted back. Returns the
// largest max|a - b| / max|a| over all outputs (as test::compare; InputScale as make_inputs).
template <graph_type A, graph_type B, bool ToLast = true, float InputScale = 255.0f>
double compare_layouts(parameter_store& store) {
    auto xa = make_inputs<A>(InputScale);
    auto xb = make_inputs<B>(InputScale);
    static_assert(xa.size() == xb.size());
    for (std::size_t i = 0; i < xa.size(); ++i) {
        if (xa[i].shape() == xb[i].shape()) continue;
        const auto want = xb[i].shape();
        xb[i] = permute_layout(xa[i], ToLast);
        if (xb[i].shape() != want)
            throw std::runtime_error("compare_layouts: input shapes do not correspond");
    }
    cpu::executor<A> ea(store);
    cpu::executor<B> eb(store);
    std::apply([&](auto&... x) { ea(x...); }, xa);
    std::apply([&](auto&... x) { eb(x...); }, xb);
    double worst = 0;
    [&]<std::size_t... K>(std::index_sequence<K...>) {
        ((worst = std::max(worst,
                           [&] {
                               xt::xarray<float> ya = ea.template output<K>();
                               xt::xarray<float> yb = eb.template output<K>();
                               if (ya.shape() != yb.shape()) yb = permute_layout(yb, !ToLast);
                               if (ya.shape() != yb.shape())
                                   throw std::runtime_error(
                                       "compare_layouts: output shapes do not correspond");
                               return rel_diff(ya.data(), yb.data(), ya.size());
                           }())),
         ...);
    }
    (std::make_index_sequence<A::graph.num_outputs()>{});
    return worst;
}

}  // namespace test
