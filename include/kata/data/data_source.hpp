// kata/data/data_source.hpp: where a DataIterator's examples come from (nnabla's DataSource).
//
//   DataSource<T...>        the interface: size(), variables() (one name per variable), shapes() (the shape
//                           of ONE example of each variable) and load(index, destinations), which writes
//                           example `index` into one pointer per variable. Element types are compile-time
//                           (T... : float images, std::int32_t labels, ...), so a batch can be unpacked with
//                           structured bindings and nothing is converted at run time.
//   MemoryDataSource<T...>  arrays in memory whose first axis is the example axis (kata's name: nnabla
//                           wraps arrays in a load_func instead); loading is a memcpy.
//   SimpleDataSource<T...>  nnabla's SimpleDataSource: load_func(i) returns one example as a tuple of arrays;
//                           the variables are named "x0", "x1", ... as in nnabla, and every example must have
//                           the shapes of example 0 (a mismatch throws naming the index and the variable).
//
// Shuffling and epochs are not the source's business: DataIterator owns the order (nnabla does it in
// the memory-cache wrapper that data_iterator() puts around every source). docs/data.md.
#pragma once

#include "../detail/xtensor_fix.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <xtensor/xarray.hpp>

namespace kata::data {

/// The shape of one example of one variable (no batch axis).
using example_shape = std::vector<std::size_t>;

template <class... T>
class DataSource {
public:
    static_assert(sizeof...(T) > 0, "DataSource: at least one variable");
    static constexpr std::size_t num_variables = sizeof...(T);
    using destinations = std::tuple<T*...>;

    virtual ~DataSource() = default;

    std::size_t size() const { return size_; }
    const std::vector<std::string>& variables() const { return variables_; }
    const std::array<example_shape, sizeof...(T)>& shapes() const { return shapes_; }

    /// Writes example `index` (0 <= index < size()) to the destinations, each holding the product of
    /// that variable's example shape elements.
    virtual void load(std::size_t index, const destinations& out) = 0;

protected:
    DataSource() = default;
    /// Called once by the derived constructor.
    void init(std::size_t size, std::vector<std::string> variables,
              std::array<example_shape, sizeof...(T)> shapes) {
        if (variables.size() != sizeof...(T))
            throw std::invalid_argument("DataSource: " + std::to_string(variables.size()) +
                                        " variable names for " + std::to_string(sizeof...(T)) + " variables");
        size_ = size;
        variables_ = std::move(variables);
        shapes_ = std::move(shapes);
    }
    std::size_t size_ = 0;
    std::vector<std::string> variables_;
    std::array<example_shape, sizeof...(T)> shapes_{};
};

namespace detail {
inline std::size_t element_count(const example_shape& shape) {
    std::size_t n = 1;
    for (std::size_t d : shape) n *= d;
    return n;
}
inline std::string shape_string(const example_shape& shape) {
    std::string s = "(";
    for (std::size_t k = 0; k < shape.size(); ++k) s += (k ? ", " : "") + std::to_string(shape[k]);
    return s + (shape.size() == 1 ? ",)" : ")");
}
}  // namespace detail

template <class... T>
class MemoryDataSource final : public DataSource<T...> {
public:
    /// names[k] names arrays[k]; every array has the same extent along axis 0 (the examples).
    MemoryDataSource(std::vector<std::string> names, xt::xarray<T>... arrays)
        : arrays_(std::move(arrays)...) {
        std::array<example_shape, sizeof...(T)> shapes;
        std::size_t n = 0;
        bool first = true;
        auto check = [&](std::size_t k, const auto& a) {
            if (names.size() != sizeof...(T))
                throw std::invalid_argument("MemoryDataSource: " + std::to_string(names.size()) +
                                            " variable names for " + std::to_string(sizeof...(T)) +
                                            " arrays");
            const std::string& name = names[k];
            if (a.dimension() == 0)
                throw std::invalid_argument("MemoryDataSource: variable '" + name +
                                            "' is a scalar; axis 0 must be the example axis");
            if (first) n = a.shape()[0];
            if (a.shape()[0] != n)
                throw std::invalid_argument("MemoryDataSource: variable '" + name + "' has " +
                                            std::to_string(a.shape()[0]) + " examples, '" + names[0] +
                                            "' has " + std::to_string(n));
            first = false;
            shapes[k] = example_shape(a.shape().begin() + 1, a.shape().end());
        };
        [&]<std::size_t... K>(std::index_sequence<K...>) { (check(K, std::get<K>(arrays_)), ...); }
        (std::index_sequence_for<T...>{});
        this->init(n, std::move(names), std::move(shapes));
    }

    void load(std::size_t index, const typename DataSource<T...>::destinations& out) override {
        [&]<std::size_t... K>(std::index_sequence<K...>) {
            (copy_one(std::get<K>(arrays_), index, std::get<K>(out)), ...);
        }
        (std::index_sequence_for<T...>{});
    }

private:
    template <class U>
    static void copy_one(const xt::xarray<U>& a, std::size_t index, U* out) {
        const std::size_t per = a.shape()[0] ? a.size() / a.shape()[0] : 0;
        std::memcpy(out, a.data() + index * per, per * sizeof(U));
    }
    std::tuple<xt::xarray<T>...> arrays_;
};

template <class... T>
class SimpleDataSource final : public DataSource<T...> {
public:
    using load_function = std::function<std::tuple<xt::xarray<T>...>(std::size_t)>;

    /// Like nnabla, calls load_func(0) once to learn the variables (their count is compile-time here)
    /// and their example shapes.
    SimpleDataSource(load_function load_func, std::size_t num_examples) : load_func_(std::move(load_func)) {
        if (!load_func_) throw std::invalid_argument("SimpleDataSource: load_func is empty");
        std::vector<std::string> names;
        for (std::size_t k = 0; k < sizeof...(T); ++k) names.push_back("x" + std::to_string(k));
        std::array<example_shape, sizeof...(T)> shapes;
        if (num_examples > 0) {
            auto first = load_func_(0);
            [&]<std::size_t... K>(std::index_sequence<K...>) {
                ((shapes[K] =
                      example_shape(std::get<K>(first).shape().begin(), std::get<K>(first).shape().end())),
                 ...);
            }
            (std::index_sequence_for<T...>{});
        }
        this->init(num_examples, std::move(names), std::move(shapes));
    }

    void load(std::size_t index, const typename DataSource<T...>::destinations& out) override {
        auto example = load_func_(index);
        [&]<std::size_t... K>(std::index_sequence<K...>) {
            (copy_one(K, std::get<K>(example), index, std::get<K>(out)), ...);
        }
        (std::index_sequence_for<T...>{});
    }

private:
    template <class U>
    void copy_one(std::size_t k, const xt::xarray<U>& a, std::size_t index, U* out) const {
        const example_shape& want = this->shapes_[k];
        if (!std::equal(a.shape().begin(), a.shape().end(), want.begin(), want.end()))
            throw std::runtime_error("data_iterator_simple: load_func(" + std::to_string(index) +
                                     ") returned " + this->variables_[k] + " of shape " +
                                     detail::shape_string(example_shape(a.shape().begin(), a.shape().end())) +
                                     ", load_func(0) returned " + detail::shape_string(want));
        // Copy in row-major order whatever the array's layout.
        std::size_t i = 0;
        for (const U& v : a) out[i++] = v;
    }
    load_function load_func_;
};

}  // namespace kata::data
