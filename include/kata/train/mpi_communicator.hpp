// kata/train/mpi_communicator.hpp
//
// Purpose: nnabla's MultiProcessDataParallelCommunicator over MPI: one process per replica (started by
// `mpirun -np N`), gradients summed or averaged over all processes, parameters broadcast from a root.
// The interface and its nnabla mapping are in kata/train/communicator.hpp; docs/training.md,
// "Data-parallel training", shows the training step.
//
// Needs MPI: link the CMake target kata::mpi (defined when find_package(MPI COMPONENTS CXX) succeeds).
// kata::kata does not depend on MPI; only this header includes <mpi.h>.
//
// Behaviour:
//   * init() initialises MPI (MPI_Init_thread, MPI_THREAD_FUNNELED: kata's worker threads never call MPI)
//     unless the program already did, and works on a duplicate of MPI_COMM_WORLD (kata's collectives never
//     match a message of the program's own). The destructor frees the duplicate and calls MPI_Finalize
//     when init() initialised MPI.
//   * Every MPI call runs with MPI_ERRORS_RETURN on that communicator; a failure throws mpi_error naming
//     the call and MPI's error string (MPI's default handler would abort the job without a word of kata).
//   * all_reduce(data, division, inplace=false) packs all buffers into one contiguous buffer, runs one
//     MPI_Allreduce (MPI_SUM, in place) and unpacks; the pack buffer grows to the largest total seen and is
//     then reused, so a training step allocates nothing after the first. inplace=true runs one
//     MPI_Allreduce per buffer and copies nothing. division divides the sum by size() (nnabla's mean).
//     Counts above INT_MAX are split into several calls.
//   * Replicas stay bitwise identical only if every rank gets the same bits from MPI_Allreduce. Open MPI
//     gives every rank the same result for 2 processes (a + b == b + a); for more processes the MPI
//     standard only recommends it. bcast(data_of(store)) re-synchronises replicas if ever needed.
//   * Not thread-safe: one thread calls the communicator.
#pragma once

#include "communicator.hpp"

#if !__has_include(<mpi.h>)
#error                                                                                                       \
    "kata/train/mpi_communicator.hpp needs MPI's <mpi.h>: link the CMake target kata::mpi (Open MPI: libopenmpi-dev)"
#endif
#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace kata::train {

/// An MPI call failed; what() names the call and MPI's error string.
class mpi_error : public std::runtime_error {
public:
    mpi_error(const char* call, int code)
        : std::runtime_error(std::string("kata::train::MultiProcessDataParallelCommunicator: ") + call +
                             " failed: " + describe(code)),
          code_(code) {}
    /// MPI's error code.
    int code() const noexcept { return code_; }

private:
    static std::string describe(int code) {
        char text[MPI_MAX_ERROR_STRING];
        int len = 0;
        if (MPI_Error_string(code, text, &len) != MPI_SUCCESS)
            return "MPI error code " + std::to_string(code);
        return std::string(text, static_cast<std::size_t>(len)) + " (code " + std::to_string(code) + ")";
    }
    int code_;
};

namespace detail {

/// Throws mpi_error for anything but MPI_SUCCESS.
inline void mpi_check(int rc, const char* call) {
    if (rc != MPI_SUCCESS) throw mpi_error(call, rc);
}

}  // namespace detail

/// nnabla's MultiProcessDataParallelCommunicator (see the header comment).
class MultiProcessDataParallelCommunicator final : public Communicator {
public:
    MultiProcessDataParallelCommunicator() = default;
    MultiProcessDataParallelCommunicator(const MultiProcessDataParallelCommunicator&) = delete;
    MultiProcessDataParallelCommunicator& operator=(const MultiProcessDataParallelCommunicator&) = delete;
    ~MultiProcessDataParallelCommunicator() override { release(); }

