// kata/pf/classes/affine.hpp
//
// What: kata::Affine (alias kata::Linear), the class form of the fully connected layer.
//
// nnabla mapping: experimental.parametric_function_class.affine.Affine(n_inmaps, n_outmaps,
// base_axis=1, w_init=None, b_init=None, fix_parameters=False, rng=None, with_bias=True); Linear is an
// alias. Parameters "<name>/W" (n_inmaps, prod(n_outmaps)) ~ U(+-sqrt(6 / (n_in + n_out))) and
// "<name>/b" (prod(n_outmaps),) = 0, need_grad = !fix_parameters. Call: F::affine(x, W, b, base_axis).
//
//     constexpr kata::var f(kata::builder& g) {
//         kata::Linear fc(400, 10, {.name = "fc"});
//         return fc(g.input("x", {8, 16, 5, 5}));      // (8, 10); parameters fc/W (400, 10), fc/b (10,)
//     }
//
// Upstream behaviour kept (documented): a tuple n_outmaps is flattened to its product, so W is 2-D
// and the output is (x.shape[:base_axis], prod(n_outmaps)) -- unlike PF::affine, which keeps the
// multi-dimensional output shape. Deviation: see module.hpp (names without a leading '/', rng seed).
#pragma once

#include "../../ops/affine.hpp"
#include "module.hpp"

namespace kata {

struct affine_options {
    std::string_view name = {};  // module name = parameter prefix (first, so {.name = "fc", ...} works)
    int base_axis = 1;
    init_spec w_init{};  // default: glorot uniform (n_inmaps, prod(n_outmaps))
    init_spec b_init{};  // default: constant 0
    bool fix_parameters = false;
    std::optional<std::uint32_t> rng{};  // seed for the default w_init (module.hpp)
    bool with_bias = true;
};

class Affine {
public:
    constexpr Affine(std::int64_t n_inmaps, std::int64_t n_outmaps, affine_options o = {})
        : n_inmaps_(n_inmaps), n_outmaps_(n_outmaps), o_(o) {}
    // A tuple of output maps is flattened to its product (upstream).
    constexpr Affine(std::int64_t n_inmaps, shape_t n_outmaps, affine_options o = {})
        : n_inmaps_(n_inmaps), n_outmaps_(n_outmaps.numel()), o_(o) {}
    // Options as keywords in any order (kata/ops/keywords.hpp).
    template <keyword_argument... K>
    constexpr Affine(std::int64_t n_inmaps, std::int64_t n_outmaps, const K&... kws)
        : Affine(n_inmaps, n_outmaps, make_args<affine_options>(kws...)) {}
    template <keyword_argument... K>
    constexpr Affine(std::int64_t n_inmaps, shape_t n_outmaps, const K&... kws)
        : Affine(n_inmaps, n_outmaps, make_args<affine_options>(kws...)) {}

    constexpr var operator()(var x) const {
        builder& g = *x.g;
        return detail::in_module_scope(g, o_.name, [&] {
            const init_spec wi = detail::module_weight_init(
                o_.w_init, glorot_uniform_init(double(n_inmaps_), double(n_outmaps_)), o_.rng);
            var w = g.parameter("W", W_shape(), wi, !o_.fix_parameters);
            var b = none;
            if (o_.with_bias)
                b = g.parameter("b", b_shape(), detail::module_init_or(o_.b_init, constant_init(0)),
                                !o_.fix_parameters);
            return F::affine(x, w, b, {o_.base_axis});
        });
    }

    constexpr shape_t W_shape() const { return shape_t{n_inmaps_, n_outmaps_}; }
    constexpr shape_t b_shape() const { return shape_t{n_outmaps_}; }
    constexpr std::int64_t n_inmaps() const { return n_inmaps_; }
    constexpr std::int64_t n_outmaps() const { return n_outmaps_; }
    constexpr const affine_options& options() const { return o_; }

private:
    std::int64_t n_inmaps_, n_outmaps_;
    affine_options o_;
};

using Linear = Affine;

}  // namespace kata

KATA_ADAPT_ARGS(kata::affine_options, name, base_axis, w_init, b_init, fix_parameters, rng, with_bias);
