// kata/train/checkpoint.hpp
//
// Training checkpoints (docs/training.md, "Checkpoints"): everything a Trainer needs to continue a run
// bit for bit -- parameters (need_grad ones and the rest: BatchNormalization's running statistics, the
// loss scale entry), solver states (per-parameter arrays, update counters, learning rate), the
// iteration and epoch reached, and each updater's own state (DynamicLossScalingUpdater: scale, counter).
//
// Layout under a model_save_path, one directory per checkpoint:
//     <path>/checkpoint_<iteration, 8 digits>/params.npz       parameter_store::save (every parameter)
//                                            /solver_<k>.npz     solver::save_states of updater k
//                                            /state.npz          iteration, epoch, learning rates, updater states
// Every file is written atomically (kata::io::atomic_write_file: temp + rename), and state.npz is
// written LAST: a checkpoint exists only once its state.npz does. A process killed while saving leaves
// at most a directory without state.npz (ignored) and the previous checkpoints as they were;
// newest_checkpoint() returns the complete checkpoint with the highest iteration.
//
// What is NOT in a checkpoint: the data iterator's position and random state (a resumed run continues
// bit-identically when the data fed at iteration i depends only on i, or when the iterator is restored
// by the caller), and callbacks' own state (monitors).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "../io/file.hpp"
#include "../io/npz.hpp"
#include "updater.hpp"

namespace kata::train {

struct checkpoint_info {
    std::filesystem::path dir;
    std::int64_t iteration = 0;  // the last iteration done before the save
    std::int64_t epoch = 0;      // the last epoch done before the save
};

namespace detail {
inline std::string checkpoint_dir_name(std::int64_t iteration) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "checkpoint_%08lld", static_cast<long long>(iteration));
    return buf;
}
// The distinct parameter stores of `updaters`, in first-use order.
inline std::vector<parameter_store*> stores_of(std::span<updater_base* const> updaters) {
    std::vector<parameter_store*> out;
    for (updater_base* u : updaters)
        if (u->store() && std::find(out.begin(), out.end(), u->store()) == out.end())
            out.push_back(u->store());
    return out;
}
inline std::string params_file(std::size_t k) {
    return k == 0 ? "params.npz" : "params_" + std::to_string(k) + ".npz";
}
}  // namespace detail

// Saves a checkpoint of `updaters` under `root` (created if missing); returns its directory.
inline std::filesystem::path save_checkpoint(const std::filesystem::path& root, std::int64_t iteration,
                                             std::int64_t epoch, std::span<updater_base* const> updaters) {
    namespace fs = std::filesystem;
    const fs::path dir = root / detail::checkpoint_dir_name(iteration);
    fs::create_directories(dir);
    const std::vector<parameter_store*> stores = detail::stores_of(updaters);
    for (std::size_t k = 0; k < stores.size(); ++k) stores[k]->save(dir / detail::params_file(k));
    for (std::size_t k = 0; k < updaters.size(); ++k)
        updaters[k]->solver().save_states(dir / ("solver_" + std::to_string(k) + ".npz"));

    // state.npz, the commit marker: written last.
    const std::int64_t counters[2] = {iteration, epoch};
    std::vector<float> rates;
    std::vector<std::vector<double>> states;
    for (updater_base* u : updaters) {
        rates.push_back(u->solver().learning_rate());
        states.push_back(u->state());
    }
    std::vector<io::npz_item> items;
    items.push_back({"iteration", io::npy_dtype::i8, {}, std::as_bytes(std::span(counters, 1))});
    items.push_back({"epoch", io::npy_dtype::i8, {}, std::as_bytes(std::span(counters + 1, 1))});
    items.push_back({"learning_rates", io::npy_dtype::f4, {rates.size()}, std::as_bytes(std::span(rates))});
    for (std::size_t k = 0; k < states.size(); ++k)
        items.push_back({"updater_" + std::to_string(k),
                         io::npy_dtype::f8,
                         {states[k].size()},
                         std::as_bytes(std::span(states[k]))});
    io::save_npz(dir / "state.npz", items);
    return dir;
}

