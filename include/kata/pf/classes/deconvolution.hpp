// kata/pf/classes/deconvolution.hpp
//
// What: kata::Deconvolution and its aliases kata::Deconv1d / Deconv2d / Deconv3d / DeconvNd.
//
// nnabla mapping: experimental.parametric_function_class.deconvolution.Deconvolution(inmaps, outmaps,
// kernel, pad=None, stride=None, dilation=None, group=1, w_init=None, b_init=None, base_axis=1,
// fix_parameters=False, rng=None, with_bias=True); aliases Deconv1d/2d/3d/DeconvNd. Default W init
// U(+-sqrt(6 / (prod(kernel) (inmaps + outmaps)))), b = 0. Call F::deconvolution(x, W, b, base_axis,
// pad, stride, dilation, group), channel-first only.
//
// Deviation (upstream bug fixed, docs/nnabla-semantics.md §10.14): upstream creates W with the CONVOLUTION
// layout (outmaps, inmaps/group, *kernel) while the Deconvolution function expects (inmaps,
// outmaps/group, *kernel), so upstream works only when inmaps == outmaps and group == 1. kata
// creates "<name>/W" as (inmaps, outmaps/group, *kernel) -- the layout PF.deconvolution and
// F.deconvolution use -- so any inmaps/outmaps/group works (tests/graph/parametric_classes.cpp runs
// inmaps != outmaps with group > 1 against F::deconvolution with the same weights).
// kata extension: `output_padding` (F.deconvolution's argument; default none as upstream).
// Other deviations: module.hpp.
#pragma once

#include "../../ops/deconvolution.hpp"
#include "module.hpp"

namespace kata {

struct deconvolution_options {
    std::string_view name = {};  // module name = parameter prefix (first, so {.name = "fc", ...} works)
    dims pad{};
    dims stride{};
    dims dilation{};
    std::int64_t group = 1;
    init_spec w_init{};
    init_spec b_init{};
    int base_axis = 1;
    bool fix_parameters = false;
    std::optional<std::uint32_t> rng{};
    bool with_bias = true;
    dims output_padding{};  // kata extension
};

class Deconvolution {
public:
    constexpr Deconvolution(std::int64_t inmaps, std::int64_t outmaps, dims kernel,
                            deconvolution_options o = {})
        : inmaps_(inmaps), outmaps_(outmaps), kernel_(kernel), o_(o) {}
    // Options as keywords in any order (kata/ops/keywords.hpp).
    template <keyword_argument... K>
    constexpr Deconvolution(std::int64_t inmaps, std::int64_t outmaps, dims kernel, const K&... kws)
        : Deconvolution(inmaps, outmaps, kernel, make_args<deconvolution_options>(kws...)) {}

    constexpr var operator()(var x) const {
        builder& g = *x.g;
        return detail::in_module_scope(g, o_.name, [&] {
            const init_spec wi = detail::module_weight_init(
                o_.w_init,
                glorot_uniform_init(double(inmaps_), double(outmaps_), double(detail::dims_prod(kernel_))),
                o_.rng);
            var w = g.parameter("W", W_shape(), wi, !o_.fix_parameters);
            var b = none;
            if (o_.with_bias)
                b = g.parameter("b", shape_t{outmaps_}, detail::module_init_or(o_.b_init, constant_init(0)),
                                !o_.fix_parameters);
            return F::deconvolution(
                x, w, b, {o_.base_axis, o_.pad, o_.stride, o_.dilation, o_.group, false, o_.output_padding});
        });
    }

    // (inmaps, outmaps/group, *kernel): the deconvolution layout (upstream used the convolution one).
    constexpr shape_t W_shape() const {
        shape_t s{inmaps_, o_.group > 0 ? outmaps_ / o_.group : outmaps_};
        for (int i = 0; i < kernel_.n && i < max_spatial; ++i) s.push_back(kernel_[i]);
        return s;
    }
    constexpr std::int64_t inmaps() const { return inmaps_; }
    constexpr std::int64_t outmaps() const { return outmaps_; }
    constexpr const deconvolution_options& options() const { return o_; }

private:
    std::int64_t inmaps_, outmaps_;
    dims kernel_;
    deconvolution_options o_;
};

using Deconv1d = Deconvolution;
using Deconv2d = Deconvolution;
using Deconv3d = Deconvolution;
using DeconvNd = Deconvolution;

}  // namespace kata

KATA_ADAPT_ARGS(kata::deconvolution_options, name, pad, stride, dilation, group, w_init, b_init, base_axis,
                fix_parameters, rng, with_bias, output_padding);
