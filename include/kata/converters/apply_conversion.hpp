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
// One copy of the weights (deploying): `apply_conversion<Converted>(store, replaced_parameters::drop)`
// erases the parameters the conversion replaced and the converted graph no longer reads (the trained
// W and BN statistics after folding, w-folded after its channel-last copy), each as soon as no later
// derivation reads it, so converting never holds much more than one copy; `drop_replaced_parameters
// <Converted>(store)` does the same after a conversion applied with the default, `keep` (nnabla's
// behaviour: the converters only add parameters). Either way parameters of the store that no
// derivation names are left alone, and a dropped store no longer feeds the original network.
//
// Throws kata::parameter_error when a source is missing or has an unexpected number of elements.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../converters.hpp"
#include "../detail/xtensor_fix.hpp"
#include "../io/free_memory.hpp"
#include "../io/parameter_store_core.hpp"
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
    // Created empty and given the computed array: creating it with its shape would allocate (and
    // touch) a second, zero-filled array of the target's size for a moment (a 9 MiB transient at
    // ResNet-50's largest layer, on top of the deploy path's peak).
    parameter& p = store.create_or_replace(d.target.view(), {0}, initializer::constant(0), d.need_grad);
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

// What apply_conversion does with the parameters the conversion replaced: the derivations' sources
// (trained W, b, BN statistics...) and intermediate targets (w-folded before its channel-last copy)
// that the converted graph does not read.
enum class replaced_parameters : std::uint8_t {
    keep,  // default, as nnabla's converters (they add parameters, never remove any): the store still
           // feeds the original network (training can go on, a second conversion works)
    drop,  // erased, each right after the last derivation that reads it: the store ends with what the
           // converted graph reads, and holds at most one layer's extra copy while converting
};

namespace detail {

// Names (relative to the store's scope) a reachable function of G reads.
template <const auto& G>
std::set<std::string_view> parameters_read() {
    std::set<std::string_view> read;
    for (std::size_t i = 0; i < G.size(); ++i)
        if (G.nodes[i].op == op_kind::parameter && G.num_consumers(int(i)) > 0)
            read.insert(G.nodes[i].name.view());
    return read;
}

// For each derivation i, the names to erase after it: every source or target of the list that the
// converted graph does not read, after its last appearance (as a source or as a target).
template <class Derivations>
std::vector<std::vector<std::string_view>> drop_schedule(const Derivations& ds,
                                                         const std::set<std::string_view>& read) {
    std::map<std::string_view, std::size_t> last;
    std::size_t i = 0;
    for (const derivation& d : ds) {
        for (const auto& src : d.sources)
            if (!src.empty()) last[src.view()] = i;
        last[d.target.view()] = i;
        ++i;
    }
    std::vector<std::vector<std::string_view>> after(i);
    for (const auto& [name, at] : last)
        if (!read.count(name)) after[at].push_back(name);
    return after;
}

}  // namespace detail

// Erases from `store` the parameters the conversion replaced (see replaced_parameters::drop) and
// returns how many it erased. For a store whose conversion was applied with the default `keep`:
// after it, only the converted network can run from this store. Parameters that no derivation
// names (other networks' in the same store) are never touched.
template <graph_type Converted>
std::size_t drop_replaced_parameters(parameter_store& store) {
    std::size_t erased = 0;
    if constexpr (requires { Converted::derivations; }) {
        for (const auto& names :
             detail::drop_schedule(Converted::derivations, detail::parameters_read<Converted::graph>()))
            for (std::string_view n : names) erased += store.erase(n);
    }
    if (erased) io::return_free_memory();
    return erased;
}

template <graph_type Converted>
void apply_conversion(parameter_store& store, replaced_parameters replaced = replaced_parameters::keep) {
    if constexpr (requires { Converted::derivations; }) {
        static constexpr auto rules = detail::rules_of<Converted::derivations>(
            std::make_index_sequence<Converted::derivations.size()>{});
        if (replaced == replaced_parameters::keep) {
            for (std::size_t i = 0; i < rules.size(); ++i) rules[i](Converted::derivations[i], store);
            return;
        }
        const auto drop =
            detail::drop_schedule(Converted::derivations, detail::parameters_read<Converted::graph>());
        for (std::size_t i = 0; i < rules.size(); ++i) {
            rules[i](Converted::derivations[i], store);
            bool erased = false;
            for (std::string_view n : drop[i]) erased = store.erase(n) || erased;
            if (erased) io::return_free_memory();  // kata/io/free_memory.hpp: why
        }
    }
}

}  // namespace kata
