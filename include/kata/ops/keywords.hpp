// kata/ops/keywords.hpp
//
// Order-free keyword arguments for the nnabla-style functions, beside designated initializers:
//
//     using namespace kata::kw;
//     auto h = PF::convolution(x, 32, {3, 3}, group = 4, pad = {2, 2}, name = "conv1");   // any order
//     h = F::max_pooling(h, {2, 2}, stride = {2, 2}, channel_last = false);
//     kata::Conv2d conv(16, 32, {3, 3}, pad = {1, 1}, name = "c");
//
// is the same call as `PF::convolution(x, 32, {3, 3}, {.pad = {2, 2}, .group = 4, .name = "conv1"})`,
// which must follow the declaration order. A keyword fills the member of the same name of the
// function's argument struct (a Hana-adapted struct, args.hpp), so every default stays nnabla's.
// A braced list (`pad = {2, 2}`) fills a tuple member (kata::dims, kata::axis_list, shape_t, an int
// array; `axes = {1}` on a batch-norm struct also sets its `naxes`). Keyword objects are constexpr
// values: they work inside constexpr network functions.
//
// Mistakes are compile errors that name the keyword and the argument struct:
//     kata::unknown_keyword<kata::keyword_name<4>{"pad"}, kata::pf_affine_args>
//     kata::duplicated_keyword<kata::keyword_name<4>{"pad"}, kata::pf_convolution_args>
// A name that no function takes is not declared in kata::kw at all (the compiler says so). Any name
// can be formed as kata::keyword<"my_member">{} for structs of one's own (kata::make_args<S>(...)).
//
// Namespace kata::kw holds only the keyword objects (one per argument name, list below), so that
// `using namespace kata::kw;` brings nothing else into scope.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <type_traits>

#include <boost/hana/for_each.hpp>
#include <boost/hana/unpack.hpp>

#include "args.hpp"

