// kata/detail/xtensor_fix.hpp
//
// Purpose: work around a silent miscompilation of xtensor 0.24.3 under g++ >= 11 in C++20 mode.
//
// Every kata header that uses xtensor includes this header FIRST (before any other <xtensor/...>).
//
// Why: C++20 (P0522, "relaxed template template argument matching", on by default in g++'s C++17+
// modes, but only triggered here by xtensor's C++20 code paths) makes g++ pick xtensor's
// `xtype_for_shape<S<X, N>>` partial specialisation (meant for fixed-rank `std::array` shapes) for
// `xt::svector<std::size_t, 4, A, true>` -- the dynamic shape type of `xt::xarray`. Temporaries
// that should be dynamic-rank `xarray` become rank-4 `xtensor`s: `xt::pad` of a 1-D tensor returns
// zeros, 1-D `strided_view` assignment throws, and `xt::sum(..., evaluation_strategy::immediate)`
// segfaults. clang and g++ in C++17 mode are unaffected.
//
// Fix: add a more specialised partial specialisation for the 4-parameter svector-like template
// (`S<X, N, A, Init>`) that maps back to `xarray`, so the right answer wins the partial ordering.
// The alternative is the flag `-fno-new-ttp-matching`; the header needs no flag, so consumers of
// kata are protected without touching their build. A canary test (tests/io/xtensor_canary.cpp)
// checks `xt::pad({1,2,3}, 1) == {0,1,2,3,0}`.
#pragma once

#include <cstddef>

#include <xtensor/xexpression_traits.hpp>
#include <xtensor/xstorage.hpp>

#if defined(__GNUC__) && !defined(__clang__) && (__cplusplus > 201703L)
namespace xt::detail {
template <template <class, std::size_t, class, bool> class S, class X, std::size_t N, class A, bool Init>
struct xtype_for_shape<S<X, N, A, Init>> {
    template <class T, layout_type L>
    using type = xarray<T, L>;
};
}  // namespace xt::detail
#endif
