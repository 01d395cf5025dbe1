// kata/converters/legacy/fixed_point_weight_converter.hpp
//
// FixedPointWeightConverter(inner_prod_functions = {Affine, Convolution, Deconvolution}, floor = false,
// args_fpq = {sign_w, n_w = 8, delta_w = 2e-4, quantize_w, sign_b, n_b = 8, delta_b = 2e-4, quantize_b},
// name = "fixed-point-weight-graph") (nnabla v1.0.11 - v1.10, docs/nnabla-semantics.md §3.3): every listed
// inner-product function becomes its fixed-point-quantized layer (kata/pf/fixed_point_quantized.hpp): under
// the scope
// `<name>/<layer>/fp_quantized_conv` (`fp_quantized_affine` for Affine, `fp_quantized_deconv` for
// Deconvolution; layer = the W key without its last component: "conv1/conv/W" -> "conv1/conv"), the
// keys nnabla 1.39's PF.fixed_point_quantized_convolution(..., name=<layer>) creates inside
// parameter_scope(<name>) (tests/fixtures/graph/nnabla_parameter_names.txt)
//     W, b      copies of the original weight and bias (trainable, as the PF creates them)
//     W_q, b_q  FixedPointQuantize(W), FixedPointQuantize(b) (need_grad = false), derived by
//               kata::apply_conversion (derivation_kind::fixed_point), so the store always holds what
//               nnabla's forward would have written into them
//     y = IP(x, FixedPointQuantize(W; sign_w, n_w, delta_w), FixedPointQuantize(b; sign_b, n_b, delta_b))
// i.e. exactly the graph PF::fixed_point_quantized_{affine,convolution,deconvolution}(..., {.name =
// "<name>/<layer>"}) builds, with the same parameter keys. Everything else is identity-converted
// (parameters copied to `<name>/<key>`, identity_converter.hpp).
//
//     using Q  = kata::convert<Net, kata::FixedPointWeightConverter{}>;
//     using Q4 = kata::convert<Net, kata::FixedPointWeightConverter{
//                     .floor = true, .args_fpq = {.n_w = 4, .delta_w = kata::fixed_point_auto_delta}}>;
//     kata::apply_conversion<Q>(store);          // copies W, b and computes W_q, b_q
//
// Automatic step (upstream: a delta key absent from args_fpq; kata: delta = kata::fixed_point_auto_delta,
// i.e. 0): delta = 2^R(log2(max|W| / (2^n' - 1))), n' = n - 1 if signed else n, R = ceil, or floor with
// floor = true: the largest step whose range still covers max|W| (ceil), or the finest one that clips
// it (floor). The step depends on W's values, which kata only sees at apply time, so with an automatic
// step the IP reads the derived W_q (b_q) directly instead of quantizing in the graph: the step and
// the quantized values are recomputed by every apply_conversion (upstream also fixes the step at
// conversion time; its in-graph quantizer would follow later changes of W with the old step). An
// all-zero weight or bias (upstream: delta 0, which FixedPointQuantize rejects) quantizes to exact
// zeros (what any positive step gives); no step is computed.
//
// kata vs upstream (docs/nnabla-semantics.md §3.3, 10.15):
//   * the automatic step works (upstream: unreachable, KeyError then AttributeError `np.round_func`);
//     log2 is evaluated exactly (frexp), so max|W| = (2^n' - 1) 2^k gives 2^k for ceil and floor;
//   * layer = the W key without its LAST PATH COMPONENT ("myW/W" -> "myW"; upstream strips every
//     trailing 'W' and '/' character: "myW/W" -> "my"); a key without '/' has no layer scope
//     ("<name>/fp_quantized_conv/W");
//   * Deconvolution is supported (upstream calls PF.fixed_point_quantized_deconvolution, which never
//     existed): quantized W, same arguments incl. groups, output_padding and channel_last;
//   * channel_last Convolution is supported (upstream: ValueError): the layout is kept;
//   * Affine keeps W's full output shape (upstream: outmaps = W.shape[1]);
//   * quantize_w / quantize_b = false leave W / b unquantized (no W_q / b_q; upstream reads the keys
//     and ignores them); the arguments are validated at compile time (n > 0, n > 1 when signed,
//     n <= 62, delta > 0 or automatic);
//   * call_forward has no twin: apply_conversion writes W_q/b_q without running the network, so no
//     running statistics of batch_stat BNs are touched (upstream's forward updates them);
//   * W must be a parameter (a compile-time error otherwise; upstream raises ValueError);
//   * a listed kind other than Affine/Convolution/Deconvolution is a compile-time error;
//   * an empty name is a compile-time error when something is converted (the copy of W would take the
//     original's key; upstream's get-or-create would silently hand back the original).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "../../ops/elementwise.hpp"
#include "identity_converter.hpp"

