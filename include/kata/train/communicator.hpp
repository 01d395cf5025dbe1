// kata/train/communicator.hpp
//
// Purpose: nnabla's communicator interface for data-parallel training (nnabla.communicators.Communicator),
// the single-process communicator that needs no MPI, and the helpers that list a store's gradients or
// values as buffers. The MPI implementation is kata/train/mpi_communicator.hpp (target kata::mpi);
// docs/training.md, "Data-parallel training", shows the whole step.
//
// nnabla mapping:
//   comm = C.MultiProcessDataParallelCommunicator(ctx); comm.init()
//        -> kata::train::MultiProcessDataParallelCommunicator comm; comm.init();  (mpi_communicator.hpp)
//   comm.rank, comm.size, comm.local_rank -> comm.rank(), comm.size(), comm.local_rank()
//   comm.all_reduce(data, division=False, inplace=False)
//        -> comm.all_reduce(data, /*division=*/false, /*inplace=*/false)
//           data: one buffer or a list of buffers (see buffer_list). division: divide the sum by size()
//           (the mean). inplace=false: the buffers are packed into one contiguous buffer, reduced by one
//           collective and unpacked (nnabla's meaning of inplace=False); inplace=true: one collective per
//           buffer, no copies. The result replaces the data on every rank in both cases.
//   comm.bcast(data, src=0, inplace=False) -> comm.bcast(data, src, inplace)
//   comm.barrier()                          -> comm.barrier()
//   grads = [x.grad for x in nn.get_parameters().values()] -> kata::train::grads_of(store)
//   (kata's own) comm.all_reduce_flag(flag): true when flag is true on any rank. A step that found inf/NaN
//        in its gradients on one rank is then skipped on all of them, and the replicas stay identical.
//
// Why a base class with virtual functions: nnabla's trainers take `comm=None` or any communicator, and so
// do kata's (a Communicator*, nullptr for none); a communicator call is one collective over a whole model,
// so the indirection costs nothing measurable. The buffer list is type-erased (buffer_list) so that
// all_reduce accepts a std::vector<xt::xarray<float>*>, a std::vector<std::span<float>>, one xarray or one
// span without templates and without allocating.
//
// single_process_communicator (kata's own; not nnabla's SingleProcessDataParallelCommunicator, which
// drives several devices from one process): rank 0 of size 1, every collective is the identity (the sum
// over one rank is the data itself, the mean divides by 1), so code written for a communicator runs
// without mpirun.
//
// Every rank must pass buffers of the same sizes in the same order to a collective, as in nnabla (MPI
// cannot check it; a mismatch corrupts the result or blocks). The gradients are float32: parameter grad()
// buffers are float32 in kata, also under mixed precision (float32 master weights).
#pragma once

#include "../detail/xtensor_fix.hpp"
#include "../io/parameter_store_core.hpp"

#include <concepts>
#include <cstddef>
#include <iterator>
#include <memory>
#include <ranges>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <xtensor/xarray.hpp>

namespace kata::train {

namespace detail {

inline std::span<float> as_buffer(std::span<float> s) noexcept { return s; }
inline std::span<float> as_buffer(xt::xarray<float>& a) noexcept { return {a.data(), a.size()}; }
inline std::span<float> as_buffer(std::vector<float>& v) noexcept { return {v.data(), v.size()}; }
inline std::span<float> as_buffer(xt::xarray<float>* a) {
    if (!a) throw std::invalid_argument("kata::train communicator: a buffer of the list is a null pointer");
    return {a->data(), a->size()};
}

}  // namespace detail

/// One float32 buffer a collective can act on: std::span<float>, xt::xarray<float> (& or *),
/// std::vector<float>&.
template <class T>
concept float_buffer = requires(T&& t) {
    { detail::as_buffer(t) } -> std::same_as<std::span<float>>;
};

/// A list of buffers: a random-access range of float_buffer (std::vector<xt::xarray<float>*>, ...).
template <class R>
concept float_buffer_list = std::ranges::random_access_range<R> && std::ranges::sized_range<R> &&
    float_buffer<std::ranges::range_reference_t<R>>;

/// A non-owning, non-allocating view of one buffer or of a list of buffers, as the communicators take
/// them. It refers to its argument: use it only within the call it is built for.
class buffer_list {
public:
    /// One buffer.
    template <float_buffer B>
    requires(!float_buffer_list<B>) buffer_list(B&& b)
        : single_(detail::as_buffer(b)), size_(1) {}  // NOLINT: implicit by design

    /// A list of buffers.
    template <float_buffer_list R>
    buffer_list(R&& r) noexcept  // NOLINT: implicit by design
        : list_(static_cast<const void*>(std::addressof(r))),
          size_(static_cast<std::size_t>(std::ranges::size(r))),
          at_([](const void* l, std::size_t i) -> std::span<float> {
              auto& range = *static_cast<std::remove_reference_t<R>*>(const_cast<void*>(l));
              return detail::as_buffer(std::ranges::begin(range)[static_cast<std::ptrdiff_t>(i)]);
          }) {}

