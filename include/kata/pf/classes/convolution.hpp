// kata/pf/classes/convolution.hpp
//
// What: kata::Convolution and its aliases kata::Conv1d / Conv2d / Conv3d / ConvNd.
//
// nnabla mapping: experimental.parametric_function_class.convolution.Convolution(inmaps, outmaps,
// kernel, pad=None, stride=None, dilation=None, group=1, w_init=None, b_init=None, base_axis=1,
// fix_parameters=False, rng=None, with_bias=True), aliases Conv1d/2d/3d/ConvNd (the same class: the
// number of spatial dims is the kernel's length). Parameters "<name>/W" (outmaps, inmaps/group,
// *kernel) and "<name>/b" (outmaps,) = 0; call F::convolution(x, W, b, base_axis, pad, stride,
// dilation, group), channel-first only (as upstream).
//
//     kata::Conv2d conv1(1, 6, {5, 5}, {.name = "conv1", .pad = {2, 2}});
//     auto h = conv1(x);                                   // conv1/W (6, 1, 5, 5), conv1/b (6,)
//
// Upstream behaviour kept (documented): the default Glorot limit uses the FULL inmaps even when
// grouped: sqrt(6 / (prod(kernel) (inmaps + outmaps))), not inmaps/group.
// Deviations: module.hpp (names without a leading '/', rng seed).
#pragma once

#include "../../ops/convolution.hpp"
#include "module.hpp"

namespace kata {

struct convolution_options {
    std::string_view name = {};  // module name = parameter prefix (first, so {.name = "fc", ...} works)
    dims pad{};
    dims stride{};
    dims dilation{};
    std::int64_t group = 1;
    init_spec w_init{};  // default: glorot uniform (inmaps, outmaps, prod(kernel))
    init_spec b_init{};  // default: constant 0
    int base_axis = 1;
    bool fix_parameters = false;
    std::optional<std::uint32_t> rng{};
    bool with_bias = true;
};

class Convolution {
public:
    constexpr Convolution(std::int64_t inmaps, std::int64_t outmaps, dims kernel, convolution_options o = {})
        : inmaps_(inmaps), outmaps_(outmaps), kernel_(kernel), o_(o) {}
    // Options as keywords in any order: Conv2d(1, 6, {5, 5}, kw::pad = {2, 2}, kw::name = "conv1").
    template <keyword_argument... K>
    constexpr Convolution(std::int64_t inmaps, std::int64_t outmaps, dims kernel, const K&... kws)
        : Convolution(inmaps, outmaps, kernel, make_args<convolution_options>(kws...)) {}

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
            return F::convolution(x, w, b, {o_.base_axis, o_.pad, o_.stride, o_.dilation, o_.group, false});
        });
    }

    constexpr shape_t W_shape() const {
        shape_t s{outmaps_, o_.group > 0 ? inmaps_ / o_.group : inmaps_};
        for (int i = 0; i < kernel_.n && i < max_spatial; ++i) s.push_back(kernel_[i]);
        return s;
    }
    constexpr std::int64_t inmaps() const { return inmaps_; }
    constexpr std::int64_t outmaps() const { return outmaps_; }
    constexpr const convolution_options& options() const { return o_; }

private:
    std::int64_t inmaps_, outmaps_;
    dims kernel_;
    convolution_options o_;
};

using Conv1d = Convolution;
using Conv2d = Convolution;
using Conv3d = Convolution;
using ConvNd = Convolution;

}  // namespace kata

KATA_ADAPT_ARGS(kata::convolution_options, name, pad, stride, dilation, group, w_init, b_init, base_axis,
                fix_parameters, rng, with_bias);