namespace kata {

// A keyword's name as a structural value (it is part of the keyword's type).
template <std::size_t N>
struct keyword_name {
    char chars[N]{};
    constexpr keyword_name(const char (&s)[N]) {
        for (std::size_t i = 0; i < N; ++i) chars[i] = s[i];
    }
    constexpr std::string_view view() const { return {chars, N - 1}; }
};

// A braced list given to a keyword (`pad = {2, 2}`).
struct keyword_list {
    std::int64_t v[max_rank]{};
    int n = 0;  // number of entries given (may exceed max_rank; the excess is dropped)
};

// `name = value`: what a keyword's assignment returns and a keyword overload takes.
template <keyword_name Name, class T>
struct keyword_arg {
    static constexpr auto name = Name;
    T value;
};

template <keyword_name Name>
struct keyword {
    template <class T>
    constexpr keyword_arg<Name, std::decay_t<T>> operator=(T&& v) const {
        return {static_cast<T&&>(v)};
    }
    constexpr keyword_arg<Name, keyword_list> operator=(std::initializer_list<std::int64_t> l) const {
        keyword_list r;
        for (std::int64_t x : l) {
            if (r.n < max_rank) r.v[r.n] = x;
            ++r.n;
        }
        return {r};
    }
};

template <class T>
struct is_keyword_arg : std::false_type {};
template <keyword_name Name, class T>
struct is_keyword_arg<keyword_arg<Name, T>> : std::true_type {};
template <class T>
concept keyword_argument = is_keyword_arg<std::remove_cvref_t<T>>::value;

// The diagnostics. The keyword and the argument struct are the template arguments, which the
// compiler prints in the "required from" context.
template <keyword_name Keyword, class Args>
struct unknown_keyword {
    static_assert(sizeof(Args) == 0, "kata: unknown keyword argument: the function's argument struct has "
                                     "no member of this name (see kata::unknown_keyword<...> above)");
    static constexpr bool ok = false;
};
template <keyword_name Keyword, class Args>
struct duplicated_keyword {
    static_assert(sizeof(Args) == 0, "kata: keyword argument given twice (see "
                                     "kata::duplicated_keyword<\"name\", argument struct> above)");
    static constexpr bool ok = false;
};

namespace detail {

template <class Pair>
constexpr std::string_view member_name() {
    return std::string_view(std::decay_t<decltype(boost::hana::first(std::declval<Pair>()))>::c_str());
}

template <class S, keyword_name Name>
constexpr bool has_member() {
    return boost::hana::unpack(boost::hana::accessors<S>(), [](auto... p) {
        return ((member_name<decltype(p)>() == Name.view()) || ... || false);
    });
}

template <class A, class... All>
constexpr int occurrences() {
    return ((All::name.view() == A::name.view() ? 1 : 0) + ...);
}

template <class S, class A, class... All>
constexpr void check() {
    if constexpr (!has_member<S, A::name>())
        static_assert(unknown_keyword<A::name, S>::ok);
    else if constexpr (occurrences<A, All...>() > 1)
        static_assert(duplicated_keyword<A::name, S>::ok);
}

template <class M, class V>
constexpr void assign(M& m, const V& v) {
    if constexpr (std::is_same_v<V, keyword_list>) {
        if constexpr (std::is_same_v<M, dims>) {
            m = dims{};
            m.n = v.n;  // like dims' list constructor: the excess is counted (the length check reports it)
            for (int i = 0; i < v.n && i < max_spatial; ++i) m.v[i] = v.v[i];
        } else if constexpr (std::is_same_v<M, axis_list>) {
            m = axis_list{};
            for (int i = 0; i < v.n && i < max_rank; ++i) m.v[m.n++] = int(v.v[i]);
        } else if constexpr (std::is_same_v<M, shape_t>) {
            m = shape_t{};
            for (int i = 0; i < v.n && i < max_rank; ++i) m.push_back(v.v[i]);
        } else if constexpr (std::is_array_v<M>) {
            for (std::size_t i = 0; i < std::extent_v<M>; ++i)
                m[i] = i < std::size_t(v.n) ? std::remove_extent_t<M>(v.v[i]) : std::remove_extent_t<M>{};
        } else {
            static_assert(kata::detail::always_false<M>,
                          "kata: a braced list {..} was given to a keyword whose argument "
                          "is not a tuple (pad, stride, axes, ...)");
        }
    } else {
        m = v;
    }
}

// Batch-norm structs keep their axes as (axes[], naxes).
template <class S>
concept has_naxes = requires(S& s) {
    s.naxes = 0;
};
template <has_naxes S>
constexpr void set_naxes(S& s, int n) {
    s.naxes = n;
}

// Assigns keyword `a` if `Pair` (a Hana accessor pair of S) is the member of its name. A function
// template of its own, not a generic lambda: clang 14 checks a generic lambda's statements that do not
// depend on the lambda's own parameter eagerly, discarded `if constexpr` branches included.
template <class Pair, class S, class A>
constexpr void set_if_named(S& s, const A& a) {
    if constexpr (member_name<Pair>() == A::name.view()) {
        auto& m = boost::hana::second(Pair{})(s);
        assign(m, a.value);
        // A list given to a batch-norm struct's axes array sets its count too.
        if constexpr (std::is_same_v<std::remove_cvref_t<decltype(a.value)>, keyword_list> &&
                      std::is_array_v<std::remove_cvref_t<decltype(m)>> && has_naxes<S>)
            set_naxes(s, a.value.n);
    }
}

template <class S, class A>
constexpr void set(S& s, const A& a) {
    boost::hana::for_each(boost::hana::accessors<S>(), [&](auto p) { set_if_named<decltype(p)>(s, a); });
}

}  // namespace detail

// The argument struct S with the members named by `kws` set (the others keep their defaults).
template <class S, keyword_argument... A>
constexpr S make_args(const A&... kws) {
    (detail::check<S, A, A...>(), ...);
    S s{};
    (detail::set(s, kws), ...);
    return s;
}

// The keyword objects: one per argument name of kata's argument structs. KATA_KEYWORD_NAMES is the
// list (tests/ops/keywords.cpp checks that every member of every struct that takes keywords has one).
// clang-format off
#define KATA_KEYWORD_NAMES(X) \
    X(axes) X(b_init) X(base_axis) X(batch_stat) X(beta_init) X(channel_last) X(decay_rate) X(delta) \
    X(delta_b) X(delta_w) X(dilation) X(divisor) X(eps) X(fix_parameters) X(gamma_init) X(group) \
    X(ignore_border) X(including_pad) X(mean_init) X(multiplier) X(n) X(n_b) X(n_w) X(name) X(naxes) \
    X(no_bias) X(no_scale) X(output_padding) X(output_stat) X(pad) X(param_init) X(quantize_b) \
    X(quantize_w) X(rng) X(sign) X(sign_b) X(sign_w) X(ste_fine_grained) X(ste_fine_grained_b) \
    X(ste_fine_grained_w) X(stride) X(var_init) X(w_init) X(with_bias)
// clang-format on

namespace kw {
#define KATA_DEFINE_KEYWORD(id) inline constexpr keyword<#id> id{};
KATA_KEYWORD_NAMES(KATA_DEFINE_KEYWORD)
#undef KATA_DEFINE_KEYWORD
}  // namespace kw

#define KATA_KEYWORD_STRING(id) std::string_view(#id),
inline constexpr std::string_view keyword_names[] = {KATA_KEYWORD_NAMES(KATA_KEYWORD_STRING)};
#undef KATA_KEYWORD_STRING

}  // namespace kata
