// kata/io/parameter_store.hpp
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
#include "initializers.hpp"
#include "name_mapping.hpp"
#include "npy.hpp"
#include "npz.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <list>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <xtensor/xarray.hpp>
#include <xtensor/xbuilder.hpp>
#include <xtensor/xmanipulation.hpp>

namespace kata {

/// A trainable parameter: value, gradient and the need_grad flag.
///
/// The gradient is allocated on first use, not with the parameter: a network that only runs
/// inference (a converted ResNet-50 holds ~25M weights) would otherwise carry a second, all-zero
/// copy of every weight. Reading it follows nnabla: zeros of data's shape until something writes it.
struct parameter {
    xt::xarray<float> data;
    bool need_grad = true;

    /// The gradient buffer: allocated as zeros of data's shape on the first call (and again if
    /// data's shape has changed since), then the same buffer on every call.
    xt::xarray<float>& grad() {
        if (!has_grad()) {
            grad_ = xt::zeros<float>(data.shape());
            grad_allocated_ = true;
        }
        return grad_;
    }
    /// Whether grad() has allocated the buffer (for data's current shape).
    bool has_grad() const noexcept {
        return grad_allocated_ && std::equal(grad_.shape().begin(), grad_.shape().end(), data.shape().begin(),
                                             data.shape().end());
    }
    /// Frees the gradient buffer; the next grad() starts again from zeros.
    void release_grad() {
        grad_ = xt::xarray<float>();
        grad_allocated_ = false;
    }

private:
    xt::xarray<float> grad_;
    bool grad_allocated_ = false;
};

/// Misuse of the parameter store (shape conflicts with an existing parameter, name conflicts,
/// unknown key in at()).
class parameter_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

enum class load_mode {
    merge,   ///< nnabla: add new names, overwrite existing ones (same shape required)
    strict,  ///< the file's names must equal the store's names under the current scope
};

namespace io::detail {

/// A name given as current scope + relative name, compared as their concatenation, so lookups
/// need no allocation (find() is noexcept).
struct split_name {
    std::string_view head, tail;
};

inline int compare_concat(std::string_view a1, std::string_view a2, std::string_view b) noexcept {
    const std::size_t n1 = std::min(a1.size(), b.size());
    if (int c = a1.substr(0, n1).compare(b.substr(0, n1))) return c;
    if (a1.size() > b.size()) return 1;
    return a2.compare(b.substr(a1.size()));
}

struct name_less {
    using is_transparent = void;
    bool operator()(const std::string& a, const std::string& b) const noexcept { return a < b; }
    bool operator()(const split_name& a, const std::string& b) const noexcept {
        return compare_concat(a.head, a.tail, b) < 0;
    }
    bool operator()(const std::string& a, const split_name& b) const noexcept {
        return compare_concat(b.head, b.tail, a) > 0;
    }
};

/// Valid: non-empty components separated by single '/', no leading/trailing '/'.
inline bool valid_name(std::string_view n) noexcept {
    if (n.empty() || n.front() == '/' || n.back() == '/') return false;
    return n.find("//") == std::string_view::npos;
}

template <class S>
bool same_shape(const S& s, const std::vector<std::size_t>& v) noexcept {
    return std::equal(s.begin(), s.end(), v.begin(), v.end());
}

template <class S>
std::string shape_of(const S& s) {
    std::vector<std::size_t> v(s.begin(), s.end());
    return io::shape_repr(v);
}

}  // namespace io::detail

class parameter_store {
    struct node {
        std::string name;  // full name (scope included)
        parameter p;
    };
    using list_type = std::list<node>;
    using index_type = std::map<std::string, list_type::iterator, io::detail::name_less>;

public:
    /// Restores the previous scope when destroyed (see store.scope()).
    class [[nodiscard]] scope_guard {
    public:
        scope_guard(scope_guard&& o) noexcept
            : store_(std::exchange(o.store_, nullptr)), prev_(std::move(o.prev_)) {}
        scope_guard(const scope_guard&) = delete;
        scope_guard& operator=(const scope_guard&) = delete;
        scope_guard& operator=(scope_guard&&) = delete;
        ~scope_guard() {
            if (store_) store_->scope_ = std::move(prev_);
        }

    private:
        friend class parameter_store;
        scope_guard(parameter_store* s, std::string prev) : store_(s), prev_(std::move(prev)) {}
        parameter_store* store_;
        std::string prev_;
    };

