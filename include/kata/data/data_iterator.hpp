// kata/data/data_iterator.hpp: nnabla's DataIterator (nnabla.utils.data_iterator) over a DataSource.
//
//   auto it = kata::data::data_iterator_simple(load_func, num_examples, batch_size, shuffle, RandomState(seed));
//   auto [x, t] = it.next();          // or: const auto& b = it.next(); b.get<0>(), b.variable<float>("x")
//   it.size(); it.batch_size(); it.epoch(); it.position(); it.variables(); it.reset(); it.seek(epoch, position);
//
// Semantics (nnabla 1.x, DataIterator._next with use_thread=False; docs/data.md):
//   * next() fills batch_size examples in the current order. After each example the position advances;
//     when it reaches size() the epoch ends AT ONCE: epoch() increments, the order is reshuffled (with
//     shuffle) and the position returns to 0. So the last, partial batch of an epoch is completed with the
//     first examples of the next epoch, and a batch that ends exactly at the end of an epoch already
//     reports the next epoch (size 10, batch 5: epoch() is 0 after the first next(), 1 after the second).
//   * shuffle: epoch e's order is the (e+1)-th numpy.random.RandomState(seed).permutation(size()) (the
//     same numbers as numpy, RandomState.hpp); without shuffle the order is 0, 1, 2, ...
//   * reset() returns to the state right after construction (epoch 0, position 0, the rng re-seeded), so
//     the same seed gives the same sequence of batches again.
// Differences from nnabla, on purpose: no prefetch thread (nnabla's epoch()/position() describe the batch
// being prefetched in the background), and epoch() is 0 before the first next() (nnabla: -1).
//
// next() writes into buffers allocated once at construction and returns a reference to them: no
// allocation per call in steady state for memory and file sources (a load_func that returns fresh
// arrays allocates by itself). `auto [x, t] = it.next()` copies the batch; `const auto& [x, t]` does not
// but is overwritten by the following next().
#pragma once

#include "../detail/xtensor_fix.hpp"
#include "data_source.hpp"
#include "random_state.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <xtensor/xarray.hpp>

namespace kata::data {

/// One mini-batch: one array per variable, shape (batch_size, example shape...). Tuple-like
/// (std::tuple_size, get<I>), so `auto [x, t] = it.next();` works; variable<T>(name) finds by name.
template <class... T>
class Batch {
public:
    Batch() = default;
    Batch(std::vector<std::string> names, std::tuple<xt::xarray<T>...> arrays)
        : names_(std::move(names)), arrays_(std::move(arrays)) {}

    static constexpr std::size_t size() { return sizeof...(T); }
    const std::vector<std::string>& variables() const { return names_; }

    template <std::size_t I>
    auto& get() & {
        return std::get<I>(arrays_);
    }
    template <std::size_t I>
    const auto& get() const& {
        return std::get<I>(arrays_);
    }
    template <std::size_t I>
    auto&& get() && {
        return std::move(std::get<I>(arrays_));
    }

    /// The index of a variable name; throws std::out_of_range listing the names.
    std::size_t index_of(std::string_view name) const {
        for (std::size_t k = 0; k < names_.size(); ++k)
            if (names_[k] == name) return k;
        std::string known;
        for (const auto& n : names_) known += (known.empty() ? "" : ", ") + n;
        throw std::out_of_range("Batch: no variable '" + std::string(name) + "' (variables: " + known + ")");
    }
    /// The array of a named variable whose element type is U; throws when the name is unknown or the
    /// variable's element type is not U.
    template <class U>
    const xt::xarray<U>& variable(std::string_view name) const {
        const std::size_t k = index_of(name);
        const xt::xarray<U>* found = nullptr;
        [&]<std::size_t... K>(std::index_sequence<K...>) {
            ((K == k ? (found = pointer_if<U>(std::get<K>(arrays_)), 0) : 0), ...);
        }
        (std::index_sequence_for<T...>{});
        if (!found)
            throw std::invalid_argument("Batch: variable '" + std::string(name) +
                                        "' has another element type than the one requested");
        return *found;
    }
    template <class U>
    xt::xarray<U>& variable(std::string_view name) {
        return const_cast<xt::xarray<U>&>(static_cast<const Batch&>(*this).variable<U>(name));
    }

private:
    template <class U, class V>
    static const xt::xarray<U>* pointer_if(const xt::xarray<V>& a) {
        if constexpr (std::is_same_v<U, V>)
            return &a;
        else
            return nullptr;
    }
    std::vector<std::string> names_;
    std::tuple<xt::xarray<T>...> arrays_;
};

template <std::size_t I, class... T>
auto& get(Batch<T...>& b) {
    return b.template get<I>();
}
template <std::size_t I, class... T>
const auto& get(const Batch<T...>& b) {
    return b.template get<I>();
}

template <class... T>
class DataIterator {
public:
    using source_type = DataSource<T...>;
    using batch_type = Batch<T...>;
    using epoch_callback = std::function<void(int)>;

