// kata/pf/fixed_point_quantized.hpp
//
// What: PF::fixed_point_quantized_affine, PF::fixed_point_quantized_convolution and
// PF::fixed_point_quantized_deconvolution: inner-product layers whose weight (and bias) go through
// F::fixed_point_quantize before the inner product (quantization-aware simulation, docs/nnabla-semantics.md
// §3.3 / 3.5).
//
// nnabla mapping (python/src/nnabla/parametric_functions.py):
//   PF.fixed_point_quantized_affine(inp, n_outmaps, base_axis=1, w_init=None, b_init=None,
//       fix_parameters=False, rng=None, with_bias=True,
//       quantize_w=True, sign_w=True, n_w=8, delta_w=2**-4, ste_fine_grained_w=True,
//       quantize_b=True, sign_b=True, n_b=8, delta_b=2**-4, ste_fine_grained_b=True)
//       -> scope "fp_quantized_affine"
//   PF.fixed_point_quantized_convolution(inp, outmaps, kernel, pad=None, stride=None, dilation=None,
//       group=1, w_init=None, b_init=None, base_axis=1, fix_parameters=False, rng=None,
//       with_bias=True, <same quantization arguments>)
//       -> scope "fp_quantized_conv"
//   fixed_point_quantized_deconvolution: nnabla never shipped it (the legacy FixedPointWeightConverter
//       calls it and dies with AttributeError, docs/nnabla-semantics.md §3.3). kata's twin mirrors
// PF.deconvolution's
//       arguments (plus output_padding) and the quantization arguments; scope "fp_quantized_deconv";
//       W (inmaps, outmaps/group, *kernel), glorot(inmaps, outmaps, kernel).
//
// Parameters under the scope, in nnabla's creation order: W, W_q (only if quantize_w), b, b_q (only
// if with_bias and quantize_b). W and b are float and trainable (need_grad = !fix_parameters).
// The graph is: Wq' = FixedPointQuantize(W; sign_w, n_w, delta_w, ste_fine_grained_w),
// bq' = FixedPointQuantize(b; ...b), y = Affine/Convolution/Deconvolution(x, Wq', bq').
// quantize_w = false uses W directly (likewise for b), as nnabla does.
//
// Deviations (decided and documented):
//  * W_q / b_q are created as parameters (so .npz/.h5-derived files with those names load, strict
//    loads match nnabla's key set, and user code that looks them up finds them), but with
//    need_grad = false (docs/nnabla-semantics.md §3.3; upstream passes `not fix_parameters`, which makes them
// "trainable"
//    even though the forward overwrites them). The kata graph never READS them: the quantized weight
//    is computed in the graph from W on every run (nnabla writes it into W_q's buffer as a side effect
//    of forward). kata::sync_quantized_parameters<Net>(store) (kata/parameters.hpp) writes
//    W_q = FixedPointQuantize(W) into the store on demand, e.g. before saving.
//  * W_q is created with the same initializer as W (upstream: `w_init`, so it consumes the same
//    number of random draws, and the store's generator stays in step with nnabla's for the layers
//    that follow). Its initial values are therefore NOT quantize(W) until synced. b_q likewise.
//  * The quantization arguments are validated (n > 0, delta > 0, n > 1 if signed) when the graph is
//    built, by F::fixed_point_quantize (a compile-time error), rather than at nnabla's setup.
//  * No channel_last argument (upstream has none; the legacy converter rejects channel_last).
//  * Upstream evaluates `inp.shape[base_axis] / group` (a float in Python 3); kata uses integer
//    division. Glorot for the convolution uses the full inmaps even when grouped (as upstream).
#pragma once

#include "../ops/affine.hpp"
#include "../ops/convolution.hpp"
#include "../ops/deconvolution.hpp"
#include "../ops/elementwise.hpp"
#include "common.hpp"

