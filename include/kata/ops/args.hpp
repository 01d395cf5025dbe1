// kata/ops/args.hpp
//
// Op arguments as Hana-adapted structs, walked generically.
//
// Every op descriptor (descriptor.hpp) names a struct holding nnabla's arguments of the op
// (`Function.info.args`), in nnabla's order and with nnabla's defaults as default member
// initialisers; the F::, PF:: and parametric-class option structs are the same kind of struct. One
// line per struct, at global scope, makes it walkable:
//
//     KATA_ADAPT_ARGS(kata::convolution_args, base_axis, pad, stride, dilation, group, channel_last);
//
// It gives the struct two views of the same member list:
//   * a Boost.Hana Struct (it specialises boost::hana::accessors_impl, as BOOST_HANA_ADAPT_STRUCT
//     does): names as compile-time strings, so members can be picked by name at compile time
//     (keywords.hpp: order-free keyword arguments), compared (args_equal), and walked by any Hana
//     algorithm (hana::for_each, hana::keys, hana::members: the hook for later ONNX attributes and
//     CUDA parameter structs);
//   * kata::arg_fields<T>::visit(obj, fn): fn(name, obj.member) for each member, for the value walks
//     below, which the op descriptor table instantiates for every argument struct in every
//     translation unit that converts graphs.
// The walks, written once for all structs:
//     for_each_arg(args, fn)   fn(name, value) for every member, in order
//     to_arg_list(args)        the same as flat data (arg_list): a node's arguments when its kind is
//                              known only at run time (the viewer's labels, descriptors.hpp)
//     args_equal(a, b)         member-wise value equality
//     append_args(m, args)     "base_axis=1, pad=(1,1), ..." into a compile-time diagnostic
// Value types an argument may have: bool, int / std::int64_t, double, std::string_view, kata::dims
// (listed with its n entries), kata::axis_list, kata::shape_t (its rank entries).
//
// Compile time (measured, bench/RESULTS.md "Hana argument structs"): graph rewriting never touches these
// (it works on the flat kata::attributes of nodes); each walk instantiates once per struct, never per
// node. BOOST_HANA_ADAPT_STRUCT itself is not used: its accessors_impl::apply() is an ordinary function
// with a deduced return type, compiled for every adapted struct in every TU that includes it;
// KATA_ADAPT_ARGS's apply() is a template, built only where a struct is used by name. And the value walks
// do not go through Hana's tuple of pairs, which the descriptor table would instantiate in every
// converter TU; arg_fields costs ~nothing.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <type_traits>
#include <utility>

#include <boost/hana/accessors.hpp>
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
            if (n < max_spatial)
                v[n++] = x;
            else
                ++n;  // remember the excess so the length check reports it
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

namespace detail {

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

}  // namespace detail

// The member name of a Hana accessor pair, as a string_view.
template <class Pair>
constexpr std::string_view arg_name(const Pair& p) {
    return std::string_view(std::decay_t<decltype(boost::hana::first(p))>::c_str());
}

// The members of an adapted struct in declaration order, as KATA_ADAPT_ARGS lists them:
// visit(obj, fn) calls fn(name, obj.member) for each. Specialised by KATA_ADAPT_ARGS.
template <class Args>
struct arg_fields;

// fn(name, value) for every member of the adapted struct `a`, in order.
template <class Args, class Fn>
constexpr void for_each_arg(const Args& a, Fn&& fn) {
    arg_fields<Args>::visit(a, fn);
}

template <class Args>
constexpr arg_list to_arg_list(const Args& a) {
    arg_list r;
    for_each_arg(a, [&](std::string_view name, const auto& v) {
        if (r.count < max_op_args) r.items[r.count++] = named_arg{name, detail::to_value(v)};
    });
    return r;
}

namespace detail {
template <class Args, class... K, class... A>
constexpr bool args_equal(const Args& a, const Args& b, boost::hana::tuple<boost::hana::pair<K, A>...>) {
    return (value_equal(A{}(a), A{}(b)) && ... && true);
}
}  // namespace detail

