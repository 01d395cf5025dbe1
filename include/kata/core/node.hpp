// kata/core/node.hpp
//
// One node of a kata graph: either a leaf (input, parameter) or a function together with its single
// output variable. (nnabla separates Function and Variable; in kata every function has exactly one
// output, so the pair is one node and "the variable produced by f" is simply f's index.)
#pragma once

#include "attributes.hpp"
#include "fixed_string.hpp"
#include "op_kind.hpp"
#include "shape.hpp"
#include "types.hpp"

namespace kata {

struct node {
    op_kind op = op_kind::identity;
    int first_input = 0;  // index into graph::edges
    int num_inputs = 0;
    shape_t shape{};  // shape of the output variable (or of the leaf)
    dtype type = dtype::f32;
    layout lay = layout::none;
    attributes attr{};
    // Parameters and inputs: the full key ("conv1/conv/W") or input name ("x").
    // Functions: the parameter scope the function was created in ("conv1/conv"), or "".
    name_string name{};
    // Parameters only.
    bool need_grad = true;
    init_spec init{};

    constexpr bool operator==(const node&) const = default;
};

}  // namespace kata
