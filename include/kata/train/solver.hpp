// kata/train/solver.hpp
//
// Purpose: what every solver of kata/train/solvers.hpp shares (nnabla's nbla::Solver): the registered
// parameters and their per-parameter state, the gradient operations (zero_grad, weight_decay,
// clip_grad_by_norm, scale_grad, check_*_grad), the learning rate, and the state in and out
// (get_states/set_states, save_states/load_states as .npz). A concrete solver adds its update rule.
//
// nnabla mapping (docs/solvers.md has the full list of semantics and deviations):
//   solver.set_parameters(nn.get_parameters(), reset=True, retain_state=False)
//        -> solver.set_parameters(store, {.reset = true, .retain_state = false})   (need_grad ones of
//           the store's current scope, like nn.get_parameters()), or from a list of (name, parameter*)
//   remove_parameters(keys), clear_parameters(), get_parameters()   -> same names
//   zero_grad(), update(), weight_decay(r), clip_grad_by_norm(c), scale_grad(s),
//   check_inf_grad(), check_nan_grad(), check_inf_or_nan_grad(), weight_decay_is_fused(),
//   learning_rate(), set_learning_rate(lr), name                   -> same names
//   get_states() / set_states(states)                               -> copies (nnabla shares arrays)
//   save_states(path) / load_states(path)                           -> .npz instead of .h5/.protobuf
//
// State file (.npz, written atomically by kata::io::save_npz): for each registered parameter, in
// registration order, one float32 array "<parameter>/<state>" of the parameter's shape per state of
// the solver (nnabla's state names: Momentum "m", Adam "mean" and "var", ...) and one int64 scalar
// "<parameter>/t" (the update counter). The same layout as nnabla's .h5 state files. Parameter names
// may contain '/': an entry's state name is what follows its last '/'.
//
// Semantics kept from nnabla:
//   * every parameter has its own counter t, advanced by update() only when the parameter is updated
//     (saturating at 2^32 - 2); Adam's bias correction uses it.
//   * set_parameters(reset=false): known names keep their state only with retain_state=true (and
//     then the shape must be unchanged, else parameter_error); otherwise the state restarts at zero.
//   * clip_grad_by_norm clips each parameter's gradient by its own norm (not the global norm):
//     g <- clip_norm * g / ||g|| when ||g||^2 > clip_norm^2 (and > 0).
//   * weight_decay(r): g <- g + r * w, at once (nothing for r == 0); in solvers whose decay is fused
//     into the update (AdamW, SgdW) it only records r for the next update(), after which the rate
//     returns to the solver's default `wd` (the last call before an update wins).
//   * load_states: every parameter in the file must be registered; registered parameters absent
//     from the file keep their state.
// Deviations (safer than nnabla, which accepts these silently and corrupts the state):
//   set_states/load_states check state names, shapes and dtypes, and throw before changing anything
//   (strong guarantee), naming the file, the parameter, the state and both shapes.
//
// Allocation: set_parameters allocates the states (and a missing gradient). update(), zero_grad(),
// weight_decay(), clip_grad_by_norm(), scale_grad() and check_*_grad() never allocate (tested by
// tests/train/solver_allocations.cpp), except to build the message of an exception.
//
// Registered parameters are held by pointer: they must outlive the solver's use of them (the nodes of
// a parameter_store are stable; create_or_replace keeps the address but may change the shape, which
// update() reports instead of reading out of bounds). Not thread-safe.
#pragma once

#include "../detail/xtensor_fix.hpp"
#include "../io/file.hpp"
#include "../io/npy.hpp"
#include "../io/npz.hpp"
#include "../io/parameter_store.hpp"
#include "solver_core.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kata::train::detail {

// solver::save_states and solver::load_states (the state file layout is in the header comment).
template <class S>
struct solver_files {
    /// Writes every registered parameter's state to `path` (.npz, atomically; layout in the header
    /// comment). A failure leaves an existing file untouched.
    static void save(const S& self, const std::filesystem::path& path) {
        std::vector<std::int64_t> counters;
        counters.reserve(self.slots_.size());
        for (const typename S::slot& s : self.slots_) counters.push_back(s.t);
        std::vector<io::npz_item> items;
        for (std::size_t i = 0; i < self.slots_.size(); ++i) {
            const typename S::slot& s = self.slots_[i];
            for (std::size_t k = 0; k < self.state_names_.size(); ++k)
                items.push_back(
                    io::make_npz_item(s.name + "/" + std::string(self.state_names_[k]), s.state[k]));
            items.push_back(io::npz_item{s.name + "/t",
                                         io::npy_dtype::i8,
                                         {},
                                         std::as_bytes(std::span<const std::int64_t>(&counters[i], 1))});
        }
        io::save_npz(path, items);
    }

