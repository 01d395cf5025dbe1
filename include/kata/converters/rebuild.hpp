// kata/converters/rebuild.hpp
//
// kata::rebuild(g, op, attributes, inputs, scope): builds a function of kind `op` with the arguments
// recorded in `attributes` on new inputs, by calling the op's F:: definition, so the output shape and
// layout are RE-INFERRED and every shape check runs again (nnabla's `_modify_as_same` /
// `_call_function(type_name, inputs, args)`). This is what "keep" in a FunctionModifier does, and what
// lets IdentityModifier change the batch size. The new node gets `scope` as its parameter scope name
// (the original function's), so diagnostics name the same layer.
//
// Inputs are interpreted as the op's node inputs in nnabla order: e.g. BatchNormalization
// x, [beta unless no_bias], [gamma unless no_scale], mean, var; IP functions x, W[, b] (a bias is
// used when 3 inputs are given, whatever attributes.has_bias says, so modifiers can add a bias).
#pragma once

#include <cstddef>
#include <span>
#include <string_view>
#include <utility>

#include "../ops.hpp"

namespace kata {

namespace detail {

constexpr dims dims_of(const std::int64_t (&v)[max_spatial], int n) {
    dims d;
    d.n = n;
    for (int i = 0; i < n && i < max_spatial; ++i) d.v[i] = v[i];
    return d;
}

template <std::size_t... I>
constexpr var concatenate_n(std::span<const var> in, int axis, std::index_sequence<I...>) {
    return F::concatenate({in[I]...}, axis);
}
template <std::size_t... I>
constexpr var sink_n(std::span<const var> in, std::index_sequence<I...>) {
    return F::sink({in[I]...});
}
template <std::size_t... I>
constexpr var transpose_n(var x, const int* axes, std::index_sequence<I...>) {
    return F::transpose(x, {axes[I]...});
}

// Dispatches a run-time count 1..16 to a compile-time index_sequence.
template <class Fn>
constexpr var with_count(std::size_t n, Fn fn) {
    switch (n) {
    case 1: return fn(std::make_index_sequence<1>{});
    case 2: return fn(std::make_index_sequence<2>{});
    case 3: return fn(std::make_index_sequence<3>{});
    case 4: return fn(std::make_index_sequence<4>{});
    case 5: return fn(std::make_index_sequence<5>{});
    case 6: return fn(std::make_index_sequence<6>{});
    case 7: return fn(std::make_index_sequence<7>{});
    case 8: return fn(std::make_index_sequence<8>{});
    case 9: return fn(std::make_index_sequence<9>{});
    case 10: return fn(std::make_index_sequence<10>{});
    case 11: return fn(std::make_index_sequence<11>{});
    case 12: return fn(std::make_index_sequence<12>{});
    case 13: return fn(std::make_index_sequence<13>{});
    case 14: return fn(std::make_index_sequence<14>{});
    case 15: return fn(std::make_index_sequence<15>{});
    case 16: return fn(std::make_index_sequence<16>{});
    default: return var{};
    }
}

constexpr batch_normalization_args bn_args_of(const attributes& a) {
    batch_normalization_args r;
    for (int i = 0; i < max_rank; ++i) r.axes[i] = a.axes[i];
    r.naxes = a.naxes;
    r.decay_rate = a.decay_rate;
    r.eps = a.eps;
    r.batch_stat = a.batch_stat;
    return r;
}

constexpr var rebuild_impl(builder& g, op_kind k, const attributes& a, std::span<const var> in) {
    const std::size_t n = in.size();
    auto at = [&](std::size_t i) { return i < n ? in[i] : none; };
    const int sp = a.spatial_dims;
    switch (k) {
    case op_kind::convolution:
        return F::convolution(in[0], in[1], at(2),
                              {a.base_axis, dims_of(a.pad, sp), dims_of(a.stride, sp), dims_of(a.dilation, sp),
                               a.group, a.channel_last});
    case op_kind::fused_convolution: {  // x, W[, b][, z]
        std::size_t i = 2;
        var b = a.has_bias ? at(i++) : none;
        var z = a.has_residual ? at(i++) : none;
        return F::fused_convolution(in[0], in[1], b, z,
                                    {a.base_axis, dims_of(a.pad, sp), dims_of(a.stride, sp), dims_of(a.dilation, sp),
                                     a.group, a.channel_last, a.nonlinearity});
    }
    case op_kind::depthwise_convolution:
        return F::depthwise_convolution(
            in[0], in[1], at(2),
            {a.base_axis, dims_of(a.pad, sp), dims_of(a.stride, sp), dims_of(a.dilation, sp), a.group});
    case op_kind::deconvolution:
        return F::deconvolution(in[0], in[1], at(2),
                                {a.base_axis, dims_of(a.pad, sp), dims_of(a.stride, sp), dims_of(a.dilation, sp),
                                 a.group, a.channel_last, dims_of(a.output_padding, sp)});
    case op_kind::depthwise_deconvolution:
        return F::depthwise_deconvolution(
            in[0], in[1], at(2),
            {a.base_axis, dims_of(a.pad, sp), dims_of(a.stride, sp), dims_of(a.dilation, sp), a.group});
    case op_kind::affine: return F::affine(in[0], in[1], at(2), {a.base_axis});
    case op_kind::embed: return F::embed(in[0], in[1]);
    case op_kind::batch_normalization: {
        std::size_t i = 1;
        var beta = a.no_bias ? none : at(i++);
        var gamma = a.no_scale ? none : at(i++);
        var mean = at(i++);
        var variance = at(i++);
        return F::batch_normalization(in[0], beta, gamma, mean, variance, bn_args_of(a));
    }
    case op_kind::fused_batch_normalization:
        return F::fused_batch_normalization(in[0], at(1), at(2), at(3), at(4), at(5), bn_args_of(a));
    case op_kind::relu: return F::relu(in[0]);
    case op_kind::leaky_relu: return F::leaky_relu(in[0], a.alpha);
    case op_kind::sigmoid: return F::sigmoid(in[0]);
    case op_kind::tanh: return F::tanh(in[0]);
    case op_kind::identity: return F::identity(in[0]);
    case op_kind::add_scalar: return F::add_scalar(in[0], a.val);
    case op_kind::mul_scalar: return F::mul_scalar(in[0], a.val);
    case op_kind::fixed_point_quantize:
        return F::fixed_point_quantize(in[0], {a.sign, a.n, a.delta, a.ste_fine_grained});
    case op_kind::add2: return F::add2(in[0], in[1]);
    case op_kind::sub2: return F::sub2(in[0], in[1]);
    case op_kind::mul2: return F::mul2(in[0], in[1]);
    case op_kind::div2: return F::div2(in[0], in[1]);
    case op_kind::max_pooling:
    case op_kind::average_pooling:
    case op_kind::sum_pooling:
        return detail::pooling(k, in[0], dims_of(a.kernel, sp),
                               {dims_of(a.stride, sp), a.ignore_border, dims_of(a.pad, sp), a.channel_last,
                                a.including_pad});
    case op_kind::unpooling: return F::unpooling(in[0], dims_of(a.kernel, sp), a.channel_last);
    case op_kind::global_average_pooling: return F::global_average_pooling(in[0]);
    case op_kind::concatenate:
        return with_count(n, [&](auto seq) { return concatenate_n(in, a.axis, seq); });
    case op_kind::reshape: return F::reshape(in[0], a.target);
    case op_kind::transpose:
        return with_count(std::size_t(a.naxes), [&](auto seq) { return transpose_n(in[0], a.axes, seq); });
    case op_kind::softmax: return F::softmax(in[0], a.axis);
    case op_kind::sink: return with_count(n, [&](auto seq) { return sink_n(in, seq); });
    case op_kind::input:
    case op_kind::parameter:
    case op_kind::count_: break;
    }
    message_string m("kata::rebuild: cannot rebuild a node of kind ");
    m.append(type_name(k));
    g.fail(m);
    return in.empty() ? var{} : in[0];
}

}  // namespace detail

// Rebuilds function kind `k` with arguments `a` on `inputs` in builder `g`, under parameter scope
// `scope` (the original function's name). Input count errors are reported through g.fail().
constexpr var rebuild(builder& g, op_kind k, const attributes& a, std::span<const var> inputs,
                      std::string_view scope = {}) {
    if (inputs.empty() || inputs.size() > 16) {
        message_string m("kata::rebuild: ");
        m.append(type_name(k)).append(" in scope '").append(scope).append("' needs 1 to 16 inputs, got ");
        m.append_int(std::int64_t(inputs.size()));
        g.fail(m);
        return var{};
    }
    for (const var& v : inputs) {
        if (v.g != &g || v.id < 0) {
            message_string m("kata::rebuild: ");
            m.append(type_name(k)).append(" in scope '").append(scope);
            m.append("' got an input that is not a variable of the new graph");
            g.fail(m);
            return var{&g, inputs[0].g == &g && inputs[0].id >= 0 ? inputs[0].id : 0};
        }
    }
    auto s = g.scope(scope);
    return detail::rebuild_impl(g, k, a, inputs);
}

}  // namespace kata