    parameter_store() = default;
    /// `seed` seeds the generator the initializers draw from (default: nnabla's 313).
    explicit parameter_store(std::uint32_t seed) : rng_(seed) {}

    parameter_store(const parameter_store& o) : scope_(o.scope_), rng_(o.rng_) {
        for (const auto& n : o.list_) append_node(n.name, n.p);
    }
    parameter_store& operator=(const parameter_store& o) {
        if (this != &o) {
            parameter_store tmp(o);
            swap(tmp);
        }
        return *this;
    }
    parameter_store(parameter_store&&) noexcept = default;
    parameter_store& operator=(parameter_store&&) noexcept = default;
    void swap(parameter_store& o) noexcept {
        list_.swap(o.list_);
        index_.swap(o.index_);
        scope_.swap(o.scope_);
        std::swap(rng_, o.rng_);
    }

    /// The generator get_or_create / create_or_replace pass to initializers.
    kata::rng& generator() noexcept { return rng_; }

    // ----- scopes ------------------------------------------------------------------------------

    /// Pushes `name` (may itself be "a/b"; surrounding '/' are stripped as nnabla does) onto the
    /// current scope until the returned guard is destroyed.
    scope_guard scope(std::string_view name) {
        while (!name.empty() && name.front() == '/') name.remove_prefix(1);
        while (!name.empty() && name.back() == '/') name.remove_suffix(1);
        if (!io::detail::valid_name(name))
            throw std::invalid_argument("kata::parameter_store::scope: invalid scope name '" +
                                        std::string(name) + "'");
        std::string prev = scope_;
        scope_guard g(this, prev);
        scope_.append(name);
        scope_.push_back('/');
        return g;
    }

    /// The prefix names get inside the current scope: "" at the root, "a/b/" inside a then b.
    const std::string& current_scope() const noexcept { return scope_; }

    // ----- creation ----------------------------------------------------------------------------

    /// nnabla's get_parameter_or_create (see header comment).
    parameter& get_or_create(std::string_view name, const std::vector<std::size_t>& shape,
                             const initializer& init = {}, bool need_grad = true) {
        check_name(name);
        if (auto it = index_.find(io::detail::split_name{scope_, name}); it != index_.end()) {
            parameter& p = it->second->p;
            if (!io::detail::same_shape(p.data.shape(), shape))
                throw parameter_error("kata::parameter_store: parameter '" + scope_ + std::string(name) +
                                      "' exists with shape " + io::detail::shape_of(p.data.shape()) +
                                      " but shape " + io::shape_repr(shape) + " was requested");
            p.need_grad = need_grad;
            return p;
        }
        return insert_new(scope_ + std::string(name), make_param(name, shape, init, need_grad));
    }

    /// kata extension: (re)creates the parameter from `init`, replacing any existing one (any shape).
    /// A replaced parameter keeps its position in the listing order; its gradient is dropped (reads
    /// as zeros again).
    parameter& create_or_replace(std::string_view name, const std::vector<std::size_t>& shape,
                                 const initializer& init = {}, bool need_grad = true) {
        check_name(name);
        parameter fresh = make_param(name, shape, init, need_grad);
        if (auto it = index_.find(io::detail::split_name{scope_, name}); it != index_.end()) {
            it->second->p = std::move(fresh);
            return it->second->p;
        }
        return insert_new(scope_ + std::string(name), std::move(fresh));
    }

    // ----- lookup ------------------------------------------------------------------------------

    parameter* find(std::string_view name) noexcept {
        auto it = index_.find(io::detail::split_name{scope_, name});
        return it == index_.end() ? nullptr : &it->second->p;
    }
    const parameter* find(std::string_view name) const noexcept {
        auto it = index_.find(io::detail::split_name{scope_, name});
        return it == index_.end() ? nullptr : &it->second->p;
    }
    bool contains(std::string_view name) const noexcept { return find(name) != nullptr; }

    parameter& at(std::string_view name) { return const_cast<parameter&>(std::as_const(*this).at(name)); }
    const parameter& at(std::string_view name) const {
        if (const parameter* p = find(name)) return *p;
        throw parameter_error("kata::parameter_store: no parameter '" + scope_ + std::string(name) + "'");
    }

