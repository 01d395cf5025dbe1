// kata/ops/args.hpp
//
// Op arguments as Boost.Hana structs, walked generically.
//
// Every op descriptor (descriptor.hpp) names a struct holding nnabla's arguments of the op
// (`Function.info.args`), in nnabla's order and with nnabla's defaults as default member
// initialisers, adapted to Hana's Struct concept with KATA_ADAPT_ARGS(type, member...) (below). The
// walks below are written once for all of them (and for the F::/PF:: argument structs, adapted the
// same way):
//
//     for_each_arg(args, fn)   fn(name, value) for every member, in order: the generic hook for
//                              viewer labels, diagnostics, and later ONNX attributes and CUDA
//                              parameter structs
//     to_arg_list(args)        the same as flat data (arg_list), what a descriptor hands out for a
//                              node without knowing its type at compile time
//     args_equal(a, b)         member-wise equality
//     append_args(m, args)     "base_axis=1, pad=(1,1), ..." appended to a compile-time message
//
// keywords.hpp sets members by name (order-free keyword arguments). Why Hana here and never in graph
// rewriting: each walk instantiates once per argument STRUCT (a few dozen in all), never per node or
// per graph, and saves a hand-written printer, comparer and keyword table per op; graph passes stay
// constexpr loops over arrays (docs/extending.md, "Compile time").
//
// Value types an argument may have: bool, int / std::int64_t, double, std::string_view, kata::dims
// (listed with its n entries), kata::axis_list, kata::shape_t (its rank entries).
//
// KATA_ADAPT_ARGS(type, member...) specialises boost::hana::accessors_impl<type> exactly like
// BOOST_HANA_ADAPT_STRUCT (the struct keeps its default member initialisers, so nnabla's defaults stay;
// hana::accessors / keys / members / for_each work), with one difference that matters here: its
// apply() is a template, so the accessor tuple is built only where a struct is walked.
// BOOST_HANA_ADAPT_STRUCT's apply() is an ordinary function with a deduced return type, compiled for
// every adapted struct in every translation unit that includes it: with kata's ~35 argument structs
// that cost 2.9 s and 210 MB per TU that includes kata.hpp (g++ 12), against ~0.1 s now.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <type_traits>
#include <utility>

#include <boost/hana/accessors.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/pair.hpp>
#include <boost/hana/string.hpp>
#include <boost/hana/tuple.hpp>

#include "../core/attributes.hpp"
#include "../core/fixed_string.hpp"
#include "../core/shape.hpp"

namespace kata {

// An optional tuple of up to three ints (nnabla's `pad=None`, `stride=(2,2)`...). Empty = None.
struct dims {
    std::int64_t v[max_spatial]{};
    int n = 0;
    constexpr dims() = default;
    constexpr dims(std::initializer_list<std::int64_t> l) {
        for (auto x : l)
            if (n < max_spatial) v[n++] = x;
            else ++n;  // remember the excess so the length check reports it
    }
    constexpr bool given() const { return n > 0; }
    constexpr std::int64_t operator[](int i) const { return v[i]; }
    // Value equality: the same entries (the excess of an over-long list counts by number only).
    constexpr bool operator==(const dims& o) const {
        if (n != o.n) return false;
        for (int i = 0; i < n && i < max_spatial; ++i)
            if (v[i] != o.v[i]) return false;
        return true;
    }
};

// A list of axes (nnabla's `axes` of BatchNormalization and Transpose).
struct axis_list {
    int v[max_rank]{};
    int n = 0;
    constexpr axis_list() = default;
    constexpr axis_list(std::initializer_list<int> l) {
        for (int x : l)
            if (n < max_rank) v[n++] = x;
    }
    constexpr axis_list(const int* p, int count) {
        for (int i = 0; i < count && i < max_rank; ++i) v[n++] = p[i];
    }
    constexpr int operator[](int i) const { return v[i]; }
    constexpr bool operator==(const axis_list& o) const {
        if (n != o.n) return false;
        for (int i = 0; i < n; ++i)
            if (v[i] != o.v[i]) return false;
        return true;
    }
};

// ---- flat argument values ------------------------------------------------------------------------

enum class arg_type : std::uint8_t { integer, real, boolean, string, list };

// One argument value, whatever its C++ type: what code that sees a node's kind only at run time (the
// viewer, exporters) works with.
struct arg_value {
    arg_type type = arg_type::integer;
    std::int64_t i = 0;  // integer, boolean (0 / 1)
    double r = 0;        // real
    std::string_view s{};
    std::int64_t list[max_rank]{};
    int n = 0;  // list length
};

struct named_arg {
    std::string_view name{};
    arg_value value{};
};

inline constexpr int max_op_args = 12;

// An op's arguments, named and in order (nnabla's Function.info.args).
struct arg_list {
    named_arg items[max_op_args]{};
    int count = 0;

