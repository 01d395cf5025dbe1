// kata/train/solver_core.hpp
//
// kata::train::solver without the bodies of save_states/load_states (the .npz state files), which
// kata/train/solver.hpp adds (it includes this header; kata/train/solvers.hpp and kata/train.hpp include
// it): the concrete solvers (kata/train/solvers/*.hpp) need only this, so that a training TU that saves
// no solver state does not parse the NPY/ZIP code. Semantics: kata/train/solver.hpp.
#pragma once

#include "../detail/xtensor_fix.hpp"
#include "../io/io_error.hpp"
#include "../io/parameter_store_core.hpp"
#include "elementwise.hpp"
#include "grad_buffer.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <xtensor/xarray.hpp>
#include <xtensor/xbuilder.hpp>

namespace kata::train {

/// One parameter's state (nnabla's SolverState): arrays of the parameter's shape by state name, and
/// the number of updates applied to the parameter.
struct solver_state {
    std::map<std::string, xt::xarray<float>, std::less<>> pstate;
    std::uint32_t t = 0;
};

/// The states of all registered parameters, by parameter name.
using solver_states = std::map<std::string, solver_state, std::less<>>;

/// A parameter as set_parameters takes it (name as the solver and its state file know it).
using named_parameter = std::pair<std::string, parameter*>;

/// nnabla's keyword arguments of set_parameters.
struct set_parameters_args {
    bool reset = true;          ///< forget every registered parameter first
    bool retain_state = false;  ///< with reset = false: a known name keeps its state (same shape required)
};

class solver;

namespace detail {
/// solver's .npz state I/O (S = solver): declared here, defined in kata/train/solver.hpp, and named by
/// save_states/load_states through a type that depends on their path type, so a translation unit that
/// never calls them does not compile the NPY/ZIP code, and one that calls them with only this header
/// fails to compile ("incomplete type") instead of linking wrongly.
template <class S>
struct solver_files;
}  // namespace detail

class solver {
public:
    virtual ~solver() = default;

    /// nnabla's solver name ("Adam", "SgdW", ...).
    std::string_view name() const noexcept { return name_; }
    /// The names of the per-parameter state arrays, in state-file order (empty for Sgd).
    std::span<const std::string_view> state_names() const noexcept { return state_names_; }
    /// True for solvers that apply weight decay inside update() (AdamW, SgdW).
    bool weight_decay_is_fused() const noexcept { return fused_decay_; }

    float learning_rate() const noexcept { return lr_; }
    void set_learning_rate(float learning_rate) noexcept { lr_ = learning_rate; }

    // ----- parameters --------------------------------------------------------------------------

    /// The need_grad parameters of the store's current scope, named relative to it (nnabla's
    /// `solver.set_parameters(nn.get_parameters())`; inside a store.scope("x") guard: that scope).
    void set_parameters(parameter_store& store, set_parameters_args args = {}) {
        set_parameters(store.get_parameters(true), args);
    }

