// Helpers of the BN-folding tests (bn_folding_*.cpp), on top of converter_test_support.hpp:
//   * identical(a, b): two lifted graphs are the same value (nodes, edges, outputs, visit order), for
//     "this modifier list gives the same graph as that one";
//   * equivalent(a, b): same_structure, and pairwise (visit order) the same attributes and scope, and
//     the same parameter/input names read (node ids may differ: a re-conversion carries the leaves
//     first);
//   * same_derivations(a, b): two derivation arrays hold the same records in the same order (run time);
//   * transplant<Converted, Ref>(store): a parameter store for an independently written reference
//     network Ref of the same structure, whose parameters take the converted network's values, paired
//     function by function in visit order. Running Ref on it and comparing with the ORIGINAL network
//     checks that the folded parameters, wired as the reference network wires them, give the original
//     outputs (upstream's structure_tester + value_tester, with the reference carrying the values);
//   * compare_stores<A, B>(sa, sb): like test::compare, with one store per network;
//   * bn_c0_c1(store, bn scope, eps): c0 = gamma / sqrt(var + eps), c1 = beta - mean c0 in double,
//     written out again here (not kata's derivation code) for the closed-form checks;
//   * snapshot / unchanged: copies of parameters, to show that a conversion leaves its sources alone.
#pragma once

#include "converter_test_support.hpp"

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace test {

template <class GA, class GB>
constexpr bool identical(const GA& a, const GB& b) {
    if constexpr (!std::is_same_v<GA, GB>)
        return false;
    else
        return a.nodes == b.nodes && a.edges == b.edges && a.outputs == b.outputs && a.order == b.order &&
               a.num_order == b.num_order;
}

template <class GA, class GB>
constexpr bool equivalent(const GA& a, const GB& b) {
    if (!same_structure(a, b)) return false;
    for (int t = 0; t < a.num_order; ++t) {
        const int fa = a.order[std::size_t(t)], fb = b.order[std::size_t(t)];
        const node& na = a.nodes[std::size_t(fa)];
        const node& nb = b.nodes[std::size_t(fb)];
        if (!(na.attr == nb.attr) || !(na.name == nb.name) || na.lay != nb.lay) return false;
        for (int k = 0; k < na.num_inputs; ++k) {
            const node& ia = a.input_node(fa, k);
            const node& ib = b.input_node(fb, k);
            if (ia.op != ib.op) return false;
            if ((ia.op == op_kind::parameter || ia.op == op_kind::input) && !(ia.name == ib.name))
                return false;
        }
    }
    return true;
}

// At run time: in a constant expression g++ 12 rejects reading a derivation whose trailing `sources`
// were left to their default ("modification of ... is not a constant expression").
template <class DA, class DB>
bool same_derivations(const DA& a, const DB& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (!(a[i] == b[i])) return false;
    return true;
}

template <graph_type Converted, graph_type Ref>
parameter_store transplant(const parameter_store& store) {
    constexpr const auto& a = Converted::graph;
    constexpr const auto& b = Ref::graph;
    static_assert(same_structure(a, b), "transplant needs the same structure");
    parameter_store out(313);
    for (int t = 0; t < b.num_order; ++t) {
        const int fa = a.order[std::size_t(t)], fb = b.order[std::size_t(t)];
        for (int k = 0; k < b.nodes[std::size_t(fb)].num_inputs; ++k) {
            const node& pb = b.input_node(fb, k);
            if (pb.op != op_kind::parameter) continue;
            const node& pa = a.input_node(fa, k);
            if (pa.op != op_kind::parameter)
                throw std::logic_error("transplant: reference parameter '" + std::string(pb.name.view()) +
                                       "' faces a non-parameter");
            const parameter& src = store.at(pa.name.view());
            if (const parameter* prev = out.find(pb.name.view())) {
                if (!(prev->data == src.data))
                    throw std::logic_error("transplant: '" + std::string(pb.name.view()) +
                                           "' gets two values");
                continue;
            }
            auto& p = out.create_or_replace(pb.name.view(), to_vector(pb.shape), initializer::constant(0),
                                            pb.need_grad);
            if (p.data.size() != src.data.size())
                throw std::logic_error("transplant: size mismatch for '" + std::string(pb.name.view()) + "'");
            std::copy(src.data.begin(), src.data.end(), p.data.begin());
        }
    }
    return out;
}

template <graph_type A, graph_type B>
double compare_stores(parameter_store& sa, parameter_store& sb) {
    auto xs = make_inputs<A>();
    cpu::executor<A> ea(sa);
    cpu::executor<B> eb(sb);
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

// Original vs the reference network carrying the converted network's parameters.
template <graph_type Net, graph_type Converted, graph_type Ref>
double compare_with_reference(parameter_store& store) {
    parameter_store ref = transplant<Converted, Ref>(store);
    return compare_stores<Net, Ref>(store, ref);
}

struct bn_coefficients {
    std::vector<double> c0, c1;
};
// Flat per-channel BN coefficients of the BN whose parameters are `<scope>/{beta,gamma,mean,var}`.
inline bn_coefficients bn_c0_c1(const parameter_store& store, const std::string& scope, double eps = 1e-5) {
    const auto& beta = store.at(scope + "/beta").data;
    const auto& gamma = store.at(scope + "/gamma").data;
    const auto& mean = store.at(scope + "/mean").data;
    const auto& var = store.at(scope + "/var").data;
    bn_coefficients r;
    for (std::size_t c = 0; c < mean.size(); ++c) {
        const double c0 = double(gamma.data()[c]) / std::sqrt(double(var.data()[c]) + eps);
        r.c0.push_back(c0);
        r.c1.push_back(double(beta.data()[c]) - double(mean.data()[c]) * c0);
    }
    return r;
}

// Largest |a - ref| / max|ref| over two flat sequences of equal length (a: float32, ref: double).
inline double rel_err(const xt::xarray<float>& a, const std::vector<double>& ref) {
    if (a.size() != ref.size()) return 1e30;
    double d = 0, m = 0;
    for (std::size_t i = 0; i < ref.size(); ++i) {
        d = std::max(d, std::abs(double(a.data()[i]) - ref[i]));
        m = std::max(m, std::abs(ref[i]));
    }
    return m > 0 ? d / m : d;
}

inline std::map<std::string, xt::xarray<float>> snapshot(const parameter_store& store) {
    std::map<std::string, xt::xarray<float>> m;
    for (const auto& [name, p] : store.get_parameters(false)) m.emplace(name, p->data);
    return m;
}
// Every parameter of the snapshot still exists with the same values.
inline bool unchanged(const parameter_store& store, const std::map<std::string, xt::xarray<float>>& snap) {
    for (const auto& [name, data] : snap) {
        const parameter* p = store.find(name);
        if (!p || !(p->data == data)) return false;
    }
    return !snap.empty();
}

}  // namespace test
