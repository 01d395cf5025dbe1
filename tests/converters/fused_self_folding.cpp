// FusedBatchNormalizationModifier, UnfusedBatchNormalizationModifier and
// BatchNormalizationSelfFoldingModifier on the reference networks (docs/nnabla-semantics.md §8.2) with
// trained (non-trivial) statistics, plus the upstream-bug cases: BN(h) + x and x + BN(h), BN -> ReLU without
// residual, a projection-shortcut BN on the other Add2 operand, per-layer parameters when unfusing, reusable
// self-folding names.
#include <doctest/doctest.h>

#include "converter_test_support.hpp"
#include "ref_nets.hpp"

using namespace kata;
using test::same_structure;

namespace {

constexpr double tol = 1e-5;
using BnNet = network<ref::small_bn_resnet<2, true, false>>;

// ---- fused ----------------------------------------------------------------------------------------
using Fused = convert<BnNet, FusedBatchNormalizationModifier{}>;
static_assert(Fused::graph.count(op_kind::batch_normalization) == 0);
static_assert(Fused::graph.count(op_kind::fused_batch_normalization) == 5);  // 4 blocks + the stem BN -> ReLU
static_assert(Fused::graph.count(op_kind::relu) == 0);
static_assert(same_structure(Fused::graph, network<ref::small_fbn_resnet<true>>::graph));
static_assert(Fused::derivations.size() == 0);  // trained parameters reused
static_assert(Fused::graph.find(op_kind::parameter, "cb2/bn/mean") >= 0);
TEST_CASE("fused BN keeps the trained statistics") {
    auto store = test::prepare<BnNet, Fused>();
    CHECK(test::compare<BnNet, Fused>(store) < tol);
}

// x + BN(h) (residual first), BN(h) + x, and a projection shortcut BN on the other operand.
constexpr var fuse_orders(builder& g) {
    var x = F::relu(g.input("x", {1, 8, 6, 6}));
    var h1 = PF::batch_normalization(PF::convolution(x, 8, {3, 3}, {.pad = {1, 1}, .name = "c1"}),
                                     ref::bn(true, "b1"));
    var y1 = F::relu(x + h1);  // residual first
    var h2 = PF::batch_normalization(PF::convolution(y1, 8, {3, 3}, {.pad = {1, 1}, .name = "c2"}),
                                     ref::bn(true, "b2"));
    var y2 = F::relu(h2 + y1);
    var h3 = PF::batch_normalization(PF::convolution(y2, 8, {1, 1}, {.name = "c3"}), ref::bn(true, "b3"));
    var s3 =
        PF::batch_normalization(PF::convolution(y2, 8, {1, 1}, {.name = "proj"}), ref::bn(true, "bproj"));
    return F::relu(h3 + s3);  // projection shortcut: bproj stays a BN feeding z
}
using Orders = network<fuse_orders>;
using OrdersFused = convert<Orders, FusedBatchNormalizationModifier{}>;
static_assert(OrdersFused::graph.count(op_kind::fused_batch_normalization) == 3);
static_assert(OrdersFused::graph.count(op_kind::batch_normalization) == 1);
static_assert(OrdersFused::graph.count(op_kind::relu) == 1);  // the first relu reads the graph input
TEST_CASE("fused BN for x + BN(h), BN(h) + x and a projection shortcut") {
    auto store = test::prepare<Orders, OrdersFused>();
    CHECK(test::compare<Orders, OrdersFused>(store) < tol);
}

// ---- unfused ------------------------------------------------------------------------------------------
using Fbn = network<ref::small_fbn_resnet<false>>;
using Unfused = convert<Fbn, UnfusedBatchNormalizationModifier{}>;
static_assert(Unfused::graph.count(op_kind::fused_batch_normalization) == 0);
static_assert(same_structure(Unfused::graph, BnNet::graph));
static_assert(Unfused::graph.find(op_kind::parameter, "cb4/bn/gamma") >= 0);  // own parameters per layer
static_assert(Unfused::graph.find(op_kind::parameter, "bn/gamma") < 0);       // no shared bn/*
TEST_CASE("unfused BN keeps each layer's own parameters") {
    auto store = test::prepare<Fbn, Unfused>();
    CHECK(test::compare<Fbn, Unfused>(store) < tol);
}
// Round trip: unfuse(fuse(net)) is the original graph again.
using RoundTrip = convert<Fused, UnfusedBatchNormalizationModifier{}>;
static_assert(same_structure(RoundTrip::graph, BnNet::graph));
TEST_CASE("fuse then unfuse gives the original values") {
    auto store = test::prepare<BnNet, RoundTrip>();
    CHECK(test::compare<BnNet, RoundTrip>(store) < tol);
}

// ---- self folding ---------------------------------------------------------------------------------------
using SelfFolded = convert<BnNet, BatchNormalizationSelfFoldingModifier{}>;
static_assert(SelfFolded::graph.count(op_kind::batch_normalization) == 0);
static_assert(same_structure(SelfFolded::graph, network<ref::small_bn_self_folding_resnet>::graph));
static_assert(SelfFolded::graph.find(op_kind::parameter, "bn-self-folding/c0-bn-self-folding-0") >= 0);
static_assert(SelfFolded::graph.find(op_kind::parameter, "bn-self-folding/c1-bn-self-folding-4") >= 0);
TEST_CASE("self folding is exact with trained statistics") {
    auto store = test::prepare<BnNet, SelfFolded>();
    CHECK(test::compare<BnNet, SelfFolded>(store) < tol);
}
// A custom name is used by every conversion (upstream resets it after the first one).
constexpr BatchNormalizationSelfFoldingModifier custom{.name = "sf"};
using Custom1 = convert<BnNet, custom>;
using Custom2 = convert<network<ref::bsf_lenet>, custom>;
static_assert(Custom1::graph.find(op_kind::parameter, "sf/c0-sf-0") >= 0);
static_assert(Custom2::graph.find(op_kind::parameter, "sf/c0-sf-0") >= 0);
static_assert(Custom2::graph.find(op_kind::parameter, "sf/c1-sf-1") >= 0);
// Channel-last and 2-D (affine) BNs: c0/c1 take beta's shape.
constexpr var cl_bn(builder& g) {
    var x = g.input("x", {2, 5, 5, 6}, layout::channel_last);
    var h = PF::batch_normalization(x, ref::bn(true, "bn-cl", 3));
    h = PF::affine(h, 4, {.name = "fc"});
    return PF::batch_normalization(h, ref::bn(true, "bn-2d"));
}
using ClBn = network<cl_bn>;
using ClSelf = convert<ClBn, BatchNormalizationSelfFoldingModifier{}>;
static_assert(ClSelf::graph
                  .nodes[ClSelf::graph.find(op_kind::parameter, "bn-self-folding/c0-bn-self-folding-0")]
                  .shape == shape_t{1, 1, 1, 6});
TEST_CASE("self folding of channel-last and 2-D BNs") {
    auto store = test::prepare<ClBn, ClSelf>();
    CHECK(test::compare<ClBn, ClSelf>(store) < tol);
}

}  // namespace