    /// Registers `params` in order (see set_parameters_args; the header comment has the state rules).
    /// Allocates each state (zeros, t = 0) and each missing gradient. Strong guarantee.
    void set_parameters(const std::vector<named_parameter>& params, set_parameters_args args = {}) {
        std::set<std::string_view> seen;
        for (const auto& [name, p] : params) {
            if (!p) throw std::invalid_argument(where("set_parameters") + "parameter '" + name + "' is null");
            if (!seen.insert(name).second)
                throw std::invalid_argument(where("set_parameters") + "parameter '" + name + "' given twice");
        }
        // Phase 1 (may throw, changes nothing): where each parameter goes, and its fresh state.
        // Existing states are not copied: with reset=false only the new or reset ones are allocated.
        constexpr std::size_t appended = std::numeric_limits<std::size_t>::max();
        std::vector<std::size_t> target(params.size(), appended);  // index in slots_, or appended
        std::vector<slot> fresh(params.size());
        std::size_t added = 0;
        for (std::size_t i = 0; i < params.size(); ++i) {
            const auto& [name, p] = params[i];
            if (!args.reset)
                if (auto it = index_.find(name); it != index_.end()) target[i] = it->second;
            if (target[i] != appended && args.retain_state) {
                const slot& old = slots_[target[i]];
                if (!retainable(old, p->data))
                    throw parameter_error(where("set_parameters") + "cannot retain the state of parameter '" +
                                          name + "': its shape changed from " + state_shape(old) + " to " +
                                          io::detail::shape_of(p->data.shape()));
                continue;
            }
            fresh[i] = slot{name, p, {}, 0};
            for (std::size_t k = 0; k < state_names_.size(); ++k)
                fresh[i].state.push_back(xt::zeros<float>(p->data.shape()));
            added += target[i] == appended;
        }
        std::map<std::string, std::size_t, std::less<>> next_index;
        if (!args.reset) next_index = index_;
        const std::size_t kept = args.reset ? 0 : slots_.size();
        for (std::size_t i = 0, next = kept; i < params.size(); ++i)
            if (target[i] == appended) next_index.emplace(params[i].first, next++);
        std::vector<slot> next_slots;
        if (args.reset)
            next_slots.reserve(params.size());
        else
            slots_.reserve(kept + added);
        for (const auto& np : params) detail::allocate_grad(*np.second);

        // Phase 2 (no throw: moves into reserved space, pointer updates, swaps).
        std::vector<slot>& out = args.reset ? next_slots : slots_;
        for (std::size_t i = 0; i < params.size(); ++i) {
            if (target[i] == appended)
                out.push_back(std::move(fresh[i]));
            else if (args.retain_state)
                slots_[target[i]].p = params[i].second;
            else
                slots_[target[i]] = std::move(fresh[i]);
        }
        if (args.reset) slots_.swap(next_slots);
        index_.swap(next_index);
    }

    /// Forgets the parameters named `keys` and their states (unknown names are ignored, as in nnabla).
    void remove_parameters(const std::vector<std::string>& keys) {
        std::set<std::string_view> drop(keys.begin(), keys.end());
        std::erase_if(slots_, [&](const slot& s) { return drop.count(s.name) != 0; });
        rebuild_index();
    }

    /// Forgets every parameter and state.
    void clear_parameters() noexcept {
        slots_.clear();
        index_.clear();
    }

    /// The registered parameters in registration order.
    std::vector<named_parameter> get_parameters() const {
        std::vector<named_parameter> out;
        out.reserve(slots_.size());
        for (const slot& s : slots_) out.emplace_back(s.name, s.p);
        return out;
    }

    // ----- gradients ---------------------------------------------------------------------------

    /// Sets every registered parameter's (allocated) gradient to zero.
    void zero_grad() noexcept {
        for (slot& s : slots_)
            if (detail::grad_allocated(*s.p)) std::fill_n(s.p->grad().data(), s.p->grad().size(), 0.0f);
    }

    /// Applies the solver's rule to every parameter whose gradient was computed, then resets a fused
    /// weight-decay rate to the solver's default. Throws parameter_error (nothing updated) if a
    /// parameter's shape no longer matches its state.
    void update() {
        for (const slot& s : slots_)
            if (detail::grad_computed(*s.p) && !same_shape(s, s.p->data)) throw_shape_changed(s);
        for (slot& s : slots_) {
            if (!detail::grad_computed(*s.p)) continue;
            s.t = s.t < max_t ? s.t + 1 : max_t;
            update_impl(s, s.p->data.data(), s.p->grad().data(), s.p->data.size());
        }
        decay_rate_ = default_decay_;
    }

    /// g <- g + decay_rate * w for every computed gradient; fused solvers record the rate instead.
    void weight_decay(float decay_rate) {
        if (fused_decay_) {
            decay_rate_ = decay_rate;
            return;
        }
        if (decay_rate == 0.0f) return;
        for (slot& s : slots_) {
            if (!detail::grad_computed(*s.p)) continue;
            detail::for_each_element(
                s.p->data.size(), [&](auto& g, const auto& w) { g = g + decay_rate * w; }, s.p->grad().data(),
                static_cast<const float*>(s.p->data.data()));
        }
    }