    /// Initialises MPI if needed (argc/argv are passed on to MPI_Init_thread) and joins MPI_COMM_WORLD.
    /// Calling it again does nothing.
    void init(int* argc, char*** argv) {
        if (comm_ != MPI_COMM_NULL) return;
        int initialized = 0, finalized = 0;
        detail::mpi_check(MPI_Initialized(&initialized), "MPI_Initialized");
        detail::mpi_check(MPI_Finalized(&finalized), "MPI_Finalized");
        if (finalized)
            throw std::logic_error(
                "kata::train::MultiProcessDataParallelCommunicator::init: MPI was finalized");
        if (!initialized) {
            int provided = 0;
            detail::mpi_check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
            owns_mpi_ = true;
        }
        MPI_Comm dup = MPI_COMM_NULL;
        detail::mpi_check(MPI_Comm_dup(MPI_COMM_WORLD, &dup), "MPI_Comm_dup");
        comm_ = dup;
        detail::mpi_check(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
        detail::mpi_check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
        detail::mpi_check(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
        MPI_Comm node = MPI_COMM_NULL;
        detail::mpi_check(MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node),
                          "MPI_Comm_split_type");
        const int rc = MPI_Comm_rank(node, &local_rank_);
        MPI_Comm_free(&node);
        detail::mpi_check(rc, "MPI_Comm_rank");
    }
    void init() override { init(nullptr, nullptr); }

    int rank() const override { return rank_; }
    int size() const override { return size_; }
    int local_rank() const override { return local_rank_; }

    void all_reduce(buffer_list data, bool division = false, bool inplace = false) override {
        require_init("all_reduce");
        if (inplace) {
            for (std::size_t i = 0; i < data.size(); ++i) {
                const std::span<float> b = data[i];
                allreduce_sum(b);
                if (division) divide(b);
            }
            return;
        }
        const std::span<float> packed = pack(data);
        allreduce_sum(packed);
        if (division) divide(packed);
        unpack(packed, data);
    }

    void bcast(buffer_list data, int src = 0, bool inplace = false) override {
        require_init("bcast");
        if (src < 0 || src >= size_)
            throw std::invalid_argument("kata::train::MultiProcessDataParallelCommunicator::bcast: src " +
                                        std::to_string(src) + " is not a rank of a size-" +
                                        std::to_string(size_) + " communicator");
        if (inplace) {
            for (std::size_t i = 0; i < data.size(); ++i) bcast_from(data[i], src);
            return;
        }
        const std::span<float> packed = rank_ == src ? pack(data) : reserve(data.total());
        bcast_from(packed, src);
        if (rank_ != src) unpack(packed, data);
    }

    void barrier() override {
        require_init("barrier");
        detail::mpi_check(MPI_Barrier(comm_), "MPI_Barrier");
    }

    bool all_reduce_flag(bool flag) override {
        require_init("all_reduce_flag");
        int in = flag ? 1 : 0, out = 0;
        detail::mpi_check(MPI_Allreduce(&in, &out, 1, MPI_INT, MPI_LOR, comm_), "MPI_Allreduce");
        return out != 0;
    }

    const char* name() const noexcept override { return "MultiProcessDataParallelCommunicator"; }

    /// The communicator kata's collectives run on (a duplicate of MPI_COMM_WORLD after init()).
    MPI_Comm mpi_comm() const noexcept { return comm_; }
    /// The capacity of the pack buffer, in floats (for tests: it stops growing after the first step).
    std::size_t pack_capacity() const noexcept { return pack_.size(); }

private:
    void require_init(const char* what) const {
        if (comm_ == MPI_COMM_NULL)
            throw std::logic_error(std::string("kata::train::MultiProcessDataParallelCommunicator::") + what +
                                   ": call init() first");
    }

    // MPI counts are int: larger buffers go in pieces.
    static constexpr std::size_t max_count = static_cast<std::size_t>(INT_MAX);

    void allreduce_sum(std::span<float> b) {
        for (std::size_t at = 0; at < b.size(); at += max_count) {
            const int n = static_cast<int>(std::min(max_count, b.size() - at));
            detail::mpi_check(MPI_Allreduce(MPI_IN_PLACE, b.data() + at, n, MPI_FLOAT, MPI_SUM, comm_),
                              "MPI_Allreduce");
        }
    }
    void bcast_from(std::span<float> b, int src) {
        for (std::size_t at = 0; at < b.size(); at += max_count) {
            const int n = static_cast<int>(std::min(max_count, b.size() - at));
            detail::mpi_check(MPI_Bcast(b.data() + at, n, MPI_FLOAT, src, comm_), "MPI_Bcast");
        }
    }
    void divide(std::span<float> b) const noexcept {
        const float n = static_cast<float>(size_);
        for (float& v : b) v /= n;
    }

    std::span<float> reserve(std::size_t total) {
        if (pack_.size() < total) pack_.resize(total);  // the only allocation: once per larger total
        return {pack_.data(), total};
    }
    std::span<float> pack(const buffer_list& data) {
        const std::span<float> packed = reserve(data.total());
        float* out = packed.data();
        for (std::size_t i = 0; i < data.size(); ++i) out = std::copy_n(data[i].data(), data[i].size(), out);
        return packed;
    }
    static void unpack(std::span<const float> packed, const buffer_list& data) {
        const float* in = packed.data();
        for (std::size_t i = 0; i < data.size(); ++i) {
            const std::span<float> b = data[i];
            std::copy_n(in, b.size(), b.data());
            in += b.size();
        }
    }

    void release() noexcept {
        if (comm_ != MPI_COMM_NULL) {
            int finalized = 0;
            MPI_Finalized(&finalized);
            if (!finalized) MPI_Comm_free(&comm_);
            comm_ = MPI_COMM_NULL;
        }
        if (owns_mpi_) {
            int finalized = 0;
            MPI_Finalized(&finalized);
            if (!finalized) MPI_Finalize();
            owns_mpi_ = false;
        }
    }

    MPI_Comm comm_ = MPI_COMM_NULL;
    bool owns_mpi_ = false;
    int rank_ = 0;
    int size_ = 1;
    int local_rank_ = 0;
    std::vector<float> pack_;
};

}  // namespace kata::train