namespace kata {

// Flat (no base class) so that designated initializers work: {.n_w = 4, .name = "fc"}.
struct pf_fixed_point_quantized_affine_args {
    int base_axis = 1;
    init_spec
        w_init{};  // default glorot uniform (inmaps = prod(x.shape[base_axis:]), outmaps = prod(n_outmaps))
    init_spec b_init{};  // default 0
    bool fix_parameters = false;
    bool with_bias = true;
    // Quantization (nnabla's *_w / *_b keyword arguments).
    bool quantize_w = true;
    bool sign_w = true;
    int n_w = 8;
    double delta_w = 0.0625;  // 2**-4
    bool ste_fine_grained_w = true;
    bool quantize_b = true;
    bool sign_b = true;
    int n_b = 8;
    double delta_b = 0.0625;  // 2**-4
    bool ste_fine_grained_b = true;
    std::string_view name = {};  // default "fp_quantized_affine"
};

struct pf_fixed_point_quantized_convolution_args {
    dims pad{};
    dims stride{};
    dims dilation{};
    std::int64_t group = 1;
    init_spec w_init{};
    init_spec b_init{};
    int base_axis = 1;
    bool fix_parameters = false;
    bool with_bias = true;
    // Quantization (nnabla's *_w / *_b keyword arguments).
    bool quantize_w = true;
    bool sign_w = true;
    int n_w = 8;
    double delta_w = 0.0625;  // 2**-4
    bool ste_fine_grained_w = true;
    bool quantize_b = true;
    bool sign_b = true;
    int n_b = 8;
    double delta_b = 0.0625;  // 2**-4
    bool ste_fine_grained_b = true;
    std::string_view name = {};  // default "fp_quantized_conv"
};

struct pf_fixed_point_quantized_deconvolution_args {
    dims pad{};
    dims stride{};
    dims dilation{};
    std::int64_t group = 1;
    dims output_padding{};
    init_spec w_init{};
    init_spec b_init{};
    int base_axis = 1;
    bool fix_parameters = false;
    bool with_bias = true;
    // Quantization (nnabla's *_w / *_b keyword arguments).
    bool quantize_w = true;
    bool sign_w = true;
    int n_w = 8;
    double delta_w = 0.0625;  // 2**-4
    bool ste_fine_grained_w = true;
    bool quantize_b = true;
    bool sign_b = true;
    int n_b = 8;
    double delta_b = 0.0625;  // 2**-4
    bool ste_fine_grained_b = true;
    std::string_view name = {};  // default "fp_quantized_deconv"
};

namespace PF {
namespace detail {

// W (+ W_q) and b (+ b_q) in nnabla's order; returns the variables the inner product reads.
struct fp_weights {
    var w, b;
};
template <class Q>
constexpr fp_weights fp_quantized_params(builder& g, const shape_t& ws, const shape_t& bs, init_spec wi,
                                         init_spec bi, bool fix, bool with_bias, const Q& q) {
    fp_weights r{none, none};
    var w = g.parameter("W", ws, wi, !fix);
    if (q.quantize_w) {
        (void)g.parameter("W_q", ws, wi, false);
        r.w = F::fixed_point_quantize(w, {q.sign_w, q.n_w, q.delta_w, q.ste_fine_grained_w});
    } else {
        r.w = w;
    }
    if (with_bias) {
        var b = g.parameter("b", bs, bi, !fix);
        if (q.quantize_b) {
            (void)g.parameter("b_q", bs, bi, false);
            r.b = F::fixed_point_quantize(b, {q.sign_b, q.n_b, q.delta_b, q.ste_fine_grained_b});
        } else {
            r.b = b;
        }
    }
    return r;
}

}  // namespace detail

// W (prod(x.shape[base_axis:]), *n_outmaps), b n_outmaps.
constexpr var fixed_point_quantized_affine(var x, shape_t n_outmaps,
                                           pf_fixed_point_quantized_affine_args a = {}) {
    builder& g = *x.g;
    auto s = g.scope(detail::scope_name(a.name, "fp_quantized_affine"));
    // W's first dimension is prod(x.shape[base_axis:]): report a bad base_axis before sizing it.
    const bool axis_ok = a.base_axis >= 0 && a.base_axis < x.shape().rank;
    if (!axis_ok) g.fail(kata::detail::affine_base_axis_message(x, a.base_axis));
    const std::int64_t inmaps = axis_ok ? x.shape().prod_from(a.base_axis) : 1;
    shape_t ws;
    ws.push_back(inmaps);
    for (int i = 0; i < n_outmaps.rank; ++i) ws.push_back(n_outmaps.dims[i]);
    const init_spec wi =
        detail::or_default(a.w_init, glorot_uniform_init(double(inmaps), double(n_outmaps.numel())));
    const init_spec bi = detail::or_default(a.b_init, constant_init(0));
    auto p = detail::fp_quantized_params(g, ws, n_outmaps, wi, bi, a.fix_parameters, a.with_bias, a);
    return F::affine(x, p.w, p.b, {a.base_axis});
}
constexpr var fixed_point_quantized_affine(var x, std::int64_t n_outmaps,
                                           pf_fixed_point_quantized_affine_args a = {}) {
    return fixed_point_quantized_affine(x, shape_t{n_outmaps}, a);
}

// W (outmaps, inmaps/group, *kernel), b (outmaps,). Channel-first only (as upstream).
constexpr var fixed_point_quantized_convolution(var x, std::int64_t outmaps, dims kernel,
                                                pf_fixed_point_quantized_convolution_args a = {}) {
    builder& g = *x.g;
    auto s = g.scope(detail::scope_name(a.name, "fp_quantized_conv"));
    const shape_t& xs = x.shape();
    const std::int64_t inmaps = (a.base_axis >= 0 && a.base_axis < xs.rank) ? xs.dims[a.base_axis] : 1;
    shape_t ws;
    ws.push_back(outmaps);
    ws.push_back(a.group > 0 ? inmaps / a.group : inmaps);
    for (int i = 0; i < kernel.n && i < max_spatial; ++i) ws.push_back(kernel[i]);
    const init_spec wi = detail::or_default(
        a.w_init, glorot_uniform_init(double(inmaps), double(outmaps), double(detail::kernel_prod(kernel))));
    const init_spec bi = detail::or_default(a.b_init, constant_init(0));
    auto p = detail::fp_quantized_params(g, ws, shape_t{outmaps}, wi, bi, a.fix_parameters, a.with_bias, a);
    return F::convolution(x, p.w, p.b, {a.base_axis, a.pad, a.stride, a.dilation, a.group, false});
}

// kata's twin (nnabla never shipped it): W (inmaps, outmaps/group, *kernel), b (outmaps,).
constexpr var fixed_point_quantized_deconvolution(var x, std::int64_t outmaps, dims kernel,
                                                  pf_fixed_point_quantized_deconvolution_args a = {}) {
    builder& g = *x.g;
    auto s = g.scope(detail::scope_name(a.name, "fp_quantized_deconv"));
    const shape_t& xs = x.shape();
    const std::int64_t inmaps = (a.base_axis >= 0 && a.base_axis < xs.rank) ? xs.dims[a.base_axis] : 1;
    shape_t ws;
    ws.push_back(inmaps);
    ws.push_back(a.group > 0 ? outmaps / a.group : outmaps);
    for (int i = 0; i < kernel.n && i < max_spatial; ++i) ws.push_back(kernel[i]);
    const init_spec wi = detail::or_default(
        a.w_init, glorot_uniform_init(double(inmaps), double(outmaps), double(detail::kernel_prod(kernel))));
    const init_spec bi = detail::or_default(a.b_init, constant_init(0));
    auto p = detail::fp_quantized_params(g, ws, shape_t{outmaps}, wi, bi, a.fix_parameters, a.with_bias, a);
    return F::deconvolution(x, p.w, p.b,
                            {a.base_axis, a.pad, a.stride, a.dilation, a.group, false, a.output_padding});
}

// Keyword forms (kata/ops/keywords.hpp): PF::fixed_point_quantized_affine(x, 10, kw::n_w = 4).
template <keyword_argument... K>
constexpr var fixed_point_quantized_affine(var x, shape_t n_outmaps, const K&... kws) {
    using A = pf_fixed_point_quantized_affine_args;
    return fixed_point_quantized_affine(x, n_outmaps, make_args<A>(kws...));
}
template <keyword_argument... K>
constexpr var fixed_point_quantized_affine(var x, std::int64_t n_outmaps, const K&... kws) {
    using A = pf_fixed_point_quantized_affine_args;
    return fixed_point_quantized_affine(x, shape_t{n_outmaps}, make_args<A>(kws...));
}
template <keyword_argument... K>
constexpr var fixed_point_quantized_convolution(var x, std::int64_t outmaps, dims kernel, const K&... kws) {
    return fixed_point_quantized_convolution(x, outmaps, kernel,
                                             make_args<pf_fixed_point_quantized_convolution_args>(kws...));
}
template <keyword_argument... K>
constexpr var fixed_point_quantized_deconvolution(var x, std::int64_t outmaps, dims kernel, const K&... kws) {
    using A = pf_fixed_point_quantized_deconvolution_args;
    return fixed_point_quantized_deconvolution(x, outmaps, kernel, make_args<A>(kws...));
}

}  // namespace PF
}  // namespace kata

KATA_ADAPT_ARGS(kata::pf_fixed_point_quantized_affine_args, base_axis, w_init, b_init, fix_parameters,
                with_bias, quantize_w, sign_w, n_w, delta_w, ste_fine_grained_w, quantize_b, sign_b, n_b,
                delta_b, ste_fine_grained_b, name);
KATA_ADAPT_ARGS(kata::pf_fixed_point_quantized_convolution_args, pad, stride, dilation, group, w_init, b_init,
                base_axis, fix_parameters, with_bias, quantize_w, sign_w, n_w, delta_w, ste_fine_grained_w,
                quantize_b, sign_b, n_b, delta_b, ste_fine_grained_b, name);
KATA_ADAPT_ARGS(kata::pf_fixed_point_quantized_deconvolution_args, pad, stride, dilation, group,
                output_padding, w_init, b_init, base_axis, fix_parameters, with_bias, quantize_w, sign_w, n_w,
                delta_w, ste_fine_grained_w, quantize_b, sign_b, n_b, delta_b, ste_fine_grained_b, name);