    /// Reads a state file written by save_states. Every parameter in the file must be registered
    /// and have all of this solver's states (float32, the parameter's shape) and its counter t (an
    /// integer scalar); io_error naming the file, parameter, state and shapes otherwise, and nothing
    /// changes. Registered parameters absent from the file keep their state.
    static void load(S& self, const std::filesystem::path& path) {
        const std::string file = path.string();
        const std::vector<std::byte> bytes = io::read_file_bytes(path);
        const std::vector<io::npz_entry> entries = io::read_npz(bytes, file);
        auto fail = [&](const std::string& msg) -> void { throw io_error(file + ": " + msg); };

        struct found {
            std::size_t slot;
            std::vector<const io::npy_view*> state;
            const io::npy_view* t = nullptr;
        };
        std::map<std::string_view, found> groups;
        for (const io::npz_entry& e : entries) {
            const std::size_t slash = e.name.rfind('/');
            if (slash == std::string::npos || slash == 0 || slash + 1 == e.name.size())
                fail("entry '" + e.name + "' is not '<parameter>/<state>'");
            const std::string_view param = std::string_view(e.name).substr(0, slash);
            const std::string_view key = std::string_view(e.name).substr(slash + 1);
            auto g = groups.find(param);
            if (g == groups.end()) {
                const typename S::slot* sp = self.find_slot(param);
                if (!sp) throw io_error(file + ": " + self.not_registered(param) + " (found in the file)");
                g = groups.emplace(param, found{std::size_t(sp - self.slots_.data()), {}, nullptr}).first;
                g->second.state.assign(self.state_names_.size(), nullptr);
            }
            const typename S::slot& s = self.slots_[g->second.slot];
            const std::string what = "parameter '" + s.name + "': ";
            if (key == "t") {
                const io::npy_view& v = e.array;
                if (!v.shape.empty() || (v.dtype != io::npy_dtype::i8 && v.dtype != io::npy_dtype::i4))
                    fail(what + "counter 't' must be an int64 or int32 scalar, found " +
                         std::string(io::npy_dtype_name(v.dtype)) + " of shape " + io::shape_repr(v.shape));
                const std::int64_t t = read_counter(v);
                if (t < 0 || t > std::int64_t(S::max_t))
                    fail(what + "counter 't' = " + std::to_string(t) + " is out of range");
                g->second.t = &e.array;
                continue;
            }
            const std::size_t k = self.state_index(key);
            if (k == self.state_names_.size())
                fail(what + "'" + std::string(key) + "' is not a state of " + std::string(self.name_) + " (" +
                     self.state_list() + ")");
            if (e.array.dtype != io::npy_dtype::f4)
                fail(what + "state '" + std::string(key) + "': dtype mismatch: expected float32, found " +
                     std::string(io::npy_dtype_name(e.array.dtype)));
            if (!io::detail::same_shape(s.state[k].shape(), e.array.shape))
                fail(what + "state '" + std::string(key) + "' has shape " + io::shape_repr(e.array.shape) +
                     " in the file, expected " + self.state_shape(s) + " (the parameter's shape)");
            g->second.state[k] = &e.array;
        }
        for (const auto& [param, f] : groups) {
            const std::string what = "parameter '" + std::string(param) + "': ";
            for (std::size_t k = 0; k < self.state_names_.size(); ++k)
                if (!f.state[k])
                    fail(what + "state '" + std::string(self.state_names_[k]) + "' missing from the file");
            if (!f.t) fail(what + "counter 't' missing from the file");
        }
        // Commit: nothing below throws.
        for (const auto& [param, f] : groups) {
            typename S::slot& s = self.slots_[f.slot];
            s.t = std::uint32_t(read_counter(*f.t));
            for (std::size_t k = 0; k < self.state_names_.size(); ++k)
                if (!f.state[k]->data.empty())
                    std::memcpy(s.state[k].data(), f.state[k]->data.data(), f.state[k]->data.size());
        }
    }

    static std::int64_t read_counter(const io::npy_view& v) noexcept {
        if (v.dtype == io::npy_dtype::i4) {
            std::int32_t t;
            std::memcpy(&t, v.data.data(), sizeof t);
            return t;
        }
        std::int64_t t;
        std::memcpy(&t, v.data.data(), sizeof t);
        return t;
    }
};

}  // namespace kata::train::detail
