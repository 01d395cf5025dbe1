// kata/converters/derivation.hpp
//
// Value transforms recorded by graph converters.
//
// A converter rewrites the graph at compile time; the new parameter VALUES it implies (folded weights,
// c0/c1 of a self-folded batch norm, transposed channel-last weights, pruned weights...) are computed
// at run time from a parameter_store. Each new parameter is described by one `derivation`: a
// structural record (usable inside a lifted type) naming the target parameter, the kind of transform,
// its source parameters (up to 6, by full key) and the numeric arguments. `kata::convert<...>` exposes
// the list in creation order as `Converted::derivations` (for a chained conversion the predecessor's
// derivations come first) and `kata::apply_conversion<Converted>(store)` (apply_conversion.hpp)
// evaluates them in that order with `create_or_replace`, so converting twice gives identical values
// (upstream's get-or-create returns stale values, docs/nnabla-semantics.md §0.4 / 10.6).
//
// Each kind's VALUE rule, `derivation_rule<kind>::compute(d, sources, out)`, lives next to the
// modifier that records it (constant: add_bias.hpp; bn_*: the batch-norm folding modifiers; copy:
// legacy/identity_converter.hpp; transpose: channel_last.hpp; prune_*: pruning.hpp; fixed_point:
// legacy/fixed_point_weight_converter.hpp). Rules work on raw float32 spans: they read their sources
// through `derivation_sources` (find a parameter by name: data, size, shape) and write `out`
// (d.shape.numel() floats), so the structural converters never need xtensor or a parameter store;
// apply_conversion.hpp is the driver that connects them to kata::parameter_store.
//
// Source slots (`sources[i]`, empty = absent):
//     src_w = 0     the weight W (or the source of copy / transpose / constant-free kinds)
//     src_beta = 1, src_gamma = 2, src_mean = 3, src_var = 4   batch-norm parameters
//                   (absent beta means 0, absent gamma means 1: BNs with no_bias / no_scale fold correctly)
//     src_b = 5     the bias b of the inner-product function (absent: 0)
//
// Channel maps: the batch-norm vectors are indexed by channel; `channel_map` says which channel flat
// element t of W belongs to:  ch(t) = (t / inner) % len + (outer_stride ? (t / outer_stride) / gsize * len : 0).
// The group term handles grouped convolutions (input channel of W[o, i, k...] is (o / (O/g)) (I/g) + i)
// and grouped deconvolutions (output channel of W[i, j, k...] is (i / (I/g)) (O/g) + j).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "../core/fixed_string.hpp"
#include "../core/shape.hpp"