    /// Per parameter: g <- clip_norm * g / ||g|| when ||g||^2 > clip_norm^2 and ||g||^2 > 0.
    void clip_grad_by_norm(float clip_norm) {
        for (slot& s : slots_) {
            if (!detail::grad_computed(*s.p)) continue;
            float* g = s.p->grad().data();
            const std::size_t n = s.p->grad().size();
            const float sum = detail::sum_of_squares(g, n);
            if (sum > 0.0f && sum > clip_norm * clip_norm) {
                const float norm = std::sqrt(sum);
                detail::for_each_element(
                    n, [&](auto& gv) { gv = clip_norm * gv / norm; }, g);
            }
        }
    }

    /// g <- scale * g for every computed gradient.
    void scale_grad(float scale) {
        for (slot& s : slots_) {
            if (!detail::grad_computed(*s.p)) continue;
            detail::for_each_element(
                s.p->grad().size(), [&](auto& g) { g = g * scale; }, s.p->grad().data());
        }
    }

    bool check_inf_grad() const noexcept { return check(detail::nonfinite::inf); }
    bool check_nan_grad() const noexcept { return check(detail::nonfinite::nan); }
    bool check_inf_or_nan_grad() const noexcept { return check(detail::nonfinite::inf_or_nan); }

    // ----- states ------------------------------------------------------------------------------

    /// A copy of every registered parameter's state.
    solver_states get_states() const {
        solver_states out;
        for (const slot& s : slots_) {
            solver_state st;
            st.t = s.t;
            for (std::size_t k = 0; k < state_names_.size(); ++k)
                st.pstate.emplace(std::string(state_names_[k]), s.state[k]);
            out.emplace(s.name, std::move(st));
        }
        return out;
    }

    /// Copies `states` into the registered parameters' states. Every name must be registered and
    /// carry exactly this solver's state names with the parameter's shape (parameter_error otherwise,
    /// nothing changed). Registered parameters absent from `states` keep their state.
    void set_states(const solver_states& states) {
        for (const auto& [name, st] : states) {
            const slot* sp = find_slot(name);
            if (!sp) throw parameter_error(where("set_states") + not_registered(name));
            const slot& s = *sp;
            for (const auto& [key, a] : st.pstate)
                if (state_index(key) == state_names_.size())
                    throw parameter_error(where("set_states") + "parameter '" + name + "': '" + key +
                                          "' is not a state of " + std::string(name_) + " (" + state_list() +
                                          ")");
            for (std::size_t k = 0; k < state_names_.size(); ++k) {
                auto it = st.pstate.find(state_names_[k]);
                if (it == st.pstate.end())
                    throw parameter_error(where("set_states") + "parameter '" + name + "': state '" +
                                          std::string(state_names_[k]) + "' missing");
                if (!io::detail::same_shape(it->second.shape(), shape_vector(s.state[k])))
                    throw parameter_error(where("set_states") + "parameter '" + name + "': state '" +
                                          std::string(state_names_[k]) + "' has shape " +
                                          io::detail::shape_of(it->second.shape()) + ", expected " +
                                          state_shape(s));
            }
        }
        for (const auto& [name, st] : states) {
            slot& s = slots_[index_.find(name)->second];
            s.t = st.t;
            for (std::size_t k = 0; k < state_names_.size(); ++k) {
                const auto& src = st.pstate.find(state_names_[k])->second;
                std::copy(src.begin(), src.end(), s.state[k].begin());
            }
        }
    }

    /// Writes every registered parameter's state to `path` (.npz, atomically; layout in the header
    /// comment). A failure leaves an existing file untouched. `path`: a std::filesystem::path or
    /// anything convertible to one. Defined in kata/train/solver.hpp (see solver_files).
    template <class Path>
    void save_states(const Path& path) const {
        files<Path>::save(*this, path);
    }

    /// Reads a state file written by save_states. Every parameter in the file must be registered
    /// and have all of this solver's states (float32, the parameter's shape) and its counter t (an
    /// integer scalar); io_error naming the file, parameter, state and shapes otherwise, and nothing
    /// changes. Registered parameters absent from the file keep their state. Defined in
    /// kata/train/solver.hpp.
    template <class Path>
    void load_states(const Path& path) {
        files<Path>::load(*this, path);
    }

protected:
    /// One registered parameter: its name, the parameter, one array per state name (the parameter's
    /// shape) and its update counter.
    struct slot {
        std::string name;
        parameter* p = nullptr;
        std::vector<xt::xarray<float>> state;
        std::uint32_t t = 0;
    };