    DataIterator(std::shared_ptr<source_type> source, std::size_t batch_size, bool shuffle = false,
                 RandomState rng = RandomState{})
        : source_(std::move(source)), batch_size_(batch_size), shuffle_(shuffle), initial_rng_(rng),
          rng_(rng) {
        if (!source_) throw std::invalid_argument("DataIterator: no data source");
        if (batch_size_ == 0) throw std::invalid_argument("DataIterator: batch_size must be positive");
        if (source_->size() == 0)
            throw std::invalid_argument("DataIterator: the data source has no examples");
        std::tuple<xt::xarray<T>...> arrays;
        [&]<std::size_t... K>(std::index_sequence<K...>) {
            ((std::get<K>(arrays) = make_buffer<T>(source_->shapes()[K])), ...);
        }
        (std::index_sequence_for<T...>{});
        batch_ = batch_type(source_->variables(), std::move(arrays));
        order_.resize(source_->size());
        reset();
    }

    /// The next mini-batch (see the header comment for the epoch rule). The reference stays valid until
    /// the following next() or reset().
    const batch_type& next() {
        for (std::size_t b = 0; b < batch_size_; ++b) {
            std::tuple<T*...> out;
            [&]<std::size_t... K>(std::index_sequence<K...>) {
                ((std::get<K>(out) = batch_.template get<K>().data() + b * example_elements_[K]), ...);
            }
            (std::index_sequence_for<T...>{});
            source_->load(order_[position_], out);
            if (++position_ >= order_.size()) next_epoch();
        }
        return batch_;
    }

    /// Back to the state right after construction: epoch 0, position 0, the rng re-seeded.
    void reset() {
        rng_ = initial_rng_;
        epoch_ = 0;
        position_ = 0;
        for (std::size_t k = 0; k < sizeof...(T); ++k)
            example_elements_[k] = detail::element_count(source_->shapes()[k]);
        fill_order();
    }

    /// Puts the iterator where it was when epoch() and position() returned these values (for resuming
    /// a training from a checkpoint: the same seed then gives the same following batches). Replays the
    /// generator's epoch shuffles (O(epoch * size)); no callback runs.
    void seek(int epoch, std::size_t position) {
        if (epoch < 0 || position >= order_.size())
            throw std::out_of_range("DataIterator::seek: epoch " + std::to_string(epoch) + ", position " +
                                    std::to_string(position) + " (size " + std::to_string(order_.size()) +
                                    ")");
        reset();
        for (int e = 0; e < epoch; ++e) fill_order();
        epoch_ = epoch;
        position_ = position;
    }

    std::size_t size() const { return source_->size(); }
    std::size_t batch_size() const { return batch_size_; }
    /// The number of times position() returned to 0.
    int epoch() const { return epoch_; }
    /// The index (in this epoch's order) of the next example.
    std::size_t position() const { return position_; }
    const std::vector<std::string>& variables() const { return source_->variables(); }
    bool shuffle() const { return shuffle_; }
    /// The order of the current epoch: order()[position()] is the source index of the next example.
    std::span<const std::size_t> order() const { return order_; }
    const source_type& source() const { return *source_; }