namespace kata {

// The step value that asks FixedPointWeightConverter for the automatic power-of-two step.
inline constexpr double fixed_point_auto_delta = 0.0;

// nnabla's args_fpq of FixedPointWeightConverter (docs/nnabla-semantics.md §3.3).
struct fixed_point_weight_args {
    bool sign_w = true;
    int n_w = 8;
    double delta_w = 2e-4;  // fixed_point_auto_delta: automatic power-of-two step
    bool quantize_w = true;
    bool sign_b = true;
    int n_b = 8;
    double delta_b = 2e-4;  // fixed_point_auto_delta: automatic power-of-two step
    bool quantize_b = true;
};

namespace detail {

// The scope of the fixed-point layer replacing f, as nnabla's PF.fixed_point_quantized_*(...,
// name=<layer>) inside parameter_scope(<name>) creates it: "<name>/<layer>/fp_quantized_conv", layer =
// the W key's scope ("cb1/conv/W" -> "cb1/conv"; a key without '/' has no layer:
// "<name>/fp_quantized_conv").
constexpr name_string fixed_point_scope(std::string_view name, function_ref f) {
    const std::string_view key = f.input(1).name();
    const auto p = key.rfind('/');
    const std::string_view pf = f.type() == op_kind::affine          ? "fp_quantized_affine"
                                : f.type() == op_kind::deconvolution ? "fp_quantized_deconv"
                                                                     : "fp_quantized_conv";
    if (p == std::string_view::npos || p == 0) return modify_context::join(name, pf);
    const name_string layer = modify_context::join(name, key.substr(0, p));
    return modify_context::join(layer.view(), pf);
}

// Compile-time check of one quantizer's arguments; false (after c.fail) when invalid.
constexpr bool check_fixed_point_args(modify_context& c, function_ref f, const char* which, bool sign, int n,
                                      double delta) {
    if (n > 0 && n <= 62 && (!sign || n > 1) && delta >= 0) return true;
    message_string m("FixedPointWeightConverter: ");
    m.append(kata::detail::layer(f)).append(": ").append(which);
    m.append(
        " needs n > 0 (n > 1 when signed, n <= 62) and delta > 0 (or kata::fixed_point_auto_delta), got n=");
    m.append_int(n).append(" delta=").append_double(delta).append(sign ? " sign=true" : " sign=false");
    c.fail(m);
    return false;
}

}  // namespace detail

struct FixedPointWeightConverter {
    op_kind inner_prod_functions[4]{op_kind::affine, op_kind::convolution, op_kind::deconvolution};
    bool floor = false;  // automatic step: R = floor instead of ceil
    fixed_point_weight_args args_fpq{};
    name_string name{"fixed-point-weight-graph"};

