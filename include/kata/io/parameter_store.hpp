// kata/io/parameter_store.hpp
//
// (The class itself is in kata/io/parameter_store_core.hpp, which this includes; this header adds the
// .npz save and load. Translation units that only bind and run executors need only the core.)
//
// Purpose: the registry of named, trainable parameters (nnabla's global parameter tree, made an
// object), with scopes, get-or-create, listing, and .npz save/load.
//
// nnabla mapping (docs/nnabla-semantics.md §0.4):
//   nn.parameter_scope("conv1")          -> auto g = store.scope("conv1");   (RAII; nests: "a/b/")
//   get_parameter_or_create(name, shape, init, need_grad)
//                                        -> store.get_or_create(name, shape, init, need_grad)
//        existing name: throws parameter_error if the shape differs (message names parameter, stored
//        and requested shape); overwrites the need_grad flag; the initializer is IGNORED (faithful:
//        this is what makes upstream converters return stale parameters on a second run).
//   nn.get_parameters(grad_only=True)    -> store.get_parameters(grad_only): keys relative to the
//        current scope, in nnabla's tree order (a scope is listed where its first member was created;
//        within a scope, insertion order -- nnabla's nested OrderedDicts).
//   nn.get_parameter(key)                -> store.find(key) / store.at(key) (relative to the scope)
//   nn.clear_parameters()                -> store.clear() (clears the current scope, like nnabla)
//   nn.save_parameters / load_parameters -> store.save(path, grad_only) / store.load(path, mode)
//        (relative to the current scope, like nnabla; the format is .npz instead of .h5/.protobuf).
//
// kata extensions / deviations:
//   * create_or_replace(name, shape, init, need_grad): always (re)creates from the initializer,
//     whatever the old shape. Converters use it to fix upstream's stale "folded"/"pruned" parameters.
//   * Every name (get_or_create, create_or_replace, find, at, contains, erase) is relative to the
//     current scope, as in nnabla. Names must be non-empty '/'-separated components with no empty
//     component (nnabla would silently create "" scopes). A path cannot be both a parameter and a
//     scope ("a" and "a/b"): nnabla asserts on that; kata throws parameter_error.
//   * size() counts the whole store; clear() only the current scope (nnabla's clear_parameters).
//   * Erasing the last member of a scope forgets the scope's position (nnabla keeps empty scopes).
//   * parameter::grad() is allocated on first use (zeros of data's shape, what nnabla's grad reads
//     as before backward): creating or loading parameters allocates no gradient memory.
//   * save() refuses, before writing anything, a parameter whose name does not fit an .npz member
//     name (at most io::npz_max_key_bytes = 65531 bytes relative to the saved scope): io_error
//     naming the file and the parameter; an existing file is left as it was.
//   * need_grad is not stored in .npz files (numpy has no place for it): parameters created by
//     load() get need_grad = true, existing ones keep their flag.
//   * load() copies into the existing data buffers of existing parameters (references and data
//     pointers stay valid, like nnabla's `param.d[...] = ...`).
//
// load modes:
//   load(path)                    load_mode::merge (nnabla): adds new names, overwrites existing
//                                 ones of equal shape; a different shape or a non-float32 entry
//                                 throws io_error. Parameters absent from the file are untouched.
//   load(path, load_mode::strict) additionally every parameter of the store under the current scope
//                                 must be in the file, and every file entry must already exist in
//                                 the store (like PyTorch's strict load_state_dict).
//   load(path, mapping, mode)     the same, after renaming and reshaping/transposing every entry of
//                                 the file with an io::name_mapping (kata/io/name_mapping.hpp): for
//                                 files written by other frameworks (a PyTorch state dict saved with
//                                 numpy.savez, ...). Errors also name the file entry a parameter
//                                 came from; two entries mapped to one name are an error.
//   Strong guarantee: the whole file is read and validated before anything changes; on any error the
//   store is unchanged. io_error messages name the file, the parameter, and the expected and found
//   shape or dtype.
//
// save(path, grad_only=false): writes the current scope's parameters (get_parameters order) as an
// uncompressed .npz atomically (kata::io::atomic_write_file): a failure leaves an existing file
// intact and no temporary behind. The output is deterministic (same parameters -> same bytes).
//
// Not thread-safe. A scope_guard must not outlive its store, and guards must be destroyed in reverse
// order of creation (they restore the scope that was current when they were made, as nnabla does).
#pragma once