    /// (relative name, parameter) pairs under the current scope, in nnabla's order. With grad_only,
    /// only parameters whose need_grad is true.
    std::vector<std::pair<std::string, parameter*>> get_parameters(bool grad_only = true) {
        std::vector<std::pair<std::string, parameter*>> out;
        for (node* n : ordered(grad_only)) out.emplace_back(n->name.substr(scope_.size()), &n->p);
        return out;
    }
    std::vector<std::pair<std::string, const parameter*>> get_parameters(bool grad_only = true) const {
        std::vector<std::pair<std::string, const parameter*>> out;
        for (node* n : const_cast<parameter_store*>(this)->ordered(grad_only))
            out.emplace_back(n->name.substr(scope_.size()), &n->p);
        return out;
    }

    // ----- removal -----------------------------------------------------------------------------

    /// Removes one parameter (relative name). Returns whether it existed.
    bool erase(std::string_view name) noexcept {
        auto it = index_.find(io::detail::split_name{scope_, name});
        if (it == index_.end()) return false;
        list_.erase(it->second);
        index_.erase(it);
        return true;
    }

    /// Removes every parameter under the current scope (all of them at the root).
    void clear() noexcept {
        if (scope_.empty()) {
            index_.clear();
            list_.clear();
            return;
        }
        auto it = index_.lower_bound(scope_);
        while (it != index_.end() && std::string_view(it->first).starts_with(scope_)) {
            list_.erase(it->second);
            it = index_.erase(it);
        }
    }

    /// Number of parameters in the whole store (all scopes).
    std::size_t size() const noexcept { return list_.size(); }
    bool empty() const noexcept { return list_.empty(); }

    // ----- files -------------------------------------------------------------------------------

    /// Saves the current scope's parameters (relative names) as .npz, atomically.
    void save(const std::filesystem::path& path, bool grad_only = false) const {
        std::vector<io::npz_item> items;
        for (auto& [name, p] : get_parameters(grad_only)) {
            if (name.size() > io::npz_max_key_bytes)
                throw io_error(
                    path.string() + ": parameter '" + scope_ + name.substr(0, 64) + "...' (a " +
                    std::to_string(name.size()) + "-byte name): too long for an .npz member name (at most " +
                    std::to_string(io::npz_max_key_bytes) +
                    " bytes with the '.npy' suffix: the ZIP name length is 16 bits); nothing was written");
            items.push_back(io::make_npz_item(name, p->data));
        }
        io::save_npz(path, items);
    }

    /// Loads an .npz (see "load modes" in the header comment). Strong exception guarantee.
    void load(const std::filesystem::path& path, load_mode mode = load_mode::merge) {
        load_impl(path, nullptr, mode);
    }