    /// nnabla caps the counter one below the largest uint32.
    static constexpr std::uint32_t max_t = std::numeric_limits<std::uint32_t>::max() - 1;

    /// `names` must have static storage duration (the solvers pass a static constexpr array).
    solver(std::string_view name, float learning_rate, std::span<const std::string_view> names,
           bool fused_decay = false, float default_decay = 0.0f)
        : name_(name), state_names_(names), lr_(learning_rate), fused_decay_(fused_decay),
          default_decay_(default_decay), decay_rate_(default_decay) {}
    solver(const solver&) = default;
    solver(solver&&) noexcept = default;
    solver& operator=(const solver&) = default;
    solver& operator=(solver&&) noexcept = default;

    /// The rule: updates the n floats of `data` from `grad` and the slot's states; s.t was already advanced.
    virtual void update_impl(slot& s, float* data, const float* grad, std::size_t n) = 0;

    /// Fused solvers: the decay rate the current update() applies.
    float fused_decay_rate() const noexcept { return decay_rate_; }

private:
    template <class Dep>
    using files = detail::solver_files<typename io::detail::dependent_type<Dep, solver>::type>;
    template <class S>
    friend struct detail::solver_files;

    std::string where(const char* fn) const {
        return "kata::train::" + std::string(name_) + "::" + fn + ": ";
    }

    static bool same_shape(const slot& s, const xt::xarray<float>& data) noexcept {
        return s.state.empty() || std::equal(s.state[0].shape().begin(), s.state[0].shape().end(),
                                             data.shape().begin(), data.shape().end());
    }
    /// nnabla compares the old parameter's shape with the new one's; with states kata compares the
    /// state's shape (the old parameter may have been replaced since).
    static bool retainable(const slot& old, const xt::xarray<float>& data) noexcept {
        const auto& have = old.state.empty() ? old.p->data.shape() : old.state[0].shape();
        return std::equal(have.begin(), have.end(), data.shape().begin(), data.shape().end());
    }
    static std::string state_shape(const slot& s) {
        return s.state.empty() ? io::detail::shape_of(s.p->data.shape())
                               : io::detail::shape_of(s.state[0].shape());
    }
    static std::vector<std::size_t> shape_vector(const xt::xarray<float>& a) {
        return std::vector<std::size_t>(a.shape().begin(), a.shape().end());
    }

    [[noreturn]] void throw_shape_changed(const slot& s) const {
        throw parameter_error(where("update") + "parameter '" + s.name + "' has shape " +
                              io::detail::shape_of(s.p->data.shape()) + " but its solver state has shape " +
                              state_shape(s) +
                              " (was it replaced after set_parameters? call set_parameters again)");
    }

    std::size_t state_index(std::string_view key) const noexcept {
        return std::size_t(std::find(state_names_.begin(), state_names_.end(), key) - state_names_.begin());
    }
    std::string state_list() const {
        if (state_names_.empty()) return "it has none besides the counter 't'";
        std::string out = "its states:";
        for (std::string_view n : state_names_) out += " '" + std::string(n) + "'";
        return out;
    }

    const slot* find_slot(std::string_view name) const noexcept {
        auto it = index_.find(name);
        return it == index_.end() ? nullptr : &slots_[it->second];
    }
    static std::string not_registered(std::string_view name) {
        return "parameter '" + std::string(name) +
               "' is not registered in the solver (call set_parameters first)";
    }

    bool check(detail::nonfinite what) const noexcept {
        for (const slot& s : slots_)
            if (detail::grad_computed(*s.p) &&
                detail::check_nonfinite(s.p->grad().data(), s.p->grad().size(), what))
                return true;
        return false;
    }

    void rebuild_index() {
        index_.clear();
        for (std::size_t i = 0; i < slots_.size(); ++i) index_.emplace(slots_[i].name, i);
    }

    std::string_view name_;
    std::span<const std::string_view> state_names_;
    float lr_;
    bool fused_decay_;
    float default_decay_;
    float decay_rate_;
    std::vector<slot> slots_;
    std::map<std::string, std::size_t, std::less<>> index_;
};

}  // namespace kata::train
