// kata/ops/descriptor.hpp
//
// The op descriptor: everything kata knows about one op kind, written once, next to the op's F::
// definition (kata/ops/*.hpp), as a specialisation of `op_traits<op_kind::K>`:
//
//     template <> struct op_traits<op_kind::leaky_relu> {
//         using args = op_args::leaky_relu;                          // nnabla's arguments (Hana struct)
//         static constexpr layout_rule channel_last = layout_rule::elementwise;
//         static constexpr args from_attributes(const attributes& a) { return {a.alpha}; }
//         static constexpr var rebuild(builder&, const attributes& a, std::span<const var> in) {
//             return F::leaky_relu(in[0], a.alpha);
//         }
//         // later: static constexpr backward_fn backward = ...;   static constexpr onnx_mapping onnx = ...;
//     };
//
// The parts:
//   name, class      the kind's identity row (kata/core/op_kind.hpp): nnabla's type name, op_class
//   args             nnabla's `Function.info.args` of the op as a Hana-adapted struct (args.hpp): names,
//                    order and defaults as nnabla's functions.yaml, including arguments kata only
//                    records (the `inplace` flags: F.*'s defaults, as upstream's viewer shows them)
//   from_attributes  the args of a node, from the graph's flat `kata::attributes` storage (nodes keep
//                    one flat struct for every op: small, structural, cheap to compare). The other
//                    direction is the F:: function itself, which checks and infers shapes.
//   rebuild          the F:: call that makes the op again on new inputs (converters' "keep")
//   channel_last     how ChannelLast/ChannelFirstModifier treat it: one rule of a closed set,
//                    implemented once in kata/converters/channel_last.hpp
//   backward         the backward rule (kata/ops/backward.hpp), nullptr where the kind has none yet
//   onnx             slot for the ONNX mapping: empty until the ONNX exporter fills it
//
// kata/ops/descriptors.hpp gathers them into one constexpr table indexed by op_kind: a lookup is an
// array access (no Hana, no recursion over op lists). How to add an op: docs/extending.md.
#pragma once

#include <span>
#include <string_view>

#include "../core/builder.hpp"
#include "args.hpp"

namespace kata {

// How the channel-last conversion treats an op (kata/converters/channel_last.hpp implements each rule,
// for any op that names it; docs/converters.md describes them).
enum class layout_rule : std::uint8_t {
    fallback,             // converted inputs transposed back, op rebuilt unchanged: always correct
    convolution_like,     // channel_last flipped, W permuted like an activation (Convolution, Deconvolution)
    normalization,        // axes mapped, per-channel parameters permuted (BatchNormalization, Fused...)
    pooling,              // channel_last flipped (Max/Average/SumPooling, Unpooling)
    global_pooling,       // 4-D: AveragePooling over (H, W) with channel_last (GlobalAveragePooling)
    axis_argument,        // `axis` mapped, unconverted same-rank inputs permuted (Concatenate, Softmax)
    permutation,          // axes composed, an identity result removes the op (Transpose)
    affine_flattening,    // W's input rows re-ordered to the new flattening order (Affine)
    broadcasting_binary,  // unconverted same-rank operands permuted (Add2, Sub2, Mul2, Div2, SquaredError)
    elementwise,          // layout does not matter: rebuilt unchanged (element-wise ops, Sink)
};

// The op on new inputs in `g`, with the arguments recorded in `a`.
using rebuild_fn = var (*)(builder& g, const attributes& a, std::span<const var> inputs);
// A node's arguments, named and in order.
using args_fn = arg_list (*)(const attributes& a);
// The backward rule (docs/training.md): builds into `g` the gradient of every input k with need[k]
// (input_grads[k]; left kata::none, i.e. id -1, for the others) from the forward inputs, the forward
// output and the output's gradient, with F:: ops and the gradient kinds of kata/ops/gradient.hpp. Run
// by the compile-time training derivation (kata/train/backward.hpp); nullptr: the kind has no
// backward yet, and a training graph through it does not compile (the message names the kind).
using backward_fn = void (*)(builder& g, const attributes& a, std::span<const var> inputs, var output,
                             var output_grad, std::span<const bool> need, std::span<var> input_grads);
// Slot for the ONNX mapping: the ONNX operator and its attributes (names and values, from the node's
// arguments). An empty op_type means "no mapping yet".
struct onnx_mapping {
    std::string_view op_type{};
    args_fn attributes = nullptr;
};

struct op_descriptor {
    op_kind kind = op_kind::count_;
    std::string_view name{};  // nnabla's type name
    op_class cls = op_class::other;
    layout_rule channel_last = layout_rule::fallback;
    rebuild_fn rebuild = nullptr;  // nullptr for leaves
    args_fn args = nullptr;
    backward_fn backward = nullptr;
    onnx_mapping onnx{};
};

// The descriptor of kind K; specialised next to each op's definition.
template <op_kind K>
struct op_traits;

// Leaves (graph inputs, parameters) have descriptors too: no arguments, nothing to rebuild.
namespace op_args {
struct none {};
}  // namespace op_args

template <>
struct op_traits<op_kind::input> {
    using args = op_args::none;
    static constexpr layout_rule channel_last = layout_rule::fallback;
    static constexpr args from_attributes(const attributes&) { return {}; }
};
template <>
struct op_traits<op_kind::parameter> : op_traits<op_kind::input> {};

namespace detail {

template <op_kind K>
constexpr arg_list args_of(const attributes& a) {
    return to_arg_list(op_traits<K>::from_attributes(a));
}

// The "none" input of an op that takes an optional one (bias, residual) at position k.
constexpr var input_or_none(std::span<const var> in, std::size_t k) { return k < in.size() ? in[k] : var{}; }

}  // namespace detail

template <op_kind K>
constexpr op_descriptor make_descriptor() {
    using T = op_traits<K>;
    op_descriptor d;
    d.kind = K;
    d.name = type_name(K);
    d.cls = identity_of(K).cls;
    d.channel_last = T::channel_last;
    if constexpr (requires { &T::rebuild; }) d.rebuild = &T::rebuild;
    d.args = &detail::args_of<K>;
    if constexpr (requires { T::backward; }) d.backward = T::backward;
    if constexpr (requires { T::onnx; }) d.onnx = T::onnx;
    return d;
}

}  // namespace kata

KATA_ADAPT_ARGS(kata::op_args::none);