#include "../detail/xtensor_fix.hpp"
#include "name_mapping.hpp"
#include "npy.hpp"
#include "npz.hpp"
#include "parameter_store_core.hpp"

#include <cstddef>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <xtensor/xarray.hpp>
#include <xtensor/xbuilder.hpp>
#include <xtensor/xmanipulation.hpp>

namespace kata::io::detail {

// parameter_store::save and parameter_store::load (see the header comment for their semantics).
template <class Store>
struct store_files {
    static void save(const Store& store, const std::filesystem::path& path, bool grad_only) {
        std::vector<io::npz_item> items;
        for (auto& [name, p] : store.get_parameters(grad_only)) {
            if (name.size() > io::npz_max_key_bytes)
                throw io_error(
                    path.string() + ": parameter '" + store.scope_ + name.substr(0, 64) + "...' (a " +
                    std::to_string(name.size()) + "-byte name): too long for an .npz member name (at most " +
                    std::to_string(io::npz_max_key_bytes) +
                    " bytes with the '.npy' suffix: the ZIP name length is 16 bits); nothing was written");
            items.push_back(io::make_npz_item(name, p->data));
        }
        io::save_npz(path, items);
    }

    static void load(Store& store, const std::filesystem::path& path, const io::name_mapping* mapping,
                     load_mode mode) {
        if (mapping) io::check_mapping(*mapping);
        const std::string file = path.string();
        const std::vector<std::byte> bytes = io::read_file_bytes(path);
        const std::vector<io::npz_entry> entries = io::read_npz(bytes, file);

        // One file entry on its way into the store.
        struct item {
            const io::npz_entry* entry;
            std::string full;                            // parameter name, scope included
            std::vector<std::size_t> shape;              // after the transform
            std::vector<std::size_t> axes;               // non-empty: the data is transposed
            typename Store::list_type::iterator target;  // existing node, or store.list_.end()
        };
        auto label = [&](const item& it) {
            std::string l = file + ": parameter '" + it.full + "'";
            if (mapping) l += " (from entry '" + it.entry->name + "')";
            return l;
        };
        auto fail = [&](const item& it, const std::string& msg) -> void {
            throw io_error(label(it) + ": " + msg);
        };

        // Phase 1a: names and shapes after the mapping; nothing is modified.
        std::vector<item> items;
        items.reserve(entries.size());
        std::map<std::string, const io::npz_entry*, std::less<>> file_names;  // target name -> entry
        for (const auto& e : entries) {
            std::string rel = e.name;
            io::tensor_transform tr;
            if (mapping) {
                std::optional<io::mapped_entry> m =
                    io::apply_mapping(*mapping, e.name, file + ": entry '" + e.name + "'");
                if (!m) continue;
                rel = std::move(m->name);
                tr = std::move(m->transform);
            }
            item it{&e, store.scope_ + rel, {}, {}, store.list_.end()};
            if (!io::detail::valid_name(rel))
                fail(it, "invalid parameter name (empty '/'-separated component)");
            if (e.array.dtype != io::npy_dtype::f4)
                fail(it, "dtype mismatch: expected float32, found " +
                             std::string(io::npy_dtype_name(e.array.dtype)) + " (shape " +
                             io::shape_repr(e.array.shape) + ")");
            it.shape = tr.apply(e.array.shape, label(it) + ": entry shape " + io::shape_repr(e.array.shape));
            if (tr.moves_data()) it.axes = tr.axes;
            if (auto [pos, fresh] = file_names.emplace(it.full, &e); !fresh)
                fail(it,
                     "entries '" + pos->second->name + "' and '" + e.name + "' both map to this parameter");
            items.push_back(std::move(it));
        }

        // Phase 1b: against the store.
        for (auto& it : items) {
            const std::string& full = it.full;
            auto found = store.index_.find(full);
            if (found != store.index_.end()) {
                const auto& have = found->second->p.data.shape();
                if (!io::detail::same_shape(have, it.shape)) {
                    std::string in_file = io::shape_repr(it.shape) + " (in the file";
                    if (it.shape != it.entry->array.shape)
                        in_file += ", " + io::shape_repr(it.entry->array.shape) + " before the transform";
                    fail(it, "shape mismatch: expected " + io::detail::shape_of(have) +
                                 " (in the store), found " + in_file + ")");
                }
                it.target = found->second;
                continue;
            }
            if (mode == load_mode::strict)
                fail(it,
                     "not in the store (load_mode::strict requires the file's names to exist; found shape " +
                         io::shape_repr(it.shape) + ")");
            // A path cannot be both a parameter and a scope, neither in the store nor in the file.
            for (std::size_t pos = full.find('/'); pos != std::string::npos; pos = full.find('/', pos + 1)) {
                const std::string_view pre = std::string_view(full).substr(0, pos);
                if (store.index_.find(std::string(pre)) != store.index_.end() || file_names.count(pre))
                    fail(it, "conflicts with parameter '" + std::string(pre) +
                                 "' (a name cannot be both a parameter and a scope)");
            }
            const std::string sub = full + "/";
            if (auto lb = store.index_.lower_bound(sub);
                lb != store.index_.end() && lb->first.starts_with(sub))
                fail(it, "conflicts with parameter '" + lb->first +
                             "' (a name cannot be both a parameter and a scope)");
            if (auto lb = file_names.lower_bound(sub); lb != file_names.end() && lb->first.starts_with(sub))
                fail(it, "conflicts with parameter '" + lb->first +
                             "' (a name cannot be both a parameter and a scope)");
        }
        if (mode == load_mode::strict) {
            for (typename Store::node* n : store.ordered(false))
                if (!file_names.count(n->name)) {
                    std::string m = file + ": parameter '" + n->name +
                                    "': missing from the file (load_mode::strict; expected shape " +
                                    io::detail::shape_of(n->p.data.shape()) + ", float32)";
                    if (mapping) m += "; no entry of the file maps to it";
                    throw io_error(m);
                }
        }

        // Phase 2: build new nodes and transposed copies aside (may throw: bad_alloc).
        auto values = [&](const item& it) {
            xt::xarray<float> a = io::to_xarray<float>(it.entry->array, label(it));
            if (!it.axes.empty()) a = xt::transpose(a, it.axes);  // evaluated into a fresh row-major array
            a.reshape(it.shape);
            return a;
        };
        // Each entry's bytes in the file buffer are released once copied (io::release_pages): the
        // buffer is ours and never read again, and the process then holds the file's arrays and their
        // copies in the store together for one array at a time, not for the whole file.
        auto done_with = [](const item& it) { io::release_pages(it.entry->array.data); };
        std::vector<xt::xarray<float>> moved(items.size());  // transposed data for existing parameters
        typename Store::list_type fresh;
        typename Store::index_type fresh_index;
        for (std::size_t i = 0; i < items.size(); ++i) {
            const item& it = items[i];
            if (it.target != store.list_.end()) {
                if (!it.axes.empty()) {
                    moved[i] = values(it);
                    done_with(it);
                }
                continue;
            }
            parameter p;
            p.data = values(it);
            p.need_grad = true;
            auto pos = fresh.insert(fresh.end(), typename Store::node{it.full, std::move(p)});
            fresh_index.emplace(it.full, pos);
            done_with(it);
        }

        // Phase 3: commit; nothing below throws (memcpy into same-sized buffers, splice, node merge).
        for (std::size_t i = 0; i < items.size(); ++i) {
            const item& it = items[i];
            if (it.target == store.list_.end()) continue;
            float* dst = it.target->p.data.data();
            if (!it.axes.empty()) {
                if (moved[i].size()) std::memcpy(dst, moved[i].data(), moved[i].size() * sizeof(float));
            } else if (const auto& src = it.entry->array.data; !src.empty()) {
                std::memcpy(dst, src.data(), src.size());
                done_with(it);
            }
        }
        store.list_.splice(store.list_.end(), fresh);
        store.index_.merge(fresh_index);
    }
};

}  // namespace kata::io::detail