namespace kata {

enum class derivation_kind : std::uint8_t {
    constant,            // target[:] = value                                   (AddBias: b = 0)
    bn_scale_weight,     // target[t] = W[t] * c0[map(t)]                       (BN folding, both directions)
    bn_fold_bias_inner,  // target[o] = c1[o] + c0[o] * b[o]                    (IP -> BN)
    bn_fold_bias_opposite,  // target[o] = b[o] + sum_{t : map2(t) = o} W[t] c1[map(t)]   (BN -> IP)
    bn_c0,                  // target = gamma / sqrt(var + eps)                   (BN parameter shape)
    bn_c1,                  // target = beta - mean * gamma / sqrt(var + eps)
    copy,                   // target = source (same number of elements; reshaped to `shape`)
    transpose,              // target = reshape(transpose(reshape(source, view), perm), shape)
    prune_weight,           // target[t] = s[map(t)] > threshold ? W[t] : 0, s[o] = sum of W[t]^2 over the t
    //          with map(t) = o: the output channel of W[t] (PruningModifier, docs/nnabla-semantics.md §2.14)
    prune_bias,   // target[o] = s[o] > threshold ? b[o] : 0, s from the weight W (src_w) and `map`
                  //          as for prune_weight, b at src_b (b's length = number of channels)
    fixed_point,  // target = FixedPointQuantize(source; sign, n, delta) (legacy FixedPointWeight)
    count_
};

inline constexpr std::size_t derivation_kind_count = std::size_t(derivation_kind::count_);

constexpr const char* derivation_kind_name(derivation_kind k) {
    switch (k) {
    case derivation_kind::constant: return "constant";
    case derivation_kind::bn_scale_weight: return "bn_scale_weight";
    case derivation_kind::bn_fold_bias_inner: return "bn_fold_bias_inner";
    case derivation_kind::bn_fold_bias_opposite: return "bn_fold_bias_opposite";
    case derivation_kind::bn_c0: return "bn_c0";
    case derivation_kind::bn_c1: return "bn_c1";
    case derivation_kind::copy: return "copy";
    case derivation_kind::transpose: return "transpose";
    case derivation_kind::prune_weight: return "prune_weight";
    case derivation_kind::prune_bias: return "prune_bias";
    case derivation_kind::fixed_point: return "fixed_point";
    case derivation_kind::count_: break;
    }
    return "?";
}

inline constexpr int src_w = 0, src_beta = 1, src_gamma = 2, src_mean = 3, src_var = 4, src_b = 5;
inline constexpr int max_derivation_sources = 6;

struct channel_map {
    std::int64_t inner = 1;
    std::int64_t len = 1;
    std::int64_t outer_stride = 0;  // 0: no group term
    std::int64_t gsize = 1;
    constexpr std::int64_t operator()(std::int64_t t) const {
        std::int64_t c = (t / inner) % len;
        if (outer_stride) c += (t / outer_stride) / gsize * len;
        return c;
    }
    constexpr bool operator==(const channel_map&) const = default;
};

struct derivation {
    derivation_kind kind = derivation_kind::constant;
    name_string target{};
    shape_t shape{};  // shape of the target parameter
    bool need_grad = true;
    name_string sources[max_derivation_sources]{};
    // Numeric arguments (meaning per kind, see derivation_kind).
    double eps = 1e-5;     // batch-norm eps
    double value = 0;      // constant
    double threshold = 0;  // prune_weight / prune_bias: channels with s[o] <= threshold are pruned
    channel_map map{};     // BN channel of W[t] (input channel for the opposite direction);
                           // prune_*: output channel of W[t]
    channel_map map2{};    // output channel of W[t] (bn_fold_bias_opposite)
    int axis = -1;         // reserved (channel / output-channel axis for other helpers; pruning uses `map`)
    shape_t view{};        // transpose: the source viewed with this shape first (rank 0: its own shape)
    int perm[max_rank]{};  // transpose permutation
    int nperm = 0;
    // fixed_point (legacy FixedPointWeightConverter, docs/nnabla-semantics.md §3.3 / 3.5): target =
    // FixedPointQuantize(W) with the CPU kernel's float32 arithmetic, round half away from zero:
    //   max = (2^n' - 1) delta, n' = n - 1 if fp_sign else n; min = -max if fp_sign else 0;
    //   t = clip(x, min, max) outside [min, max], else sgn(x) floor(|x| / delta + 0.5) delta.
    bool fp_sign = true;    // signed quantizer
    int fp_n = 8;           // bit width n (n > 0, n > 1 when signed, n <= 62)
    double fp_delta = 0;    // step; 0: automatic power-of-two step computed at apply time,
                            //   delta = 2^R(log2(max|W| / (2^n' - 1))), R = ceil (floor when fp_floor);
                            //   an all-zero W gives an all-zero target (no step needed)
    bool fp_floor = false;  // automatic step rounds log2 down instead of up (nnabla's floor=True)

    constexpr bool operator==(const derivation&) const = default;
};

// ---- value rules -----------------------------------------------------------------------------------

// A source parameter as a rule sees it (data == nullptr: not found).
struct derivation_source {
    const float* data = nullptr;
    std::size_t size = 0;
    shape_t shape{};
};

// What a value rule reads its sources from, and how it reports bad ones (apply_conversion.hpp
// implements it over kata::parameter_store and throws kata::parameter_error).
class derivation_sources {
public:
    // Parameter `key` (a full key, relative to the store's current scope), or {} when absent.
    virtual derivation_source find(std::string_view key) const = 0;
    // Reports an error in the sources of a derivation; does not return.
    [[noreturn]] virtual void fail(const std::string& message) const = 0;

protected:
    ~derivation_sources() = default;
};

// The value rule of derivation kind K: `static void compute(const derivation& d, const
// derivation_sources& src, std::span<float> out)` fills `out` (d.shape.numel() elements) from the
// sources named in d. Specialised next to the modifier that records the kind (see the top of this file).
template <derivation_kind K>
struct derivation_rule;

namespace detail {

inline std::string target_of(const derivation& d) { return std::string(d.target.view()); }

// Source `slot` of d: nullptr data when the slot is empty and not required; fails when a named
// source is missing or a required slot is empty.
inline derivation_source source(const derivation_sources& src, const derivation& d, int slot, bool required) {
    const name_string& n = d.sources[slot];
    if (n.empty()) {
        if (required)
            src.fail("kata::apply_conversion: derivation of '" + target_of(d) + "' (" +
                     derivation_kind_name(d.kind) + ") lacks a required source");
        return {};
    }
    const derivation_source s = src.find(n.view());
    if (!s.data)
        src.fail("kata::apply_conversion: parameter '" + std::string(n.view()) + "' (needed for '" +
                 target_of(d) + "') is not in the parameter store");
    return s;
}

inline void expect_size(const derivation_sources& src, const derivation& d, const derivation_source& a,
                        std::size_t n, const char* what) {
    if (a.data && a.size != n)
        src.fail("kata::apply_conversion: " + std::string(what) + " of '" + target_of(d) + "' has " +
                 std::to_string(a.size) + " elements, expected " + std::to_string(n));
}

}  // namespace detail

}  // namespace kata