    constexpr var modify(modify_context& c, function_ref f, std::span<const var> inputs) const {
        using namespace detail;
        if (!detail::listed(inner_prod_functions, f.type()))
            return detail::identity_conversion(c, name.view(), f, inputs);
        if (!is_ip(f.type())) {
            message_string m("FixedPointWeightConverter: ");
            m.append(layer(f)).append(" is listed in inner_prod_functions but only Affine, Convolution and "
                                      "Deconvolution have fixed-point counterparts");
            c.fail(m);
            return keep;
        }
        const bool has_b = f.num_inputs() > 2;
        if (!f.input(1).is_parameter() || (has_b && !f.input(2).is_parameter())) {
            message_string m("FixedPointWeightConverter: the weight and bias of ");
            m.append(layer(f)).append(" must be parameters");
            c.fail(m);
            return keep;
        }
        const fixed_point_weight_args& a = args_fpq;
        const bool qw = a.quantize_w, qb = has_b && a.quantize_b;
        if (qw && !detail::check_fixed_point_args(c, f, "W", a.sign_w, a.n_w, a.delta_w)) return keep;
        if (qb && !detail::check_fixed_point_args(c, f, "b", a.sign_b, a.n_b, a.delta_b)) return keep;

        const name_string scope = detail::fixed_point_scope(name.view(), f);
        // Parameters in nnabla's creation order: W, W_q, b, b_q.
        auto copy = [&](int k, const char* leaf) {
            derivation d;
            d.kind = derivation_kind::copy;
            d.target = modify_context::join(scope.view(), leaf);
            d.shape = f.input_shape(k);
            d.need_grad = true;
            d.sources[src_w] = name_string{f.input(k).name()};
            return d;
        };
        auto quantized = [&](const derivation& src, const char* leaf, bool sign, int n, double delta) {
            derivation d;
            d.kind = derivation_kind::fixed_point;
            d.target = modify_context::join(scope.view(), leaf);
            d.shape = src.shape;
            d.need_grad = false;
            d.sources[src_w] = src.target;
            d.fp_sign = sign;
            d.fp_n = n;
            d.fp_delta = delta;
            d.fp_floor = floor;
            return d;
        };
        const var x = detail::input_or_copy(c, name.view(), f, inputs, 0);
        const derivation dw = copy(1, "W");
        var w = c.derive(dw);
        var wq = none;
        if (qw) wq = c.derive(quantized(dw, "W_q", a.sign_w, a.n_w, a.delta_w));
        var b = none, bq = none;
        if (has_b) {
            const derivation db = copy(2, "b");
            b = c.derive(db);
            if (qb) bq = c.derive(quantized(db, "b_q", a.sign_b, a.n_b, a.delta_b));
        }
        {
            auto guard = c.g.scope(scope.view());
            if (qw) w = a.delta_w > 0 ? F::fixed_point_quantize(w, {a.sign_w, a.n_w, a.delta_w, true}) : wq;
            if (qb) b = a.delta_b > 0 ? F::fixed_point_quantize(b, {a.sign_b, a.n_b, a.delta_b, true}) : bq;
        }
        const var ins[3] = {x, w, b};
        return kata::rebuild(c.g, f.type(), f.attr(), std::span<const var>(ins, has_b ? 3 : 2), scope.view());
    }
};

// ---- value rule (derivation.hpp) --------------------------------------------------------------------

// target = FixedPointQuantize(source) (docs/nnabla-semantics.md §3.5) with the CPU kernel's float32
// arithmetic (cpu/kernels/elementwise.hpp, sync_quantized_parameters), so a derived W_q equals what a graph
// quantizing W computes, bit for bit. Automatic step (fp_delta == 0, docs/nnabla-semantics.md §3.3):
// 2^R(log2(max|W| / (2^n' - 1))), R = ceil or floor, with log2 taken exactly from frexp (r = m 2^e,
// m in [0.5, 1): log2 r = e - 1 iff m == 0.5, otherwise it lies in (e - 1, e)); an all-zero source
// gives exact zeros.
template <>
struct derivation_rule<derivation_kind::fixed_point> {
    static void compute(const derivation& d, const derivation_sources& src, std::span<float> out) {
        using namespace detail;
        const derivation_source s = source(src, d, src_w, true);
        const std::size_t n = out.size();
        expect_size(src, d, s, n, "source");
        const int nb = d.fp_sign ? d.fp_n - 1 : d.fp_n;
        if (d.fp_n <= 0 || nb <= 0 || d.fp_n > 62 || !(d.fp_delta >= 0))
            src.fail("kata::apply_conversion: bad fixed-point arguments for '" + target_of(d) +
                     "' (n=" + std::to_string(d.fp_n) + ", delta=" + std::to_string(d.fp_delta) + ")");
        const float* x = s.data;
        float delta = float(d.fp_delta);
        if (d.fp_delta == 0) {
            double mx = 0;
            for (std::size_t i = 0; i < n; ++i) mx = std::max(mx, std::fabs(double(x[i])));
            if (mx == 0 || !std::isfinite(mx)) {
                if (mx != 0)
                    src.fail("kata::apply_conversion: '" + target_of(d) +
                             "': automatic fixed-point step of a non-finite source");
                for (std::size_t i = 0; i < n; ++i) out[i] = 0.0f;
                return;
            }
            int e = 0;
            const double m = std::frexp(mx / (std::ldexp(1.0, nb) - 1.0), &e);
            delta = float(std::ldexp(1.0, (m == 0.5 || d.fp_floor) ? e - 1 : e));
            if (!(delta > 0.0f))
                src.fail("kata::apply_conversion: '" + target_of(d) +
                         "': automatic fixed-point step underflows float32");
        }
        const float vmax = float((std::ldexp(1.0, nb) - 1.0) * double(delta));
        const float vmin = d.fp_sign ? -vmax : 0.0f;
        for (std::size_t i = 0; i < n; ++i) {
            const float v = x[i];
            if (v > vmax)
                out[i] = vmax;
            else if (v < vmin)
                out[i] = vmin;
            else {
                const float q = float(std::int64_t(double(std::fabs(v) / delta) + 0.5)) * delta;
                out[i] = v < 0.0f ? -q : q;
            }
        }
    }
};

}  // namespace kata
