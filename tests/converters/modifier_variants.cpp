// Upstream's parametrisations of the structural modifiers that framework.cpp does not cover
// (docs/nnabla-semantics.md §8.3), part 1: RemoveFunctionModifier, TestModeModifier and
// BatchNormBatchStatModifier with biases (w_bias = true), in test and training mode, on small_bn_resnet,
// small_bsf_resnet, lenet and bsf_lenet, and BatchStat on fused BNs (small_fbn_resnet). Structure as
// upstream's structure_tester at compile time, and stricter where the reference has the same names: the same
// functions with the same arguments (batch_stat included). Values with trained (non-trivial) BN statistics: a
// modifier that only rebuilds or bypasses functions must compute EXACTLY what the reference network computes
// on the same parameters. Part 2: modifier_variants_identity.cpp (Identity, NoGrad, Unfused in training
// mode).
#include <doctest/doctest.h>

#include "converter_checks.hpp"
#include "ref_nets.hpp"

using namespace kata;
using test::same_functions;
using test::same_structure;

namespace {

template <bool Test, bool WBias>
using Bn = network<ref::small_bn_resnet<2, Test, WBias>>;
template <bool WBias>
using Bsf = network<ref::small_bsf_resnet<WBias>>;
template <bool WBias>
using Rm = network<ref::small_bn_rm_resnet<WBias>>;

// ---- RemoveFunction(BN, MulScalar) with biases: small_bn_rm_resnet ------------------------------------
constexpr RemoveFunctionModifier rm_bn_scalar{op_kind::batch_normalization, op_kind::mul_scalar};
template <bool Test, bool WBias>
using Removed = convert<Bn<Test, WBias>, rm_bn_scalar>;
static_assert(same_structure(Removed<true, true>::graph, Rm<true>::graph));
static_assert(same_structure(Removed<false, true>::graph, Rm<true>::graph));
static_assert(same_structure(Removed<true, false>::graph, Rm<false>::graph));
static_assert(Removed<true, true>::graph.count(op_kind::batch_normalization) == 0);
static_assert(Removed<true, true>::graph.find(op_kind::parameter, "cb3/conv/b") >= 0);
static_assert(Removed<true, true>::graph.find(op_kind::parameter, "cb3/bn/gamma") <
              0);  // removed BNs' inputs dropped

// small_bn_rm_resnet names its Affine bn-rm-fc: with fc's values under that name it is the same network.
inline void copy_fc(parameter_store& store) {
    for (const char* k : {"W", "b"}) {
        const xt::xarray<float> v = store.at(std::string("fc/affine/") + k).data;
        store
            .create_or_replace(std::string("bn-rm-fc/affine/") + k,
                               std::vector<std::size_t>(v.shape().begin(), v.shape().end()))
            .data = v;
    }
}
TEST_CASE("RemoveFunction(BN, MulScalar) with biases computes small_bn_rm_resnet") {
    auto store = test::prepare<Bn<true, true>, Removed<true, true>>();
    copy_fc(store);
    CHECK(test::compare<Rm<true>, Removed<true, true>>(store) == 0.0);
    CHECK(test::compare<Bn<true, true>, Removed<true, true>>(store) > 1e-3);  // it did remove something
}

// ---- TestMode with biases --------------------------------------------------------------------------------
template <bool Test, bool WBias>
using TestMode = convert<Bn<Test, WBias>, TestModeModifier{}>;
// (bsf_resnet, bn_resnet, no removal): the batch_stat = false resnet (its first BN is named differently).
static_assert(same_structure(TestMode<true, true>::graph, Bsf<true>::graph));
static_assert(same_structure(TestMode<false, true>::graph, Bsf<true>::graph));
static_assert(same_structure(TestMode<false, false>::graph, Bsf<false>::graph));
// With the same names: the test-mode network, arguments included.
static_assert(same_functions(TestMode<false, true>::graph, Bn<true, true>::graph));
static_assert(same_functions(TestMode<true, true>::graph, Bn<true, true>::graph));
static_assert(test::all_batch_stat(TestMode<false, true>::graph, false));
// (rm_resnet, bn_resnet, [BN, MulScalar]) with biases.
template <bool Test>
using TestModeRm =
    convert<Bn<Test, true>, TestModeModifier{op_kind::batch_normalization, op_kind::mul_scalar}>;
static_assert(same_structure(TestModeRm<true>::graph, Rm<true>::graph));
static_assert(same_structure(TestModeRm<false>::graph, Rm<true>::graph));
// (bsf_lenet, lenet, no removal), and TestMode of the test-mode lenet changes nothing.
using LeNetTrain = network<ref::lenet<false>>;
using BsfLeNet = network<ref::bsf_lenet>;
using LeNetTestMode = convert<LeNetTrain, TestModeModifier{}>;
static_assert(same_functions(LeNetTestMode::graph, BsfLeNet::graph));
static_assert(same_functions(convert<BsfLeNet, TestModeModifier{}>::graph, BsfLeNet::graph));
static_assert(same_functions(convert<network<ref::lenet<true>>, TestModeModifier{}>::graph, BsfLeNet::graph));

TEST_CASE("TestMode on small_bn_resnet with biases and on lenet equals the test-mode networks") {
    {
        auto store = test::prepare<Bn<false, true>, TestMode<false, true>>();
        CHECK(test::compare<Bn<true, true>, TestMode<false, true>>(store) == 0.0);
        copy_fc(store);
        CHECK(test::compare<Rm<true>, TestModeRm<false>>(store) == 0.0);
    }
    {
        auto store = test::prepare<LeNetTrain, LeNetTestMode>();
        CHECK(test::compare<BsfLeNet, LeNetTestMode>(store) == 0.0);
    }
}

// ---- BatchStat on small_bn_resnet (test and training, with and without biases) and small_bsf_resnet ----
template <bool Test, bool WBias>
using BatchStat = convert<Bn<Test, WBias>, BatchNormBatchStatModifier{}>;
static_assert(same_structure(BatchStat<false, false>::graph, Bsf<false>::graph));
static_assert(same_structure(BatchStat<false, true>::graph, Bsf<true>::graph));
static_assert(same_structure(BatchStat<true, false>::graph, Bsf<false>::graph));
static_assert(same_structure(BatchStat<true, true>::graph, Bsf<true>::graph));
static_assert(same_functions(BatchStat<false, true>::graph, Bn<true, true>::graph));
static_assert(same_functions(BatchStat<true, true>::graph, Bn<true, true>::graph));
static_assert(same_functions(convert<Bsf<true>, BatchNormBatchStatModifier{}>::graph, Bsf<true>::graph));
static_assert(same_functions(convert<Bsf<false>, BatchNormBatchStatModifier{}>::graph, Bsf<false>::graph));
// lenet in training mode and in test mode: bsf_lenet.
static_assert(same_functions(convert<network<ref::lenet<true>>, BatchNormBatchStatModifier{}>::graph,
                             BsfLeNet::graph));

TEST_CASE("BatchStat on small_bn_resnet with biases (training mode) and on small_bsf_resnet") {
    auto store = test::prepare<Bn<false, true>, BatchStat<false, true>>();
    CHECK(test::compare<Bn<true, true>, BatchStat<false, true>>(store) == 0.0);
    // Still training mode: the batch statistics (one image) differ from the trained ones.
    CHECK(test::compare<Bn<false, true>, BatchStat<false, true>>(store) > 1e-3);
    models::synthetic_parameters<Bsf<true>>(store);
    using BsfBatchStat = convert<Bsf<true>, BatchNormBatchStatModifier{}>;
    CHECK(test::compare<Bsf<true>, BsfBatchStat>(store) == 0.0);
}

// FusedBatchNormalization too (upstream's list: BN, FusedBN, SyncBN): the training-mode small_fbn_resnet
// becomes the test-mode one.
using FbnBatchStat = convert<network<ref::small_fbn_resnet<true, false>>, BatchNormBatchStatModifier{}>;
using FbnTest = network<ref::small_fbn_resnet<true, true>>;
static_assert(same_functions(FbnBatchStat::graph, FbnTest::graph));
static_assert(FbnBatchStat::graph.count(op_kind::fused_batch_normalization) == 5);
static_assert(test::all_batch_stat(FbnBatchStat::graph, false));
TEST_CASE("BatchStat on fused BNs equals the test-mode fused network") {
    auto store = test::prepare<FbnTest, FbnBatchStat>();
    CHECK(test::compare<FbnTest, FbnBatchStat>(store) == 0.0);
}

}  // namespace
