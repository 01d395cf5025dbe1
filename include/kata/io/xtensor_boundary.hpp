// kata/io/xtensor_boundary.hpp
//
// xtensor at the executor's boundary: what output<K>() and result<K>() of every kata executor return on
// a host (kata/exec/executor.hpp declares kata::exec::host_tensors; this header defines it).
//
//     auto y = run(x);                 // output 0: an xtensor adaptor (view) of the executor's storage,
//                                      // shape known at compile time, valid until the next call
//     auto y1 = run.output<1>();       // another output, as a view
//     auto r = run.result<0>();        // an owning copy: xt::xtensor_fixed<float, xt::xshape<1, 1000>>
//     xt::xarray<float> a = run.result<0>();   // or converted to any xtensor container
//
// Inputs need nothing from here: the executor reads any container or view with data() and shape()
// (kata/exec/inputs.hpp), checks an xt::xtensor_fixed's shape at compile time and reads transposed,
// column-major or strided views correctly.
#pragma once

#include "../detail/xtensor_fix.hpp"

#include <algorithm>
#include <array>
#include <cstddef>

#include <xtensor/xadapt.hpp>
#include <xtensor/xfixed.hpp>

#include "../exec/executor.hpp"

namespace kata::exec {

template <class>
struct host_tensors {
    // A non-owning view of `p` with shape (D...).
    template <class T, std::size_t... D>
    static auto view(T* p) {
        constexpr std::size_t n = (std::size_t(1) * ... * D);
        return xt::adapt(p, n, xt::no_ownership(), std::array<std::size_t, sizeof...(D)>{D...});
    }
    // An owning copy with the shape in its type (no heap: xtensor_fixed stores its values inline).
    template <class T, std::size_t... D>
    static xt::xtensor_fixed<T, xt::xshape<D...>> copy(const T* p) {
        xt::xtensor_fixed<T, xt::xshape<D...>> r;
        std::copy_n(p, (std::size_t(1) * ... * D), r.data());
        return r;
    }
};

}  // namespace kata::exec
