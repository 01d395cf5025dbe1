// kata/converters/apply_conversion.hpp
//
// kata::apply_conversion<Converted>(store): computes every parameter a conversion derived
// (Converted::derivations, in order) from the parameters already in `store`, with
// parameter_store::create_or_replace. Run it after the original network's parameters are loaded and
// before binding an executor of the converted type:
//
//     #include <kata/converters/apply_conversion.hpp>   // (kata/converters.hpp is structural only)
//     kata::apply_conversion<Folded>(store);
//     kata::cpu::executor<Folded> run(store);
//
// Every call recomputes the targets from the sources, so converting twice gives identical values and
// never stale ones (upstream's get-or-create keeps the first values, docs/nnabla-semantics.md §0.4 / 10.6).
// Sources are never modified. Arithmetic is float32 storage with double accumulation (sums) and double
// intermediates (c0, c1). Names are relative to the store's current scope.
//
// This header is the thin driver between the value rules and the parameter store: each derivation
// kind's rule (derivation_rule<kind>, next to the modifier that records it, see derivation.hpp) works
// on float spans; apply_conversion picks the rule of every derivation at compile time from
// Converted::derivations (only the kinds a conversion uses are instantiated; a constexpr array of
// function pointers, one per derivation, walked by a loop), apply_derivations does the same for a
// run-time list through a table indexed by kind. It is a header of its own because it
// needs xtensor and the store; kata/converters.hpp (the structural rewrites) does not.
//
// Throws kata::parameter_error when a source is missing or has an unexpected number of elements.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "../converters.hpp"
#include "../detail/xtensor_fix.hpp"
#include "../io/parameter_store.hpp"
#include "../parameters.hpp"
#include "derivation.hpp"

namespace kata {

namespace detail {

// The rules' view of a parameter_store.
class store_sources final : public derivation_sources {
public:
    explicit store_sources(parameter_store& store) : store_(store) {}

    derivation_source find(std::string_view key) const override {
        const parameter* p = store_.find(key);
        if (!p) return {};
        derivation_source s;
        s.data = p->data.data();
        s.size = p->data.size();
        for (std::size_t i = 0; i < p->data.dimension() && i < std::size_t(max_rank); ++i)
            s.shape.push_back(std::int64_t(p->data.shape()[i]));
        return s;
    }
    [[noreturn]] void fail(const std::string& message) const override { throw parameter_error(message); }

private:
    parameter_store& store_;
};

// Computes derivation d with the rule of kind K and stores the result as d.target.
template <derivation_kind K>
void apply_one(const derivation& d, parameter_store& store) {
    const store_sources src(store);
    xt::xarray<float> v(to_vector(d.shape));
    derivation_rule<K>::compute(d, src, std::span<float>(v.data(), v.size()));
    parameter& p =
        store.create_or_replace(d.target.view(), to_vector(d.shape), initializer::constant(0), d.need_grad);
    p.data = std::move(v);
}

using apply_fn = void (*)(const derivation&, parameter_store&);
using compute_fn = void (*)(const derivation&, const derivation_sources&, std::span<float>);

template <std::size_t... K>
constexpr std::array<compute_fn, sizeof...(K)> make_compute_table(std::index_sequence<K...>) {
    return {&derivation_rule<derivation_kind(K)>::compute...};
}

// The value of derivation d computed from `store` (without storing it), by the rule of d.kind.
inline xt::xarray<float> compute(parameter_store& store, const derivation& d) {
    static constexpr auto table = make_compute_table(std::make_index_sequence<derivation_kind_count>{});
    if (std::size_t(d.kind) >= derivation_kind_count)
        throw parameter_error("kata::apply_conversion: '" + std::string(d.target.view()) +
                              "' has no derivation kind");
    const store_sources src(store);
    xt::xarray<float> v(to_vector(d.shape));
    table[std::size_t(d.kind)](d, src, std::span<float>(v.data(), v.size()));
    return v;
}

template <std::size_t... K>
constexpr std::array<apply_fn, sizeof...(K)> make_apply_table(std::index_sequence<K...>) {
    return {&apply_one<derivation_kind(K)>...};
}

}  // namespace detail

// Evaluates `derivations` (a run-time list) in order into `store` (see the header comment).
template <class Derivations>
void apply_derivations(const Derivations& derivations, parameter_store& store) {
    static constexpr auto table = detail::make_apply_table(std::make_index_sequence<derivation_kind_count>{});
    for (const derivation& d : derivations) {
        if (std::size_t(d.kind) >= derivation_kind_count)
            throw parameter_error("kata::apply_conversion: '" + std::string(d.target.view()) +
                                  "' has no derivation kind");
        table[std::size_t(d.kind)](d, store);
    }
}

namespace detail {
// The rule of every derivation of `Ds` (a constexpr array), chosen at compile time: an array of
// function pointers, one per derivation, so that only the kinds a conversion uses are instantiated
// and a long list (ResNet-50: over 200) stays one loop instead of an unrolled, inlined call each.
template <const auto& Ds, std::size_t... I>
constexpr std::array<apply_fn, sizeof...(I)> rules_of(std::index_sequence<I...>) {
    return {&apply_one<Ds[I].kind>...};
}
}  // namespace detail

template <graph_type Converted>
void apply_conversion(parameter_store& store) {
    if constexpr (requires { Converted::derivations; }) {
        static constexpr auto rules = detail::rules_of<Converted::derivations>(
            std::make_index_sequence<Converted::derivations.size()>{});
        for (std::size_t i = 0; i < rules.size(); ++i) rules[i](Converted::derivations[i], store);
    }
}

}  // namespace kata