    constexpr const named_arg* begin() const { return items; }
    constexpr const named_arg* end() const { return items + count; }
    constexpr int size() const { return count; }
    // The argument called `name`, or nullptr.
    constexpr const named_arg* find(std::string_view name) const {
        for (int i = 0; i < count; ++i)
            if (items[i].name == name) return &items[i];
        return nullptr;
    }
};

namespace args_detail {

template <class T>
inline constexpr bool always_false = false;

template <class T>
constexpr arg_value to_value(const T& v) {
    arg_value r;
    if constexpr (std::is_same_v<T, bool>) {
        r.type = arg_type::boolean;
        r.i = v ? 1 : 0;
    } else if constexpr (std::is_integral_v<T> || std::is_enum_v<T>) {
        r.type = arg_type::integer;
        r.i = std::int64_t(v);
    } else if constexpr (std::is_floating_point_v<T>) {
        r.type = arg_type::real;
        r.r = double(v);
    } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
        r.type = arg_type::string;
        r.s = std::string_view(v);
    } else if constexpr (std::is_same_v<T, dims>) {
        r.type = arg_type::list;
        r.n = v.n < max_spatial ? v.n : max_spatial;
        for (int k = 0; k < r.n; ++k) r.list[k] = v.v[k];
    } else if constexpr (std::is_same_v<T, axis_list>) {
        r.type = arg_type::list;
        r.n = v.n;
        for (int k = 0; k < r.n; ++k) r.list[k] = v.v[k];
    } else if constexpr (std::is_same_v<T, shape_t>) {
        r.type = arg_type::list;
        r.n = v.rank;
        for (int k = 0; k < r.n; ++k) r.list[k] = v.dims[k];
    } else {
        static_assert(always_false<T>, "kata: an op argument must be bool, an integer, double, string_view, "
                                       "kata::dims, kata::axis_list or kata::shape_t");
    }
    return r;
}

// Member-wise value equality (C arrays element by element).
template <class T>
constexpr bool value_equal(const T& a, const T& b) {
    if constexpr (std::is_array_v<T>) {
        for (std::size_t k = 0; k < std::extent_v<T>; ++k)
            if (!value_equal(a[k], b[k])) return false;
        return true;
    } else {
        return a == b;
    }
}

}  // namespace args_detail

// The member name of a Hana accessor pair, as a string_view.
template <class Pair>
constexpr std::string_view arg_name(const Pair& p) {
    return std::string_view(std::decay_t<decltype(boost::hana::first(p))>::c_str());
}

// fn(name, value) for every member of the Hana-adapted struct `a`, in order.
template <class Args, class Fn>
constexpr void for_each_arg(const Args& a, Fn&& fn) {
    boost::hana::for_each(boost::hana::accessors<Args>(),
                          [&](auto p) { fn(arg_name(p), boost::hana::second(p)(a)); });
}

template <class Args>
constexpr arg_list to_arg_list(const Args& a) {
    arg_list r;
    for_each_arg(a, [&](std::string_view name, const auto& v) {
        if (r.count < max_op_args) r.items[r.count++] = named_arg{name, args_detail::to_value(v)};
    });
    return r;
}

