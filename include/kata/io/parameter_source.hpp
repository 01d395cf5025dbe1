// kata/io/parameter_source.hpp
//
// kata::store_parameters: a kata::parameter_store as the parameter source of an executor
// (kata/exec/binding.hpp). Implicitly made from a store, so executors are constructed from one:
//
//     kata::parameter_store store;  ...
//     kata::cpu::executor<Net> run(store);      // = exec::executor<..., kata::store_parameters, ...>
//
// Parameters are looked up by name (relative to the store's current scope) at construction and at
// every bind(). The executor keeps the store's `parameter` objects (stable addresses) and, when live,
// reads their data pointer at every call, so loading new values into the same store is picked up;
// the kernels of a frozen executor that pack their weights read them at bind() only. Erasing a parameter from the store while an
// executor uses it is undefined behaviour, as with any reference, except for the ones a frozen
// executor released: `frozen_executor<Net> run(store, kata::exec::consume_parameters)` (or
// `run.release_prepared_parameters(store)` after construction) erases the parameters whose values
// live in the executor's packed copy, so a deployed process keeps one copy of those weights. A missing parameter or one whose
// shape differs from the graph's makes the executor throw kata::exec::binding_error (alias
// kata::cpu::binding_error) naming the parameter and both shapes.
#pragma once

#include <string_view>

#include "../exec/binding.hpp"
#include "free_memory.hpp"
// The store's lookup core only: executors bind parameters by name and never read or write files.
#include "parameter_store_core.hpp"

namespace kata {

class store_parameters {
public:
    using handle = parameter*;
    static constexpr std::string_view description = "the parameter store";

    store_parameters(parameter_store& store) noexcept : store_(&store) {}  // NOLINT: implicit on purpose

    handle find(std::string_view name) const noexcept { return store_->find(name); }
    static exec::parameter_view view(handle h) {
        exec::parameter_view v{h->data.data(), dtype::f32, shape_t{}, int(h->data.dimension())};
        const auto& s = h->data.shape();
        for (std::size_t d = 0; d < s.size() && d < std::size_t(max_rank); ++d)
            v.shape.push_back(std::int64_t(s[d]));
        return v;
    }
    static void* data(handle h) noexcept { return h->data.data(); }
    // Lets a frozen executor drop the parameters it holds a prepared copy of (exec::consume_parameters,
    // executor::release_prepared_parameters): parameter_store::erase, relative to the current scope.
    // The freed pages go back to the system right away (io::return_free_memory): the executor packs
    // the next layer into new pages meanwhile.
    bool erase(std::string_view name) const noexcept {
        const bool erased = store_->erase(name);
        if (erased) io::return_free_memory();
        return erased;
    }

private:
    parameter_store* store_;
};

}  // namespace kata
