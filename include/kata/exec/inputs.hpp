// kata/exec/inputs.hpp
//
// How an executor reads a caller's input, whatever holds it: a pointer to contiguous row-major
// values, a C array or std::array of the input's element count, or any container or view with data()
// and shape() (xt::xarray, xt::xtensor,
// xt::xtensor_fixed, xt::adapt(...), a transposed or sliced xtensor view...), found by its members so
// that this header needs no xtensor.
//
//   * element type: must be the graph input's dtype (a compile error naming the input otherwise);
//   * shape: when the container's shape is part of its type (a shape_type like xt::fixed_shape<D...>,
//     as in xt::xtensor_fixed<float, xt::xshape<1, 3, 224, 224>>), checked at compile time: a wrong
//     shape is a compile error naming the input and both shapes; otherwise checked at every call;
//   * memory: the first element is data() + data_offset() (views of a larger buffer); if the
//     container has strides() and they are not row-major contiguous (a transposed view, a column-major
//     array, a strided slice), the values are gathered through the strides into the input's planned
//     staging buffer (part of the executor's storage) and the kernels read that copy. Contiguous
//     inputs are read in place: no copy and no allocation.
// Backend-neutral: no xtensor, no exceptions, no heap.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "buffer.hpp"

namespace kata::exec::detail {

// Extents of a shape type known at compile time (xt::fixed_shape<D...> and alike).
template <class S>
struct fixed_extents {
    static constexpr bool fixed = false;
};
template <template <std::size_t...> class S, std::size_t... D>
struct fixed_extents<S<D...>> {
    static constexpr bool fixed = true;
    static constexpr int rank = int(sizeof...(D));
    static constexpr std::size_t dims[sizeof...(D) > 0 ? sizeof...(D) : 1] = {D...};
};

template <class X>
constexpr bool has_fixed_shape() {
    if constexpr (requires { typename X::shape_type; })
        return fixed_extents<typename X::shape_type>::fixed;
    else
        return false;
}

template <class X>
concept pointer_input = std::is_pointer_v<X>;

// A C array or std::array of the input's element count (checked at compile time).
template <class X>
struct flat_extent {
    static constexpr bool known = false;
};
template <class T, std::size_t N>
struct flat_extent<T[N]> {
    static constexpr bool known = true;
    static constexpr std::size_t size = N;
    using element = T;
};
template <class T, std::size_t N>
struct flat_extent<std::array<T, N>> {
    static constexpr bool known = true;
    static constexpr std::size_t size = N;
    using element = T;
};
template <class X>
concept flat_input = flat_extent<std::remove_cv_t<X>>::known;

template <class X>
concept container_input = requires(const X& x) {
    x.data();
    x.shape();
};

template <class X>
struct input_element {
    using type = std::remove_cv_t<std::remove_pointer_t<X>>;
};
template <flat_input X>
struct input_element<X> {
    using type = std::remove_cv_t<typename flat_extent<std::remove_cv_t<X>>::element>;
};
template <container_input X>
requires(!flat_input<X>) struct input_element<X> {
    using type = std::remove_cv_t<std::remove_reference_t<decltype(*std::declval<const X&>().data())>>;
};

// The first element of a container input (data() + data_offset() where views have an offset).
template <class X>
const auto* first_element(const X& x) {
    if constexpr (requires { x.data_offset(); })
        return x.data() + x.data_offset();
    else
        return x.data();
}

// Row-major contiguity of a strided input (unit axes may carry any stride).
template <class X>
bool row_major_contiguous(const X& x) {
    if constexpr (requires { x.strides(); }) {
        const auto& sh = x.shape();
        const auto& st = x.strides();
        std::int64_t want = 1;
        for (std::size_t d = sh.size(); d-- > 0;) {
            const std::int64_t e = std::int64_t(sh[d]);
            if (e != 1 && std::int64_t(st[d]) != want) return false;
            want *= e;
        }
        return true;
    } else {
        return true;
    }
}

// Copies a strided input (element strides, any sign) into a contiguous row-major buffer.
template <class T, class X>
void gather_strided(const X& x, T* dst) {
    const auto& sh = x.shape();
    const auto& st = x.strides();
    const int rank = int(sh.size());
    const T* base = first_element(x);
    if (rank == 0) {
        dst[0] = base[0];
        return;
    }
    std::int64_t ext[max_rank]{}, str[max_rank]{}, idx[max_rank]{};
    for (int d = 0; d < rank; ++d) {
        ext[d] = std::int64_t(sh[std::size_t(d)]);
        str[d] = std::int64_t(st[std::size_t(d)]);
        if (ext[d] == 0) return;
    }
    const int last = rank - 1;
    const std::int64_t n = ext[last], s = str[last];
    for (;;) {
        std::int64_t off = 0;
        for (int d = 0; d < last; ++d) off += idx[d] * str[d];
        const T* src = base + off;
        for (std::int64_t i = 0; i < n; ++i) dst[i] = src[i * s];
        dst += n;
        int d = last - 1;
        while (d >= 0 && ++idx[d] == ext[d]) idx[d--] = 0;
        if (d < 0) return;
    }
}

}  // namespace kata::exec::detail