template <class Args>
constexpr bool args_equal(const Args& a, const Args& b) {
    bool eq = true;
    boost::hana::for_each(boost::hana::accessors<Args>(), [&](auto p) {
        eq = eq && args_detail::value_equal(boost::hana::second(p)(a), boost::hana::second(p)(b));
    });
    return eq;
}

// "name=value, ..." (lists as (a,b), strings quoted) for compile-time diagnostics.
template <std::size_t N>
constexpr fixed_string<N>& append_args(fixed_string<N>& m, const arg_list& args) {
    for (int i = 0; i < args.count; ++i) {
        const arg_value& x = args.items[i].value;
        if (i) m.append(", ");
        m.append(args.items[i].name).append('=');
        switch (x.type) {
        case arg_type::integer: m.append_int(x.i); break;
        case arg_type::real: m.append_double(x.r); break;
        case arg_type::boolean: m.append(x.i ? "true" : "false"); break;
        case arg_type::string: m.append('\'').append(x.s).append('\''); break;
        case arg_type::list:
            m.append('(');
            for (int k = 0; k < x.n; ++k) {
                if (k) m.append(',');
                m.append_int(x.list[k]);
            }
            m.append(')');
            break;
        }
    }
    return m;
}
template <std::size_t N, class Args>
constexpr fixed_string<N>& append_args(fixed_string<N>& m, const Args& a) {
    return append_args(m, to_arg_list(a));
}

// ---- KATA_ADAPT_ARGS -------------------------------------------------------------------------------

namespace args_detail {

// The member names as the macro stringises them: "base_axis, pad, stride".
template <std::size_t N>
struct member_list {
    char chars[N];
};
struct name_token {
    std::size_t first = 0, size = 0;
};
template <std::size_t N>
constexpr name_token token_of(const member_list<N>& l, std::size_t index) {
    std::size_t i = 0;
    for (std::size_t k = 0; k < index; ++i)
        if (l.chars[i] == ',') ++k;
    while (l.chars[i] == ' ') ++i;
    std::size_t e = i;
    while (e + 1 < N && l.chars[e] != ',' && l.chars[e] != ' ') ++e;
    return {i, e - i};
}

// Hana's accessor of one member: obj -> obj.*Ptr (a reference for lvalues).
template <auto Ptr>
struct member {
    template <class T>
    constexpr decltype(auto) operator()(T&& t) const {
        return static_cast<T&&>(t).*Ptr;
    }
};

template <auto Names, name_token T, std::size_t... J>
constexpr auto name_string(std::index_sequence<J...>) {
    return boost::hana::string_c<Names.chars[T.first + J]...>;
}
template <auto Names, std::size_t I>
constexpr auto name_string() {
    constexpr name_token t = token_of(Names, I);
    return name_string<Names, t>(std::make_index_sequence<t.size>{});
}

template <auto Names, auto... Ptrs, std::size_t... I>
constexpr auto make_accessors(std::index_sequence<I...>) {
    return boost::hana::make_tuple(boost::hana::make_pair(name_string<Names, I>(), member<Ptrs>{})...);
}
template <auto Names, auto... Ptrs>
constexpr auto make_accessors() {
    return make_accessors<Names, Ptrs...>(std::make_index_sequence<sizeof...(Ptrs)>{});
}

}  // namespace args_detail

}  // namespace kata

// &T::m1, &T::m2, ... for up to 24 members.
#define KATA_ARGS_CAT_(a, b) a##b
#define KATA_ARGS_CAT(a, b) KATA_ARGS_CAT_(a, b)
#define KATA_ARGS_NARG(...)                                                                                  \
    KATA_ARGS_NARG_(__VA_ARGS__, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, \
                    2, 1, 0)
#define KATA_ARGS_NARG_(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15, _16, _17, _18, _19,  \
                        _20, _21, _22, _23, _24, N, ...)                                                     \
    N
