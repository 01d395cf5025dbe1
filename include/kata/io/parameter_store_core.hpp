// kata/io/parameter_store_core.hpp
//
// kata::parameter_store and kata::parameter without the .npz file code: scopes, get-or-create,
// lookup, listing, removal. What executors need to bind parameters by name (kata/io/parameter_source.hpp),
// so that a translation unit that runs a network does not parse the NPY/ZIP readers, the name mapping,
// <filesystem> and xtensor's manipulation functions. The store's semantics, save() and load() included,
// are described in kata/io/parameter_store.hpp, which includes this header and defines save() and load():
// include that one (or kata/parameters.hpp) to call them.
#pragma once

#include "../detail/xtensor_fix.hpp"
#include "initializers.hpp"
#include "io_error.hpp"

#include <algorithm>
#include <cstddef>
#include <list>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <xtensor/xarray.hpp>
#include <xtensor/xbuilder.hpp>

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

class parameter_store;

namespace io {
struct name_mapping;  // kata/io/name_mapping.hpp
namespace detail {
/// parameter_store's .npz save and load (Store = parameter_store): declared here, defined in
/// kata/io/parameter_store.hpp. The store's save()/load() are templates over the path type and name
/// this through a type that depends on it, so their bodies are compiled only where they are called: a
/// translation unit that includes just this header and calls them fails to compile ("incomplete
/// type") instead of linking wrongly, and one that never calls them does not instantiate the NPY/ZIP
/// code.
template <class Store>
struct store_files;
/// `T`, spelled so that it depends on `Dep` (delays name lookup to the point of use).
template <class Dep, class T>
struct dependent_type {
    using type = T;
};
}  // namespace detail
}  // namespace io

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

    // ----- files (defined in kata/io/parameter_store.hpp) ---------------------------------------

    /// Saves the current scope's parameters (relative names) as .npz, atomically. `path`: a
    /// std::filesystem::path or anything convertible to one.
    template <class Path>
    void save(const Path& path, bool grad_only = false) const {
        files<Path>::save(*this, path, grad_only);
    }

    /// Loads an .npz (see "load modes" in the header comment). Strong exception guarantee.
    template <class Path>
    void load(const Path& path, load_mode mode = load_mode::merge) {
        files<Path>::load(*this, path, nullptr, mode);
    }

    /// Loads an .npz whose entries `mapping` renames and reshapes/transposes (kata/io/name_mapping.hpp).
    /// Same checks, errors and strong guarantee as load(path, mode).
    template <class Path>
    void load(const Path& path, const io::name_mapping& mapping, load_mode mode = load_mode::merge) {
        files<Path>::load(*this, path, &mapping, mode);
    }

private:
    template <class Dep>
    using files = io::detail::store_files<typename io::detail::dependent_type<Dep, parameter_store>::type>;
    template <class Store>
    friend struct io::detail::store_files;

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
