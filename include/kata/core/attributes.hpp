// kata/core/attributes.hpp
//
// The arguments (nnabla: `Function.info.args`) of every op kind, in one flat structural struct.
//
// Why one struct for all ops: nodes must be structural values stored in a std::array, so they need a
// single type. The struct is ~200 bytes; a 3000-node graph stays well under a megabyte of constant
// data, and field access is trivial for the constexpr passes. Fields not used by an op keep their
// defaults so that two equal layers compare equal (and share kernel instantiations).
#pragma once

#include <cstdint>

#include "shape.hpp"

namespace kata {

inline constexpr int max_spatial = 3;

enum class nonlinearity_kind : std::uint8_t { none, relu };

struct attributes {
    // Convolution family / pooling
    int base_axis = 1;
    int spatial_dims = 0;  // number of spatial axes the op works on (1, 2 or 3)
    std::int64_t kernel[max_spatial]{};
    std::int64_t pad[max_spatial]{};
    std::int64_t stride[max_spatial]{};
    std::int64_t dilation[max_spatial]{};
    std::int64_t output_padding[max_spatial]{};
    std::int64_t group = 1;  // group; multiplier (DepthwiseConvolution); divisor (DepthwiseDeconvolution)
    bool channel_last = false;
    bool ignore_border = true;
    bool including_pad = true;
    // Axis arguments: Concatenate/Softmax use `axis`; BatchNormalization uses axes[0..naxes);
    // Transpose stores its permutation in axes.
    int axis = 1;
    int axes[max_rank]{};
    int naxes = 0;
    // Reshape target; gradient kinds: the shape of the forward input whose gradient they compute.
    shape_t target{};
    // Sum / Mean.
    bool keep_dims = false;
    // ConcatenateGrad: where its input's slice starts along `axis`; DropoutGrad: the id of the forward
    // Dropout node (its mask stream, kata/cpu/kernels/dropout.hpp).
    std::int64_t offset = 0;
    // Scalars.
    double alpha = 0.1;  // LeakyReLU
    double val = 1.0;    // AddScalar / MulScalar
    // BatchNormalization / FusedBatchNormalization.
    double decay_rate = 0.9;
    double eps = 1e-5;
    bool batch_stat = true;
    bool no_scale = false;
    bool no_bias = false;
    nonlinearity_kind nonlinearity = nonlinearity_kind::none;
    // FixedPointQuantize.
    bool sign = true;
    int n = 8;
    double delta = 0.0625;
    bool ste_fine_grained = true;
    // Dropout (nnabla: p, seed); TopNError uses `axis` and `n`.
    double p = 0.5;
    std::int64_t seed = -1;
    // Whether the node has a bias input (IP functions) / residual input (fused BN).
    bool has_bias = false;
    bool has_residual = false;

    constexpr bool operator==(const attributes&) const = default;
};

// How a parameter is initialised when it is created at run time (nnabla: the `w_init`/`b_init`
// initializer objects of parametric functions). Recorded in the graph so that a network type can
// create its own parameters; values are drawn at run time by kata/io/initializers.hpp.
enum class init_kind : std::uint8_t { none, constant, uniform, normal, glorot_uniform, glorot_normal };

struct init_spec {
    init_kind kind = init_kind::none;
    double a = 0;  // constant value / uniform low / normal mean / glorot: inmaps
    double b = 0;  // uniform high / normal std / glorot: outmaps
    double k = 1;  // glorot: product of kernel dims
    // nnabla's `rng=` argument of parametric functions/classes: when has_seed, the values are drawn
    // from a fresh kata::rng(seed) (numpy RandomState(seed)) instead of the parameter store's
    // generator, which is then not advanced (kata/parameters.hpp).
    std::uint32_t seed = 0;
    bool has_seed = false;
    constexpr bool operator==(const init_spec&) const = default;
};

// The same initializer, drawn from its own generator seeded with `seed` (see init_spec::seed).
constexpr init_spec with_seed(init_spec s, std::uint32_t seed) {
    s.seed = seed;
    s.has_seed = true;
    return s;
}

constexpr init_spec constant_init(double v) { return {init_kind::constant, v, 0, 1, 0, false}; }
constexpr init_spec uniform_init(double lo, double hi) { return {init_kind::uniform, lo, hi, 1, 0, false}; }
constexpr init_spec normal_init(double mean, double stddev) {
    return {init_kind::normal, mean, stddev, 1, 0, false};
}
// nnabla's calc_uniform_lim_glorot(inmaps, outmaps, kernel): U(-b, b), b = sqrt(6 / (K (N + M))).
constexpr init_spec glorot_uniform_init(double inmaps, double outmaps, double kernel_prod = 1) {
    return {init_kind::glorot_uniform, inmaps, outmaps, kernel_prod, 0, false};
}

}  // namespace kata
