// kata/converters/legacy/identity_converter.hpp
//
// IdentityConverter(name = "identity") (nnabla v1.0.11 - v1.10, docs/nnabla-semantics.md §3): the base of
// nnabla's legacy graph converters, as a kata modifier:
//
//     using Copy = kata::convert<Net, kata::IdentityConverter{}>;
//     kata::apply_conversion<Copy>(store);      // identity/conv1/conv/W = conv1/conv/W, ...
//
// Every function is rebuilt unchanged; every parameter it reads is replaced by an independent copy
// named `<name>/<original key>` ("identity/conv1/conv/W"), with the original's need_grad (upstream:
// get_parameter_or_create(<key>, data copy) inside parameter_scope(name)), except parameters that an
// earlier converter of the chain derived (upstream captures its parameter list at construction). Graph inputs are used as
// they are (upstream's entry_variables). The copies are `copy` derivations, evaluated by
// kata::apply_conversion; they are made only for parameters that a rebuilt function reads, so a
// converter derived from this one (batch-norm linear/folded, fixed point) copies nothing it replaces.
//
// The legacy converters are ordinary kata modifiers: they compose with the new-style ones
// (kata::convert<Net, kata::TestModeModifier{}, kata::BatchNormalizationFoldedConverter{}>) and with
// each other (SequentialConverter, sequential_converter.hpp).
//
// kata vs upstream (docs/nnabla-semantics.md §3, 10):
//   * `params` (captured by upstream at construction time) has no twin: kata reads the values from
//     the parameter_store when apply_conversion runs, so converting a network whose parameters change
//     later just needs another apply_conversion (and never returns stale copies: docs/nnabla-semantics.md
// §0.4 / 10.6);
//   * `black_list` (stored, never used upstream) and `entry_variables` (kata keeps every graph input)
//     have no twin;
//   * functions are matched by kind, never by implementation name, so a conversion does the same on
//     every back end (upstream does nothing special on cuDNN, docs/nnabla-semantics.md §3 / 10.15);
//   * every output of the graph is converted and kept (upstream returns the last converted
//     function's output); no path links the new graph back into the old one (upstream's fallback
//     "use the old variable" for unmapped intermediates cannot happen: kata maps every input);
//   * an empty name makes no copies (the converted graph reads the original parameters);
//   * reusable: every conversion starts from a fresh copy of the converter value.
#pragma once

#include "../inner_product.hpp"

namespace kata {

namespace detail {

// Whether kind k is in `kinds` (nnabla's lists of function names). Unused slots hold op_kind::input,
// which names no function, so `{.inner_prod_functions = {kata::op_kind::affine}}` lists Affine only.
template <std::size_t N>
constexpr bool listed(const op_kind (&kinds)[N], op_kind k) {
    if (!is_function(k)) return false;
    for (std::size_t i = 0; i < N; ++i)
        if (kinds[i] == k) return true;
    return false;
}

// The independent copy `<name>/<key>` of parameter `p` (a leaf of the visited graph), or the carried
// original when name is empty. Deriving the same copy twice returns the same parameter (shared weights
// stay shared). A parameter that an earlier converter of the chain created is used as it is: nnabla's
// legacy converters take their parameter list at construction, so in SequentialConverter([weight,
// activation]) the activation converter does not see (nor copy) the weight converter's new parameters.
constexpr var copy_parameter(modify_context& c, std::string_view name, function_ref p) {
    if (name.empty() || c.derived_before(p.name())) return c.mapped(p);
    derivation d;
    d.kind = derivation_kind::copy;
    d.target = modify_context::join(name, p.name());
    d.shape = p.shape();
    d.need_grad = p.get().need_grad;
    d.sources[src_w] = name_string{p.name()};
    return c.derive(d);
}

// Input k of f as the new graph sees it: the mapped variable, or the `<name>/<key>` copy of a parameter.
constexpr var input_or_copy(modify_context& c, std::string_view name, function_ref f,
                            std::span<const var> inputs, int k) {
    const function_ref in = f.input(k);
    return in.is_parameter() ? copy_parameter(c, name, in) : inputs[std::size_t(k)];
}

// nnabla's _identity_conversion: f rebuilt on its mapped inputs, every parameter input replaced by its
// `<name>/<key>` copy.
constexpr var identity_conversion(modify_context& c, std::string_view name, function_ref f,
                                  std::span<const var> inputs) {
    if (name.empty()) return keep;
    var ins[16]{};
    const std::size_t n = inputs.size() < 16 ? inputs.size() : 16;
    for (std::size_t k = 0; k < n; ++k) ins[k] = input_or_copy(c, name, f, inputs, int(k));
    return c.rebuild(f, std::span<const var>(ins, n));
}

// "<name>/<dirname of key>/<leaf>" with nnabla's os.path.join semantics ("W" has an empty dirname:
// "<name>/<leaf>").
constexpr name_string sibling_key(std::string_view name, std::string_view key, std::string_view leaf) {
    const auto p = key.rfind('/');
    const std::string_view dir = p == std::string_view::npos ? std::string_view{} : key.substr(0, p);
    if (dir.empty()) return modify_context::join(name, leaf);
    const name_string r = modify_context::join(name, dir);
    return modify_context::join(r.view(), leaf);
}

}  // namespace detail

struct IdentityConverter {
    name_string name{"identity"};

    constexpr var modify(modify_context& c, function_ref f, std::span<const var> inputs) const {
        return detail::identity_conversion(c, name.view(), f, inputs);
    }
};

// ---- value rule (derivation.hpp) --------------------------------------------------------------------

// target = source (same number of elements; reshaped to the target's shape).
template <>
struct derivation_rule<derivation_kind::copy> {
    static void compute(const derivation& d, const derivation_sources& src, std::span<float> out) {
        using namespace detail;
        const derivation_source s = source(src, d, src_w, true);
        expect_size(src, d, s, out.size(), "source");
        for (std::size_t i = 0; i < out.size(); ++i) out[i] = s.data[i];
    }
};

}  // namespace kata
