// kata/converters/identity.hpp
//
// IdentityModifier(inputs, copy_value) (nnabla, docs/nnabla-semantics.md §2.12): rebuilds every function
// unchanged, with graph inputs substituted by name:
//
//     kata::IdentityModifier{.inputs = {{"x", {128, 3, 32, 32}}}}        // batch 128 instead of 1
//
// Each substitution declares a new graph input (`new_name`, default: the same name) of `shape`
// (rank 0: the original's); downstream shapes are re-inferred (kata::rebuild), so every op's shape
// check runs again and a bad shape is a compile-time error naming the layer.
//
// copy_value: nnabla copies the original input's data and grad into the replacement and requires the
// same shape. kata inputs carry no data (they are executor arguments), so copy_value only enforces the
// same shape, at compile time.
//
// kata vs upstream: substitution by input name instead of Variable identity; every input position of
// every function is substituted (upstream only position 0 of functions whose first input is a leaf);
// reusable (upstream clears the dictionary after the first conversion). A name that matches no graph
// input (nor, for a renaming substitution, its new name) is a compile error listing the inputs.
#pragma once

#include "function_modifier.hpp"

namespace kata {

struct input_substitution {
    name_string name{};      // the original input's name
    shape_t shape{};         // the new shape (rank 0: unchanged)
    name_string new_name{};  // the new input's name (empty: unchanged)
};

struct IdentityModifier {
    static constexpr int capacity = 4;
    input_substitution inputs[capacity]{};
    bool copy_value = false;

    // Every substituted name must be a graph input (a compile error listing the inputs otherwise).
    static constexpr std::string_view modifier_name = "IdentityModifier";
    constexpr int num_named_inputs() const { return capacity; }
    constexpr std::string_view named_input(int i) const { return inputs[i].name.view(); }
    constexpr std::string_view renamed_input(int i) const { return inputs[i].new_name.view(); }

    constexpr var map_leaf(modify_context& c, function_ref leaf) const {
        if (!leaf.is_input()) return keep;
        for (const input_substitution& s : inputs) {
            if (s.name.empty() || !(s.name == leaf.name())) continue;
            const shape_t sh = s.shape.rank == 0 ? leaf.shape() : s.shape;
            if (copy_value && !(sh == leaf.shape())) {
                message_string m("IdentityModifier(copy_value=true): input '");
                m.append(leaf.name()).append("' has shape ");
                append_shape(m, leaf.shape()).append(" but its replacement has shape ");
                append_shape(m, sh);
                c.fail(m);
            }
            const layout l = sh.rank == leaf.ndim() ? leaf.lay() : layout::none;
            return c.g.input(s.new_name.empty() ? leaf.name() : s.new_name.view(), sh, l, leaf.get().type);
        }
        return keep;
    }

    constexpr var modify(modify_context&, function_ref, std::span<const var>) const { return keep; }
};

}  // namespace kata