    /// nnabla's epoch callbacks: end(e) when epoch e ends, begin(e + 1) right after (not at construction).
    void register_epoch_end_callback(epoch_callback cb) { epoch_end_.push_back(std::move(cb)); }
    void register_epoch_begin_callback(epoch_callback cb) { epoch_begin_.push_back(std::move(cb)); }

private:
    template <class U>
    static xt::xarray<U> make_buffer(const example_shape& shape, std::size_t batch) {
        std::vector<std::size_t> full{batch};
        full.insert(full.end(), shape.begin(), shape.end());
        return xt::xarray<U>::from_shape(full);
    }
    template <class U>
    xt::xarray<U> make_buffer(const example_shape& shape) const {
        return make_buffer<U>(shape, batch_size_);
    }
    void fill_order() {
        if (shuffle_)
            rng_.permutation(std::span<std::size_t>(order_));
        else
            for (std::size_t i = 0; i < order_.size(); ++i) order_[i] = i;
    }
    void next_epoch() {
        for (auto& cb : epoch_end_) cb(epoch_);
        ++epoch_;
        position_ = 0;
        fill_order();
        for (auto& cb : epoch_begin_) cb(epoch_);
    }

    std::shared_ptr<source_type> source_;
    std::size_t batch_size_;
    bool shuffle_;
    RandomState initial_rng_;
    RandomState rng_;
    batch_type batch_;
    std::vector<std::size_t> order_;
    std::array<std::size_t, sizeof...(T)> example_elements_{};
    int epoch_ = 0;
    std::size_t position_ = 0;
    std::vector<epoch_callback> epoch_end_, epoch_begin_;
};

/// nnabla's data_iterator(data_source, batch_size, ...): kata keeps shuffle and rng on the iterator.
template <class... T>
DataIterator<T...> data_iterator(std::shared_ptr<DataSource<T...>> source, std::size_t batch_size,
                                 bool shuffle = false, RandomState rng = RandomState{}) {
    return DataIterator<T...>(std::move(source), batch_size, shuffle, rng);
}

namespace detail {
template <class R>
struct load_result;
template <class... T>
struct load_result<std::tuple<xt::xarray<T>...>> {
    using iterator = DataIterator<T...>;
    using source = SimpleDataSource<T...>;
};
}  // namespace detail

/// nnabla's data_iterator_simple(load_func, num_examples, batch_size, shuffle=False, rng=None):
/// load_func(i) returns example i as std::tuple<xt::xarray<T>...> (the element types T are deduced);
/// the variables are named "x0", "x1", ...
template <class F>
auto data_iterator_simple(F load_func, std::size_t num_examples, std::size_t batch_size, bool shuffle = false,
                          RandomState rng = RandomState{}) {
    using result = std::remove_cvref_t<std::invoke_result_t<F&, std::size_t>>;
    using traits = detail::load_result<result>;
    using source = typename traits::source;
    return typename traits::iterator(std::make_shared<source>(std::move(load_func), num_examples), batch_size,
                                     shuffle, rng);
}

/// kata's in-memory source as an iterator: data_iterator_memory({"x", "y"}, std::tuple{xs, ys}, batch_size,
/// shuffle, rng); axis 0 of each array is the example axis.
template <class... T>
DataIterator<T...> data_iterator_memory(std::vector<std::string> names, std::tuple<xt::xarray<T>...> arrays,
                                        std::size_t batch_size, bool shuffle = false,
                                        RandomState rng = RandomState{}) {
    auto source = std::apply(
        [&](auto&... a) {
            return std::make_shared<MemoryDataSource<T...>>(std::move(names), std::move(a)...);
        },
        arrays);
    return DataIterator<T...>(std::move(source), batch_size, shuffle, rng);
}

}  // namespace kata::data

template <class... T>
struct std::tuple_size<kata::data::Batch<T...>> : std::integral_constant<std::size_t, sizeof...(T)> {};
template <std::size_t I, class... T>
struct std::tuple_element<I, kata::data::Batch<T...>> {
    using type = xt::xarray<std::tuple_element_t<I, std::tuple<T...>>>;
};