// Member-wise equality, through the Hana accessors.
template <class Args>
constexpr bool args_equal(const Args& a, const Args& b) {
    return detail::args_equal(a, b, boost::hana::accessors<Args>());
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

namespace detail {

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

// Member I's name as a hana::string type. Types, not make_tuple / make_pair / string_c calls: building
// the accessor tuple through Hana's functions costs compile time per struct (bench/RESULTS.md), naming
// the types costs ~nothing.
template <auto Names, name_token T, class J>
struct name_type;
template <auto Names, name_token T, std::size_t... J>
struct name_type<Names, T, std::index_sequence<J...>> {
    using type = boost::hana::string<Names.chars[T.first + J]...>;
};
template <auto Names, std::size_t I>
struct name_of {
    static constexpr name_token token = token_of(Names, I);
    using type = typename name_type<Names, token, std::make_index_sequence<token.size>>::type;
};

template <auto Names, auto... Ptrs, std::size_t... I>
constexpr auto make_accessors(std::index_sequence<I...>) {
    return boost::hana::tuple<boost::hana::pair<typename name_of<Names, I>::type, member<Ptrs>>...>{};
}
template <auto Names, auto... Ptrs>
constexpr auto make_accessors() {
    return make_accessors<Names, Ptrs...>(std::make_index_sequence<sizeof...(Ptrs)>{});
}

}  // namespace detail

}  // namespace kata

// &T::m1, &T::m2, ... for up to 24 members.
#define KATA_ARGS_CAT_(a, b) a##b
#define KATA_ARGS_CAT(a, b) KATA_ARGS_CAT_(a, b)
#define KATA_ARGS_NARG(...)                                                                                  \
    KATA_ARGS_NARG_(__VA_ARGS__, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5,  \
                    4, 3, 2, 1, 0)
#define KATA_ARGS_NARG_(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15, _16, _17, _18,     \
                        _19, _20, _21, _22, _23, _24, N, ...)                                                \
    N
#define KATA_ARGS_PTRS(T, ...) KATA_ARGS_CAT(KATA_ARGS_PTRS_, KATA_ARGS_NARG(__VA_ARGS__))(T, __VA_ARGS__)
#define KATA_ARGS_PTRS_1(T, a) &T::a
// fn("m1", x.m1); fn("m2", x.m2); ... for up to 24 members.
#define KATA_ARGS_VISIT(...) KATA_ARGS_CAT(KATA_ARGS_VISIT_, KATA_ARGS_NARG(__VA_ARGS__))(__VA_ARGS__)
#define KATA_ARGS_VISIT_1(a) fn(std::string_view(#a), x.a);
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

