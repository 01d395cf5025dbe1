// chain-400 (3,201 nodes) through the whole pipeline with the compiler's default constant-evaluation
// limits (issue 16): lifted, converted (BN folding + channel-last) and run on the live and the frozen
// executor, built with the flags this target gets from kata::kata (no -fconstexpr-ops-limit). Before
// issue 16 the conversion, and then the executors' memory plan, stopped with "'constexpr' evaluation
// operation count exceeds limit". ctest consumer_scaling_clang builds and runs this file with clang at its
// default budget (-fconstexpr-steps) and the flags of find_package(kata). (ResNet-152: ctest
// consumer_resnet152 and consumer_resnet152_clang.)
// Checked: the converted graph node by node against what the modifiers' naming and folding rules say
// it must be, and its outputs on both executors against the unconverted NCHW graph with batch
// normalization on the live executor (other kernels, unfolded parameters).
#include <doctest/doctest.h>

#include <kata/converters.hpp>
#include <kata/converters/apply_conversion.hpp>
#include <kata/cpu.hpp>

#include "../../examples/models/chain.hpp"
#include "../../examples/models/synthetic_weights.hpp"

#include <cmath>
#include <cstddef>
#include <string>
#include <string_view>

using namespace kata;

namespace {

constexpr int blocks = 400;
using Chain = network<models::chain_net<blocks>>;
using ChainInference = convert<Chain, BatchNormalizationFoldingModifier{}, ChannelLastModifier{}>;
static_assert(Chain::graph.size() == 8 * blocks + 1);
static_assert(ChainInference::graph.count(op_kind::batch_normalization) == 0);
static_assert(ChainInference::graph.count(op_kind::transpose) == 0);

constexpr name_string key(int block, std::string_view leaf) {
    name_string s("block");
    s.append_int(block).append("/conv/").append(leaf);
    return s;
}

// The converted chain, node by node: x (now NHWC), the 400 folded biases (carried into the last pass
// before any function is visited), then per block the derived weight (w-folded_cl: folded, then made
// channel-last), the NHWC convolution and the ReLU. Derivations in pass order: AddBias's zero
// biases, the folded weights and biases, the transposes.
constexpr bool chain_converted_as_specified() {
    constexpr auto& g = ChainInference::graph;
    constexpr auto& d = ChainInference::derivations;
    if (g.size() != std::size_t(4 * blocks + 1) || d.size() != std::size_t(4 * blocks)) return false;
    if (g.nodes[0].op != op_kind::input || g.nodes[0].lay != layout::channel_last) return false;
    if (!(g.nodes[0].shape == shape_t{1, 8, 8, 16})) return false;
    int prev = 0;
    for (int b = 0; b < blocks; ++b) {
        const int bias = 1 + b, w = 1 + blocks + 3 * b, conv = w + 1, relu = w + 2;
        if (g.nodes[w].op != op_kind::parameter || !(g.nodes[w].name == key(b, "w-folded_cl"))) return false;
        if (!(g.nodes[w].shape == shape_t{16, 3, 3, 16})) return false;
        if (g.nodes[bias].op != op_kind::parameter || !(g.nodes[bias].name == key(b, "b-folded")))
            return false;
        const node& c = g.nodes[conv];
        if (c.op != op_kind::convolution || !c.attr.channel_last || c.num_inputs != 3) return false;
        if (g.input_of(conv, 0) != prev || g.input_of(conv, 1) != w || g.input_of(conv, 2) != bias)
            return false;
        if (g.nodes[relu].op != op_kind::relu || g.input_of(relu, 0) != conv) return false;
        if (g.num_consumers(conv) != 1 || g.position[conv] != 2 * b || g.position[relu] != 2 * b + 1)
            return false;
        prev = relu;
        const derivation& zero = d[std::size_t(b)];
        const derivation& wf = d[std::size_t(blocks + 2 * b)];
        const derivation& bf = d[std::size_t(blocks + 2 * b + 1)];
        const derivation& cl = d[std::size_t(3 * blocks + b)];
        if (zero.kind != derivation_kind::constant || !(zero.target == key(b, "b")) || zero.value != 0)
            return false;
        if (wf.kind != derivation_kind::bn_scale_weight || !(wf.target == key(b, "w-folded")) ||
            !(wf.sources[src_w] == key(b, "W")))
            return false;
        if (bf.kind != derivation_kind::bn_fold_bias_inner || !(bf.target == key(b, "b-folded")) ||
            !(bf.sources[src_b] == key(b, "b")))
            return false;
        if (cl.kind != derivation_kind::transpose || !(cl.target == key(b, "w-folded_cl")) ||
            !(cl.sources[src_w] == key(b, "w-folded")) || cl.nperm != 4)
            return false;
    }
    return g.outputs[0] == prev && g.num_order == 2 * blocks;
}

}  // namespace

TEST_CASE("chain-400 converts with default constexpr limits, as the modifiers specify") {
    CHECK(chain_converted_as_specified());
}

TEST_CASE("chain-400 runs on the live and the frozen executor as the unconverted graph does") {
    parameter_store store;
    models::synthetic_parameters<Chain>(store);
    // gamma = sqrt(var + eps) (x 0.9 .. 1.1): each block keeps the activations' scale, so that 400 blocks
    // neither underflow to zero nor overflow (synthetic gammas alone shrink them ~0.75x per block).
    for (int b = 0; b < blocks; ++b) {
        const std::string bn = "block" + std::to_string(b) + "/bn/";
        auto& gamma = store.at(bn + "gamma").data;
        const auto& var = store.at(bn + "var").data;
        for (std::size_t c = 0; c < gamma.size(); ++c)
            gamma[c] = float(std::sqrt(double(var[c]) + 1e-5) * (0.9 + 0.2 * double(gamma[c] - 0.5f)));
    }
    apply_conversion<ChainInference>(store);
    xt::xarray<float> x = xt::zeros<float>({1, 16, 8, 8});
    models::synthetic_input("x", x.data(), x.size());
    xt::xarray<float> x_nhwc = xt::transpose(x, {0, 2, 3, 1});

    cpu::executor<Chain> reference(store);
    const xt::xarray<float> want = xt::transpose(xt::xarray<float>(reference(x)), {0, 2, 3, 1});
    cpu::executor<ChainInference> live(store);
    const xt::xarray<float> got_live = live(x_nhwc);
    cpu::frozen_executor<ChainInference> frozen(store);
    const xt::xarray<float> got_frozen = frozen(x_nhwc);

    REQUIRE(want.size() == 1024);
    REQUIRE(got_live.size() == 1024);
    REQUIRE(got_frozen.size() == 1024);
    double scale = 0, err_live = 0, err_frozen = 0;
    int nonzero = 0;
    for (std::size_t i = 0; i < want.size(); ++i) {
        scale = std::fmax(scale, std::fabs(double(want.data()[i])));
        nonzero += want.data()[i] != 0;
        err_live = std::fmax(err_live, std::fabs(double(got_live.data()[i]) - double(want.data()[i])));
        err_frozen = std::fmax(err_frozen, std::fabs(double(got_frozen.data()[i]) - double(want.data()[i])));
    }
    INFO("max |y| ", scale, ", nonzero ", nonzero, ", max error live ", err_live, ", frozen ", err_frozen);
    CHECK(std::isfinite(scale));
    CHECK(scale > 1e-3);
    CHECK(scale < 1e6);
    CHECK(nonzero > 100);
    // float32 through 400 convolutions, folded vs unfolded: relative to the output's scale.
    CHECK(err_live <= 1e-3 * scale);
    CHECK(err_frozen <= 1e-3 * scale);
}