namespace detail {
struct checkpoint_state {
    std::int64_t iteration = 0, epoch = 0;
    std::vector<float> rates;
    std::vector<std::vector<double>> states;
};
inline checkpoint_state read_checkpoint_state(const std::filesystem::path& file) {
    const std::vector<std::byte> bytes = io::read_file_bytes(file);
    const std::vector<io::npz_entry> entries = io::read_npz(bytes, file.string());
    checkpoint_state s;
    bool have_iteration = false, have_epoch = false;
    auto fail = [&](const std::string& m) { throw io_error(file.string() + ": " + m); };
    for (const io::npz_entry& e : entries) {
        const io::npy_view& v = e.array;
        if (e.name == "iteration" || e.name == "epoch") {
            if (v.dtype != io::npy_dtype::i8 || v.element_count() != 1)
                fail("'" + e.name + "' is not an int64 scalar");
            std::int64_t x;
            std::memcpy(&x, v.data.data(), sizeof x);
            (e.name == "iteration" ? s.iteration : s.epoch) = x;
            (e.name == "iteration" ? have_iteration : have_epoch) = true;
        } else if (e.name == "learning_rates") {
            if (v.dtype != io::npy_dtype::f4) fail("'learning_rates' is not float32");
            s.rates.resize(v.element_count());
            std::memcpy(s.rates.data(), v.data.data(), v.data.size());
        } else if (e.name.rfind("updater_", 0) == 0) {
            if (v.dtype != io::npy_dtype::f8) fail("'" + e.name + "' is not float64");
            const std::size_t k = std::stoul(e.name.substr(8));
            if (s.states.size() <= k) s.states.resize(k + 1);
            s.states[k].resize(v.element_count());
            std::memcpy(s.states[k].data(), v.data.data(), v.data.size());
        }
    }
    if (!have_iteration || !have_epoch) fail("not a kata checkpoint state (no 'iteration' or 'epoch')");
    return s;
}
}  // namespace detail

// The complete checkpoint with the highest iteration under `root`, if any (directories without a
// readable state.npz are ignored: an interrupted save).
inline std::optional<checkpoint_info> newest_checkpoint(const std::filesystem::path& root) {
    namespace fs = std::filesystem;
    std::optional<checkpoint_info> best;
    std::error_code ec;
    if (!fs::is_directory(root, ec)) return best;
    for (const fs::directory_entry& d : fs::directory_iterator(root, ec)) {
        const std::string name = d.path().filename().string();
        if (!d.is_directory() || name.rfind("checkpoint_", 0) != 0) continue;
        if (!fs::exists(d.path() / "state.npz")) continue;
        try {
            const detail::checkpoint_state s = detail::read_checkpoint_state(d.path() / "state.npz");
            if (!best || s.iteration > best->iteration)
                best = checkpoint_info{d.path(), s.iteration, s.epoch};
        } catch (const io_error&) {
            continue;  // unreadable: not a checkpoint
        }
    }
    return best;
}

// Loads the checkpoint in `dir` into `updaters` (the same updaters, in the same order, as saved):
// parameters, solver states and learning rates, updater states. Returns what it holds. The state file
// is read and checked first; each parameter and solver file is then loaded with its own strong guarantee.
inline checkpoint_info load_checkpoint(const std::filesystem::path& dir,
                                       std::span<updater_base* const> updaters) {
    const detail::checkpoint_state s = detail::read_checkpoint_state(dir / "state.npz");
    if (s.rates.size() != updaters.size())
        throw io_error((dir / "state.npz").string() + ": saved with " + std::to_string(s.rates.size()) +
                       " updaters, loading into " + std::to_string(updaters.size()));
    const std::vector<parameter_store*> stores = detail::stores_of(updaters);
    for (std::size_t k = 0; k < stores.size(); ++k) stores[k]->load(dir / detail::params_file(k));
    for (std::size_t k = 0; k < updaters.size(); ++k) {
        updaters[k]->solver().load_states(dir / ("solver_" + std::to_string(k) + ".npz"));
        updaters[k]->solver().set_learning_rate(s.rates[k]);
        if (k < s.states.size() && !s.states[k].empty()) updaters[k]->set_state(s.states[k]);
    }
    return checkpoint_info{dir, s.iteration, s.epoch};
}

}  // namespace kata::train