    /// Loads an .npz whose entries `mapping` renames and reshapes/transposes (kata/io/name_mapping.hpp).
    /// Same checks, errors and strong guarantee as load(path, mode).
    void load(const std::filesystem::path& path, const io::name_mapping& mapping,
              load_mode mode = load_mode::merge) {
        io::check_mapping(mapping);
        load_impl(path, &mapping, mode);
    }

private:
    void load_impl(const std::filesystem::path& path, const io::name_mapping* mapping, load_mode mode) {
        const std::string file = path.string();
        const std::vector<std::byte> bytes = io::read_file_bytes(path);
        const std::vector<io::npz_entry> entries = io::read_npz(bytes, file);

        // One file entry on its way into the store.
        struct item {
            const io::npz_entry* entry;
            std::string full;                // parameter name, scope included
            std::vector<std::size_t> shape;  // after the transform
            std::vector<std::size_t> axes;   // non-empty: the data is transposed
            list_type::iterator target;      // existing node, or list_.end()
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
            item it{&e, scope_ + rel, {}, {}, list_.end()};
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
            auto found = index_.find(full);
            if (found != index_.end()) {
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
                if (index_.find(std::string(pre)) != index_.end() || file_names.count(pre))
                    fail(it, "conflicts with parameter '" + std::string(pre) +
                                 "' (a name cannot be both a parameter and a scope)");
            }
            const std::string sub = full + "/";
            if (auto lb = index_.lower_bound(sub); lb != index_.end() && lb->first.starts_with(sub))
                fail(it, "conflicts with parameter '" + lb->first +
                             "' (a name cannot be both a parameter and a scope)");
            if (auto lb = file_names.lower_bound(sub); lb != file_names.end() && lb->first.starts_with(sub))
                fail(it, "conflicts with parameter '" + lb->first +
                             "' (a name cannot be both a parameter and a scope)");
        }
        if (mode == load_mode::strict) {
            for (node* n : ordered(false))
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
        list_type fresh;
        index_type fresh_index;
        for (std::size_t i = 0; i < items.size(); ++i) {
            const item& it = items[i];
            if (it.target != list_.end()) {
                if (!it.axes.empty()) {
                    moved[i] = values(it);
                    done_with(it);
                }
                continue;
            }
            parameter p;
            p.data = values(it);
            p.need_grad = true;
            auto pos = fresh.insert(fresh.end(), node{it.full, std::move(p)});
            fresh_index.emplace(it.full, pos);
            done_with(it);
        }

        // Phase 3: commit; nothing below throws (memcpy into same-sized buffers, splice, node merge).
        for (std::size_t i = 0; i < items.size(); ++i) {
            const item& it = items[i];
            if (it.target == list_.end()) continue;
            float* dst = it.target->p.data.data();
            if (!it.axes.empty()) {
                if (moved[i].size()) std::memcpy(dst, moved[i].data(), moved[i].size() * sizeof(float));
            } else if (const auto& src = it.entry->array.data; !src.empty()) {
                std::memcpy(dst, src.data(), src.size());
                done_with(it);
            }
        }
        list_.splice(list_.end(), fresh);
        index_.merge(fresh_index);
    }

    void check_name(std::string_view name) const {
        if (!io::detail::valid_name(name))
            throw std::invalid_argument("kata::parameter_store: invalid parameter name '" +
                                        std::string(name) + "' (want non-empty components separated by '/')");
    }

    parameter make_param(std::string_view name, const std::vector<std::size_t>& shape,
                         const initializer& init, bool need_grad) {
        parameter p;
        p.data = init(shape, rng_);
        if (!io::detail::same_shape(p.data.shape(), shape))
            throw parameter_error("kata::parameter_store: initializer for '" + scope_ + std::string(name) +
                                  "' returned shape " + io::detail::shape_of(p.data.shape()) + ", expected " +
                                  io::shape_repr(shape));
        p.need_grad = need_grad;
        return p;
    }

    void check_tree_conflict(const std::string& full) const {
        for (std::size_t pos = full.find('/'); pos != std::string::npos; pos = full.find('/', pos + 1)) {
            auto it = index_.find(full.substr(0, pos));
            if (it != index_.end())
                throw parameter_error("kata::parameter_store: parameter '" + full +
                                      "' conflicts with parameter '" + it->first +
                                      "' (a name cannot be both a parameter and a scope)");
        }
        const std::string sub = full + "/";
        if (auto lb = index_.lower_bound(sub); lb != index_.end() && lb->first.starts_with(sub))
            throw parameter_error("kata::parameter_store: parameter '" + full +
                                  "' conflicts with parameter '" + lb->first +
                                  "' (a name cannot be both a parameter and a scope)");
    }

    // Strong guarantee: the node is built in a side list and spliced in only after the index
    // insertion succeeded.
    parameter& insert_new(std::string full, parameter p) {
        check_tree_conflict(full);
        list_type tmp;
        tmp.push_back(node{full, std::move(p)});
        index_.emplace(std::move(full), tmp.begin());
        auto it = tmp.begin();
        list_.splice(list_.end(), tmp);
        return it->p;
    }

    void append_node(const std::string& full, const parameter& p) {
        list_.push_back(node{full, p});
        index_.emplace(full, std::prev(list_.end()));
    }

    /// Nodes under the current scope in nnabla's tree order: each path prefix ("a", "a/b", "a/b/W")
    /// gets an id when first met in insertion order; sorting by the id sequence reproduces a walk
    /// over nested OrderedDicts (siblings ordered by first insertion).
    std::vector<node*> ordered(bool grad_only) {
        std::map<std::string_view, std::size_t> ids;
        std::vector<std::pair<std::vector<std::size_t>, node*>> keyed;
        for (node& n : list_) {
            if (!std::string_view(n.name).starts_with(scope_)) continue;
            const std::string_view rel = std::string_view(n.name).substr(scope_.size());
            std::vector<std::size_t> key;
            for (std::size_t pos = 0;;) {
                const std::size_t slash = rel.find('/', pos);
                const std::string_view pre = rel.substr(0, slash);
                key.push_back(ids.emplace(pre, ids.size()).first->second);
                if (slash == std::string_view::npos) break;
                pos = slash + 1;
            }
            if (grad_only && !n.p.need_grad) continue;
            keyed.emplace_back(std::move(key), &n);
        }
        std::sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        std::vector<node*> out;
        out.reserve(keyed.size());
        for (auto& k : keyed) out.push_back(k.second);
        return out;
    }

    list_type list_;
    index_type index_;
    std::string scope_;
    kata::rng rng_;
};

}  // namespace kata