    std::size_t size() const noexcept { return size_; }
    /// Buffer i (throws std::invalid_argument for a null pointer in the list).
    std::span<float> operator[](std::size_t i) const { return at_ ? at_(list_, i) : single_; }
    /// The number of floats over all buffers.
    std::size_t total() const {
        std::size_t n = 0;
        for (std::size_t i = 0; i < size_; ++i) n += (*this)[i].size();
        return n;
    }

private:
    std::span<float> single_;
    const void* list_ = nullptr;
    std::size_t size_ = 0;
    std::span<float> (*at_)(const void*, std::size_t) = nullptr;
};

/// nnabla's communicator interface (see the header comment).
class Communicator {
public:
    virtual ~Communicator() = default;

    /// Joins the process group (nnabla's comm.init()). The collectives need it first; before it, rank()
    /// is 0 and size() is 1.
    virtual void init() = 0;
    /// This process's rank in [0, size()).
    virtual int rank() const = 0;
    /// The number of processes.
    virtual int size() const = 0;
    /// This process's rank among the processes on its machine (to pick a device).
    virtual int local_rank() const = 0;

    /// Sums `data` over all ranks (divided by size() with division = true) and writes the result into
    /// `data` on every rank. inplace = false: one collective over a packed copy of all buffers.
    virtual void all_reduce(buffer_list data, bool division = false, bool inplace = false) = 0;
    /// Copies `data` of rank `src` into `data` of every other rank (packed when inplace = false).
    virtual void bcast(buffer_list data, int src = 0, bool inplace = false) = 0;
    /// Returns when every rank has called it.
    virtual void barrier() = 0;
    /// True on every rank when `flag` is true on at least one rank.
    virtual bool all_reduce_flag(bool flag) = 0;

    /// nnabla's comm.name.
    virtual const char* name() const noexcept = 0;

protected:
    Communicator() = default;
    Communicator(const Communicator&) = default;
    Communicator& operator=(const Communicator&) = default;
};

/// Size 1, no MPI: every collective is the identity (see the header comment).
class single_process_communicator final : public Communicator {
public:
    void init() override {}
    int rank() const override { return 0; }
    int size() const override { return 1; }
    int local_rank() const override { return 0; }
    void all_reduce(buffer_list data, bool = false, bool = false) override {
        for (std::size_t i = 0; i < data.size(); ++i) (void)data[i];  // the same null checks as MPI's
    }
    void bcast(buffer_list data, int src = 0, bool = false) override {
        if (src != 0)
            throw std::invalid_argument("kata::train::single_process_communicator::bcast: src " +
                                        std::to_string(src) + " is not a rank of a size-1 communicator");
        for (std::size_t i = 0; i < data.size(); ++i) (void)data[i];
    }
    void barrier() override {}
    bool all_reduce_flag(bool flag) override { return flag; }
    const char* name() const noexcept override { return "single_process_communicator"; }
};

/// The gradient buffers of `params` (nnabla's `[x.grad for x in nn.get_parameters().values()]`), in their
/// order; allocates each missing gradient (zeros) now, so that a step does not. The pointers stay valid
/// as long as the parameters do.
inline std::vector<xt::xarray<float>*>
grads_of(const std::vector<std::pair<std::string, parameter*>>& params) {
    std::vector<xt::xarray<float>*> out;
    out.reserve(params.size());
    for (const auto& [name, p] : params) {
        if (!p) throw std::invalid_argument("kata::train::grads_of: parameter '" + name + "' is null");
        out.push_back(&p->grad());
    }
    return out;
}
/// The gradient buffers of the store's need_grad parameters of the current scope (get_parameters order).
inline std::vector<xt::xarray<float>*> grads_of(parameter_store& store) {
    return grads_of(store.get_parameters(true));
}

/// The value buffers of `params` (for bcast of the initial parameters from rank 0).
inline std::vector<xt::xarray<float>*>
data_of(const std::vector<std::pair<std::string, parameter*>>& params) {
    std::vector<xt::xarray<float>*> out;
    out.reserve(params.size());
    for (const auto& [name, p] : params) {
        if (!p) throw std::invalid_argument("kata::train::data_of: parameter '" + name + "' is null");
        out.push_back(&p->data);
    }
    return out;
}
/// The value buffers of every parameter of the store's current scope (need_grad or not: running
/// statistics of BatchNormalization are replicated too).
inline std::vector<xt::xarray<float>*> data_of(parameter_store& store) {
    return data_of(store.get_parameters(false));
}

}  // namespace kata::train
