// HardSwish, the op added by following docs/extending.md: forward on CPU against PyTorch
// (torch.nn.functional.hardswish in float64, tools/fixtures/make_op_fixtures.py: the kinks at -3 and 3
// and their float32 neighbours, 0, -0, beyond +-6), kept by a converter pass (BN self-folding before
// it: values against torch's hardswish(batch_norm(x))), converted to channel-last (stays NHWC, no
// transpose around it, same values permuted), planned in place, and drawn by the viewer.
// Tolerance rtol 1e-6, atol 1e-6: the kernel computes x * min(max(x + 3, 0), 6) / 6 in float32 (three
// roundings), the reference in float64.
#include <doctest/doctest.h>

#include <string>

#include <kata/converters.hpp>
#include <kata/converters/apply_conversion.hpp>
#include <kata/viewer/simple_graph.hpp>

#include "../support/fixtures.hpp"

using namespace kata;
namespace kt = kata::test;

namespace {

constexpr double k_rtol = 1e-6, k_atol = 1e-6;

constexpr var hs_net(builder& g) { return F::hard_swish(g.input("x", {3, 5, 7})); }

constexpr var bn_hs_net(builder& g) {
    auto x = g.input("x", {2, 3, 5, 4});
    return F::hard_swish(PF::batch_normalization(x, {.batch_stat = false, .name = "bn"}));
}
using BnHs = network<bn_hs_net>;
using SelfFolded = convert<BnHs, BatchNormalizationSelfFoldingModifier{}>;
using ChannelLast = convert<SelfFolded, ChannelLastModifier{}>;

static_assert(type_name(op_kind::hard_swish) == "HardSwish");
static_assert(is_elementwise_unary(op_kind::hard_swish));
static_assert(descriptor_of(op_kind::hard_swish).channel_last == layout_rule::elementwise);
// The converter pass rebuilt it; channel-last kept it in NHWC without a transpose around it.
static_assert(SelfFolded::graph.count(op_kind::hard_swish) == 1 &&
              SelfFolded::graph.count(op_kind::batch_normalization) == 0);
static_assert(ChannelLast::graph.count(op_kind::hard_swish) == 1 &&
              ChannelLast::graph.count(op_kind::transpose) == 0);
static_assert(ChannelLast::graph.nodes[ChannelLast::graph.outputs[0]].op == op_kind::hard_swish &&
              ChannelLast::graph.nodes[ChannelLast::graph.outputs[0]].lay == layout::channel_last);

void set_bn(parameter_store& store, const kt::fixture& fx) {
    for (const char* p : {"beta", "gamma", "mean", "var"})
        kt::set_param(store, std::string("bn/bn/") + p, fx[p]);
}

}  // namespace

TEST_CASE("HardSwish forward vs torch (kinks, their neighbours, signed zero, saturation)") {
    const kt::fixture fx = kt::load_fixture("ops/hard_swish.npz");
    parameter_store store;
    cpu::executor<network<hs_net>> run(store);
    const xt::xarray<float> x = fx["x"];
    kt::check_close(run(x), fx["y"], k_rtol, k_atol);
    kt::check_equal(x, fx["x"]);  // a graph input is never overwritten by the in-place plan
}

TEST_CASE("HardSwish through a converter pass and channel-last conversion vs torch") {
    const kt::fixture fx = kt::load_fixture("ops/hard_swish.npz");
    parameter_store store;
    set_bn(store, fx);
    {
        cpu::executor<BnHs> run(store);
        kt::check_close(run(fx["x4"]), fx["y4"], k_rtol, k_atol);
    }
    apply_conversion<ChannelLast>(store);  // c0, c1 of the self-folded BN, then their _cl permutations
    {
        cpu::executor<SelfFolded> run(store);
        kt::check_close(run(fx["x4"]), fx["y4"], k_rtol, k_atol);
    }
    {
        cpu::executor<ChannelLast> run(store);
        const xt::xarray<float> x_cl = xt::transpose(fx["x4"], {0, 2, 3, 1});
        const xt::xarray<float> y_cl = xt::transpose(fx["y4"], {0, 2, 3, 1});
        kt::check_close(run(x_cl), y_cl, k_rtol, k_atol);
    }
}

TEST_CASE("HardSwish in the viewer: its own node, gray, no arguments") {
    const std::string plain = SimpleGraph().create_graphviz_digraph<network<hs_net>>();
    CHECK(plain.find("\"HardSwish-1\" [label=\"HardSwish\" color=\"gray\" fontcolor=white shape=square]") !=
          std::string::npos);
    const std::string verbose = SimpleGraph("png", true).create_graphviz_digraph<network<hs_net>>();
    CHECK(verbose.find(
              "\"HardSwish-1\" [label=\"HardSwish\\n({})\" color=\"gray\" fontcolor=white shape=box]") !=
          std::string::npos);
}
