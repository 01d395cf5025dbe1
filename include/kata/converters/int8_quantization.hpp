// kata/converters/int8_quantization.hpp
//
// Post-training int8 quantization of any float network of Convolution / Affine / ReLU / MaxPooling /
// AveragePooling (BatchNormalization anywhere it can be folded; Reshape and Identity pass through), as
// two modifiers:
//
//     using Float = kata::network<my_net<64>>;                             // calibration batch
//     using Calib = kata::convert<Float, kata::Int8CalibrationModifier{}>;  // BN folded, one output per layer
//     using Int8  = kata::convert<kata::network<my_net<1>>, kata::Int8QuantizationModifier{}>;
//     kata::apply_conversion<Calib>(store);                                 // the BN-folded float weights
//     auto ranges = kata::embedded::host::calibrate<Calib>(store, images);  // float executor, host only
//     auto q = kata::embedded::host::quantize_int8<Int8, Calib>(store, ranges);  // int8 parameter values
//
// Both are lists (kata/converters/function_modifier.hpp): the BN-folding modifier
// (BatchNormalizationFoldingModifier, kata/converters/batch_normalization_folding.hpp) followed by
//   * Int8CalibrationModifier: the float graph unchanged, plus one graph output per Convolution/Affine,
//     placed BEFORE the original outputs, in visit order, at the layer's "scale point": the ReLU that is
//     its only consumer (negative values would saturate and the ReLU zeroes them anyway), else the
//     layer's own output. Running it over calibration inputs gives each layer's output range.
//   * Int8QuantizationModifier: every graph input re-declared int8 (the caller quantizes with the input
//     scale, embedded::host::quantize_input); Convolution -> QConvolution and Affine -> QAffine
//     (kata/ops/quantized.hpp: the arithmetic, and why symmetric activations and a fixed-point
//     requantization), same arguments (pad, stride, dilation, group, base_axis), parameters
//     "<scope>/W_q" int8 (W's shape), "<scope>/b_q" int32, "<scope>/requant" int32 (2, O), where
//     <scope> is the float weight's parameter scope; ReLU, MaxPooling, AveragePooling (rounded average of
//     the codes), Reshape and Identity are rebuilt on the int8 tensors (they keep the scale); any other op is a compile error naming it. The outputs
//     are int8 codes (real value: output scale x code).
// The structure is compile-time (a graph type); the values are computed on the host by
// embedded::host::quantize_int8 (kata/embedded/host/quantize.hpp): they are int8/int32, which the
// float32 derivation rules of apply_conversion cannot hold, so no derivation is recorded for them.
// The two conversions pair their layers by the float weight's parameter scope.
#pragma once

#include <span>

#include "../ops/quantized.hpp"
#include "batch_normalization_folding.hpp"
#include "function_modifier.hpp"
#include "graph_converter.hpp"

namespace kata {

namespace detail {

constexpr bool int8_layer_kind(op_kind k) { return k == op_kind::convolution || k == op_kind::affine; }

// Whether a float layer's output range is measured after the ReLU that is its only consumer.
constexpr bool int8_scale_after_relu(function_ref layer) {
    return !layer.is_output() && layer.num_consumers() == 1 && layer.consumer(0).type() == op_kind::relu;
}

struct int8_calibration_taps {
    constexpr var modify(modify_context& c, function_ref f, std::span<const var> inputs) const {
        const var y = c.rebuild(f, inputs);
        const bool layer = int8_layer_kind(f.type()) && !int8_scale_after_relu(f);
        const bool relu_after_layer = f.type() == op_kind::relu && int8_layer_kind(f.input(0).type()) &&
                                      int8_scale_after_relu(f.input(0));
        if (layer || relu_after_layer) c.g.output(y);
        return y;
    }
};

struct int8_rewrite {
    constexpr var map_leaf(modify_context& c, function_ref leaf) const {
        if (!leaf.is_input()) return keep;
        return c.g.input(leaf.name(), leaf.shape(), leaf.lay(), dtype::i8);
    }

    constexpr var modify(modify_context& c, function_ref f, std::span<const var> inputs) const {
        switch (f.type()) {
        case op_kind::relu:
        case op_kind::max_pooling:
        case op_kind::average_pooling:
        case op_kind::reshape:
        case op_kind::identity: return keep;
        case op_kind::convolution:
        case op_kind::affine: break;
        default: {
            message_string m("Int8QuantizationModifier: ");
            m.append(f.type_name()).append(" in scope '").append(f.name());
            m.append("' has no int8 form (int8 layers: Convolution, Affine, ReLU, MaxPooling, "
                     "AveragePooling, Reshape, Identity; test-mode BatchNormalization is folded first)");
            if (f.type() == op_kind::batch_normalization && f.attr().naxes > 1)
                m.append(": a BatchNormalization over several axes does not fold into a layer's weights");
            c.fail(m);
            return keep;
        }
        }
        if (!f.input(1).is_parameter() || (f.num_inputs() > 2 && !f.input(2).is_parameter())) {
            message_string m("Int8QuantizationModifier: ");
            m.append(f.type_name()).append(" in scope '").append(f.name());
            m.append("' needs its weight and bias as parameters");
            c.fail(m);
            return keep;
        }
        const name_string scope = c.parameter_scope(inputs[1]);
        const shape_t& ws = inputs[1].shape();
        const bool conv = f.type() == op_kind::convolution;
        shape_t bs;
        if (conv) {
            bs.push_back(ws.dims[0]);
        } else {
            for (int i = 1; i < ws.rank; ++i) bs.push_back(ws.dims[i]);
        }
        const std::int64_t O = bs.numel();
        builder& g = c.g;
        const var w = typed_parameter_at(g, modify_context::join(scope.view(), "W_q"), ws, dtype::i8);
        const var b = typed_parameter_at(g, modify_context::join(scope.view(), "b_q"), bs, dtype::i32);
        const var rq =
            typed_parameter_at(g, modify_context::join(scope.view(), "requant"), {2, O}, dtype::i32);
        if (conv)
            return F::qconvolution(inputs[0], w, b, rq,
                                   op_traits<op_kind::convolution>::from_attributes(f.attr()));
        return F::qaffine(inputs[0], w, b, rq, op_traits<op_kind::affine>::from_attributes(f.attr()));
    }

    static constexpr var typed_parameter_at(builder& g, const name_string& key, shape_t shape, dtype t) {
        const var p = g.parameter_at(key, shape, {}, false);
        g.nodes[std::size_t(p.id)].type = t;
        return p;
    }
};

}  // namespace detail

struct Int8CalibrationModifier {
    constexpr auto expand() const {
        return make_modifier_list(BatchNormalizationFoldingModifier{}, detail::int8_calibration_taps{});
    }
};

struct Int8QuantizationModifier {
    constexpr auto expand() const {
        return make_modifier_list(BatchNormalizationFoldingModifier{}, detail::int8_rewrite{});
    }
};

}  // namespace kata