#define KATA_ARGS_PTRS(T, ...) KATA_ARGS_CAT(KATA_ARGS_PTRS_, KATA_ARGS_NARG(__VA_ARGS__))(T, __VA_ARGS__)
#define KATA_ARGS_PTRS_1(T, a) &T::a
#define KATA_ARGS_PTRS_2(T, a, ...) &T::a, KATA_ARGS_PTRS_1(T, __VA_ARGS__)
#define KATA_ARGS_PTRS_3(T, a, ...) &T::a, KATA_ARGS_PTRS_2(T, __VA_ARGS__)
#define KATA_ARGS_PTRS_4(T, a, ...) &T::a, KATA_ARGS_PTRS_3(T, __VA_ARGS__)
#define KATA_ARGS_PTRS_5(T, a, ...) &T::a, KATA_ARGS_PTRS_4(T, __VA_ARGS__)
#define KATA_ARGS_PTRS_6(T, a, ...) &T::a, KATA_ARGS_PTRS_5(T, __VA_ARGS__)
#define KATA_ARGS_PTRS_7(T, a, ...) &T::a, KATA_ARGS_PTRS_6(T, __VA_ARGS__)
#define KATA_ARGS_PTRS_8(T, a, ...) &T::a, KATA_ARGS_PTRS_7(T, __VA_ARGS__)
#define KATA_ARGS_PTRS_9(T, a, ...) &T::a, KATA_ARGS_PTRS_8(T, __VA_ARGS__)
#define KATA_ARGS_PTRS_10(T, a, ...) &T::a, KATA_ARGS_PTRS_9(T, __VA_ARGS__)
#define KATA_ARGS_PTRS_11(T, a, ...) &T::a, KATA_ARGS_PTRS_10(T, __VA_ARGS__)
#define KATA_ARGS_PTRS_12(T, a, ...) &T::a, KATA_ARGS_PTRS_11(T, __VA_ARGS__)
#define KATA_ARGS_PTRS_13(T, a, ...) &T::a, KATA_ARGS_PTRS_12(T, __VA_ARGS__)
#define KATA_ARGS_PTRS_14(T, a, ...) &T::a, KATA_ARGS_PTRS_13(T, __VA_ARGS__)
#define KATA_ARGS_PTRS_15(T, a, ...) &T::a, KATA_ARGS_PTRS_14(T, __VA_ARGS__)
#define KATA_ARGS_PTRS_16(T, a, ...) &T::a, KATA_ARGS_PTRS_15(T, __VA_ARGS__)
#define KATA_ARGS_PTRS_17(T, a, ...) &T::a, KATA_ARGS_PTRS_16(T, __VA_ARGS__)
#define KATA_ARGS_PTRS_18(T, a, ...) &T::a, KATA_ARGS_PTRS_17(T, __VA_ARGS__)
#define KATA_ARGS_PTRS_19(T, a, ...) &T::a, KATA_ARGS_PTRS_18(T, __VA_ARGS__)
#define KATA_ARGS_PTRS_20(T, a, ...) &T::a, KATA_ARGS_PTRS_19(T, __VA_ARGS__)
#define KATA_ARGS_PTRS_21(T, a, ...) &T::a, KATA_ARGS_PTRS_20(T, __VA_ARGS__)
#define KATA_ARGS_PTRS_22(T, a, ...) &T::a, KATA_ARGS_PTRS_21(T, __VA_ARGS__)
#define KATA_ARGS_PTRS_23(T, a, ...) &T::a, KATA_ARGS_PTRS_22(T, __VA_ARGS__)
#define KATA_ARGS_PTRS_24(T, a, ...) &T::a, KATA_ARGS_PTRS_23(T, __VA_ARGS__)

// Adapts `TYPE` (a struct with these members, at global scope) to Hana's Struct concept; see the top.
#define KATA_ADAPT_ARGS(TYPE, ...)                                                                             \
    template <>                                                                                              \
    struct boost::hana::accessors_impl<TYPE> {                                                               \
        template <class T = TYPE>                                                                            \
        static constexpr auto apply() {                                                                      \
            return ::kata::args_detail::make_accessors<                                                      \
                ::kata::args_detail::member_list<sizeof(#__VA_ARGS__)>{#__VA_ARGS__} __VA_OPT__(             \
                    , KATA_ARGS_PTRS(T, __VA_ARGS__))>();                                                    \
        }                                                                                                    \
    }