#define KATA_ARGS_VISIT_2(a, ...)                                                                            \
    fn(std::string_view(#a), x.a);                                                                           \
    KATA_ARGS_VISIT_1(__VA_ARGS__)
#define KATA_ARGS_VISIT_3(a, ...)                                                                            \
    fn(std::string_view(#a), x.a);                                                                           \
    KATA_ARGS_VISIT_2(__VA_ARGS__)
#define KATA_ARGS_VISIT_4(a, ...)                                                                            \
    fn(std::string_view(#a), x.a);                                                                           \
    KATA_ARGS_VISIT_3(__VA_ARGS__)
#define KATA_ARGS_VISIT_5(a, ...)                                                                            \
    fn(std::string_view(#a), x.a);                                                                           \
    KATA_ARGS_VISIT_4(__VA_ARGS__)
#define KATA_ARGS_VISIT_6(a, ...)                                                                            \
    fn(std::string_view(#a), x.a);                                                                           \
    KATA_ARGS_VISIT_5(__VA_ARGS__)
#define KATA_ARGS_VISIT_7(a, ...)                                                                            \
    fn(std::string_view(#a), x.a);                                                                           \
    KATA_ARGS_VISIT_6(__VA_ARGS__)
#define KATA_ARGS_VISIT_8(a, ...)                                                                            \
    fn(std::string_view(#a), x.a);                                                                           \
    KATA_ARGS_VISIT_7(__VA_ARGS__)
#define KATA_ARGS_VISIT_9(a, ...)                                                                            \
    fn(std::string_view(#a), x.a);                                                                           \
    KATA_ARGS_VISIT_8(__VA_ARGS__)
#define KATA_ARGS_VISIT_10(a, ...)                                                                           \
    fn(std::string_view(#a), x.a);                                                                           \
    KATA_ARGS_VISIT_9(__VA_ARGS__)
#define KATA_ARGS_VISIT_11(a, ...)                                                                           \
    fn(std::string_view(#a), x.a);                                                                           \
    KATA_ARGS_VISIT_10(__VA_ARGS__)
#define KATA_ARGS_VISIT_12(a, ...)                                                                           \
    fn(std::string_view(#a), x.a);                                                                           \
    KATA_ARGS_VISIT_11(__VA_ARGS__)
#define KATA_ARGS_VISIT_13(a, ...)                                                                           \
    fn(std::string_view(#a), x.a);                                                                           \
    KATA_ARGS_VISIT_12(__VA_ARGS__)
#define KATA_ARGS_VISIT_14(a, ...)                                                                           \
    fn(std::string_view(#a), x.a);                                                                           \
    KATA_ARGS_VISIT_13(__VA_ARGS__)
#define KATA_ARGS_VISIT_15(a, ...)                                                                           \
    fn(std::string_view(#a), x.a);                                                                           \
    KATA_ARGS_VISIT_14(__VA_ARGS__)
#define KATA_ARGS_VISIT_16(a, ...)                                                                           \
    fn(std::string_view(#a), x.a);                                                                           \
    KATA_ARGS_VISIT_15(__VA_ARGS__)
#define KATA_ARGS_VISIT_17(a, ...)                                                                           \
    fn(std::string_view(#a), x.a);                                                                           \
    KATA_ARGS_VISIT_16(__VA_ARGS__)
#define KATA_ARGS_VISIT_18(a, ...)                                                                           \
    fn(std::string_view(#a), x.a);                                                                           \
    KATA_ARGS_VISIT_17(__VA_ARGS__)
#define KATA_ARGS_VISIT_19(a, ...)                                                                           \
    fn(std::string_view(#a), x.a);                                                                           \
    KATA_ARGS_VISIT_18(__VA_ARGS__)
#define KATA_ARGS_VISIT_20(a, ...)                                                                           \
    fn(std::string_view(#a), x.a);                                                                           \
    KATA_ARGS_VISIT_19(__VA_ARGS__)
#define KATA_ARGS_VISIT_21(a, ...)                                                                           \
    fn(std::string_view(#a), x.a);                                                                           \
    KATA_ARGS_VISIT_20(__VA_ARGS__)
#define KATA_ARGS_VISIT_22(a, ...)                                                                           \
    fn(std::string_view(#a), x.a);                                                                           \
    KATA_ARGS_VISIT_21(__VA_ARGS__)
#define KATA_ARGS_VISIT_23(a, ...)                                                                           \
    fn(std::string_view(#a), x.a);                                                                           \
    KATA_ARGS_VISIT_22(__VA_ARGS__)
#define KATA_ARGS_VISIT_24(a, ...)                                                                           \
    fn(std::string_view(#a), x.a);                                                                           \
    KATA_ARGS_VISIT_23(__VA_ARGS__)

// Adapts `TYPE` (a struct with these members, at global scope) to Hana's Struct concept; see the top.
#define KATA_ADAPT_ARGS(TYPE, ...)                                                                           \
    template <>                                                                                              \
    struct kata::arg_fields<TYPE> {                                                                          \
        template <class X, class Fn>                                                                         \
        static constexpr void visit([[maybe_unused]] X& x, [[maybe_unused]] Fn& fn) {                        \
            __VA_OPT__(KATA_ARGS_VISIT(__VA_ARGS__))                                                         \
        }                                                                                                    \
    };                                                                                                       \
    template <>                                                                                              \
    struct boost::hana::accessors_impl<TYPE> {                                                               \
        template <class T = TYPE>                                                                            \
        static constexpr auto apply() {                                                                      \
            return ::kata::detail::make_accessors<::kata::detail::member_list<sizeof(#__VA_ARGS__)>{         \
                #__VA_ARGS__} __VA_OPT__(, KATA_ARGS_PTRS(T, __VA_ARGS__))>();                               \
        }                                                                                                    \
    }
