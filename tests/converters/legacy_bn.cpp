// nnabla's legacy converters (v1.0.11 - v1.10, docs/nnabla-semantics.md §3, tests 8.4), part 1:
// IdentityConverter, BatchNormalizationLinearConverter and BatchNormalizationFoldedConverter on the legacy
// lenet (with fc1-bn after fc1) and the legacy small_resnet (no pooling), input (4,3,32,32), with non-trivial
// BN statistics (test::prepare's synthetic parameters), plus what upstream gets wrong (grouped
// Deconvolution with I != O, channel-last Convolution, forked IP outputs, batch_stat BNs), reuse of a
// converter value, and composition with the new-style modifiers. Structure and parameter names are
// checked at compile time; values with the CPU executor.
#include <doctest/doctest.h>

#include "converter_test_support.hpp"
#include "ref_nets_legacy.hpp"

using namespace kata;
using ref::legacy::style;
using test::same_structure;
using test::legacy::all_parameters_under;
using test::legacy::same_parameters;

namespace {

constexpr double tol = 1e-5;

template <style S = style::plain, bool Test = true>
using LeNet = network<ref::legacy::lenet<S, Test>>;
template <style S = style::plain, bool Test = true>
using ResNet = network<ref::legacy::small_resnet<S, Test>>;

// ---- IdentityConverter (test_identity_gc): same structure, equal values, copies identity/<key> -------
// Training-mode BNs (batch_stat = true), as upstream's test builds them.
using LeNetTrain = LeNet<style::plain, false>;
using ResNetTrain = ResNet<style::plain, false>;
using LeNetId = convert<LeNetTrain, IdentityConverter{}>;
using ResNetId = convert<ResNetTrain, IdentityConverter{}>;
static_assert(same_structure(LeNetId::graph, LeNetTrain::graph));
static_assert(same_structure(ResNetId::graph, ResNetTrain::graph));
static_assert(LeNetId::graph.find(op_kind::parameter, "identity/conv1/conv/W") >= 0);
static_assert(LeNetId::graph.find(op_kind::parameter, "identity/fc1-bn/bn/var") >= 0);
static_assert(ResNetId::graph.find(op_kind::parameter, "identity/cb3/conv/W") >= 0);
static_assert(all_parameters_under(LeNetId::graph, "identity/") &&
              all_parameters_under(ResNetId::graph, "identity/"));
static_assert(LeNetId::derivations.size() == 6 + 3 * 4);  // W conv1, W b conv2, W fc1, W b fc2 + 3 BNs
static_assert(LeNetId::derivations[0].kind == derivation_kind::copy);
// An empty name copies nothing: the original graph.
using LeNetNoCopy = convert<LeNetTrain, IdentityConverter{.name = ""}>;
static_assert(LeNetNoCopy::derivations.size() == 0 &&
              LeNetNoCopy::graph.find(op_kind::parameter, "conv1/conv/W") >= 0);

TEST_CASE("IdentityConverter: same values, independent copies") {
    {
        auto store = test::prepare<LeNetTrain, LeNetId>();
        CHECK(test::compare<LeNetTrain, LeNetId>(store) == 0.0);
        // The copies are independent: changing the original does not change the converted network.
        const xt::xarray<float> w = store.at("identity/fc2/affine/W").data;
        store.at("fc2/affine/W").data *= 2.0f;  // (conv1/W would not do: a batch_stat BN follows it)
        CHECK(store.at("identity/fc2/affine/W").data == w);
        CHECK(test::compare<LeNetTrain, LeNetId>(store) > tol);
        apply_conversion<LeNetId>(store);  // re-applying copies the new values
        CHECK(test::compare<LeNetTrain, LeNetId>(store) == 0.0);
    }
    {
        auto store = test::prepare<ResNetTrain, ResNetId>();
        CHECK(test::compare<ResNetTrain, ResNetId>(store) == 0.0);
    }
}

// ---- BatchNormalizationLinearConverter: a*h + b nets ----------------------------------------------------
using LeNetLinear = convert<LeNet<>, BatchNormalizationLinearConverter{}>;
using ResNetLinear = convert<ResNet<>, BatchNormalizationLinearConverter{}>;
static_assert(LeNetLinear::graph.count(op_kind::batch_normalization) == 0);
static_assert(ResNetLinear::graph.count(op_kind::batch_normalization) == 0);
static_assert(same_structure(LeNetLinear::graph, LeNet<style::bn_linear>::graph));
static_assert(same_structure(ResNetLinear::graph, ResNet<style::bn_linear>::graph));
// Upstream's names: <name>/c0-<name>-<cnt> in visit order; the Affine BN's parameters are (1, 10).
static_assert(same_parameters(LeNetLinear::graph, LeNet<style::bn_linear>::graph));
static_assert(same_parameters(ResNetLinear::graph, ResNet<style::bn_linear>::graph));
static_assert(
    LeNetLinear::graph.nodes[LeNetLinear::graph.find(op_kind::parameter, "bn-linear/c1-bn-linear-2")].shape ==
    shape_t{1, 10});
static_assert(ResNetLinear::graph.find(op_kind::parameter, "bn-linear/c0-bn-linear-4") >= 0);
static_assert(ResNetLinear::graph.find(op_kind::parameter, "bn-linear/first-conv/conv/W") >= 0);
static_assert(ResNetLinear::graph.find(op_kind::parameter, "bn-linear/first-bn/bn/mean") <
              0);                                                  // BN not copied
static_assert(ResNetLinear::derivations.size() == 5 + 2 + 2 * 5);  // convs, fc W b, c0/c1 per BN

TEST_CASE("BatchNormalizationLinearConverter equals the network and the a*h+b reference") {
    {
        auto store = test::prepare<LeNet<>, LeNetLinear>();
        CHECK(test::compare<LeNet<>, LeNetLinear>(store) < tol);
        // The reference reads the very parameters the conversion derived (same keys).
        CHECK(test::compare<LeNet<style::bn_linear>, LeNetLinear>(store) == 0.0);
    }
    {
        auto store = test::prepare<ResNet<>, ResNetLinear>();
        CHECK(test::compare<ResNet<>, ResNetLinear>(store) < tol);
        CHECK(test::compare<ResNet<style::bn_linear>, ResNetLinear>(store) == 0.0);
    }
}

// batch_stat = true BNs are identity-converted (upstream too: only test-mode BNs are linear maps).
using LeNetTrainLinear = convert<LeNetTrain, BatchNormalizationLinearConverter{}>;
static_assert(LeNetTrainLinear::graph.count(op_kind::batch_normalization) == 3);
static_assert(same_structure(LeNetTrainLinear::graph, LeNetTrain::graph));
static_assert(LeNetTrainLinear::graph.find(op_kind::parameter, "bn-linear/conv2-bn/bn/gamma") >= 0);

// ---- BatchNormalizationFoldedConverter: nets without BN, with biases --------------------------------------
using LeNetFolded = convert<LeNet<>, BatchNormalizationFoldedConverter{}>;
using ResNetFolded = convert<ResNet<>, BatchNormalizationFoldedConverter{}>;
static_assert(LeNetFolded::graph.count(op_kind::batch_normalization) == 0);  // incl. the Affine fc1 fold
static_assert(ResNetFolded::graph.count(op_kind::batch_normalization) == 0);
static_assert(same_structure(LeNetFolded::graph, LeNet<style::bn_folded>::graph));
static_assert(same_structure(ResNetFolded::graph, ResNet<style::bn_folded>::graph));
// <name>/<W key> and <name>/<dirname of W key>/b; unfolded layers copied to <name>/<key>.
static_assert(same_parameters(LeNetFolded::graph, LeNet<style::bn_folded>::graph));
static_assert(same_parameters(ResNetFolded::graph, ResNet<style::bn_folded>::graph));
static_assert(LeNetFolded::graph.find(op_kind::parameter, "bn-folded/fc1/affine/b") >= 0);
static_assert(ResNetFolded::graph.find(op_kind::parameter, "bn-folded/cb2/conv/b") >= 0);
static_assert(LeNetFolded::derivations[LeNetFolded::derivations.size() - 1].kind ==
              derivation_kind::copy);  // fc2/b

TEST_CASE("BatchNormalizationFoldedConverter is exact with trained statistics (incl. Affine -> BN)") {
    {
        auto store = test::prepare<LeNet<>, LeNetFolded>();
        CHECK(test::compare<LeNet<>, LeNetFolded>(store) < tol);
        CHECK(test::compare<LeNet<style::bn_folded>, LeNetFolded>(store) == 0.0);
    }
    {
        auto store = test::prepare<ResNet<>, ResNetFolded>();
        CHECK(test::compare<ResNet<>, ResNetFolded>(store) < tol);
        CHECK(test::compare<ResNet<style::bn_folded>, ResNetFolded>(store) == 0.0);
    }
}

// Grouped Deconvolution (8 -> 12, 4 groups) folded along its OUTPUT channels (upstream: axis 0, the
// input channels), channel-last grouped Convolution, a forked conv output whose BN stays, a BN reading
// an Add2 (no IP producer) and an Affine without a following BN.
using Zoo = network<ref::legacy::legacy_zoo<false>>;
using ZooFolded = convert<Zoo, BatchNormalizationFoldedConverter{}>;
static_assert(ZooFolded::graph.count(op_kind::batch_normalization) == 2);  // fork-bn and add-bn
static_assert(ZooFolded::graph.find(op_kind::parameter, "bn-folded/deconv/deconv/b") >= 0);
static_assert(ZooFolded::graph.nodes[ZooFolded::graph.find(op_kind::parameter, "bn-folded/deconv/deconv/b")]
                  .shape == shape_t{12});
static_assert(ZooFolded::graph.find(op_kind::parameter, "bn-folded/conv-cl/conv/W") >= 0);
static_assert(ZooFolded::graph.find(op_kind::parameter, "bn-folded/fork/conv/W") >= 0);      // copied
static_assert(ZooFolded::graph.find(op_kind::parameter, "bn-folded/fork-bn/bn/mean") >= 0);  // kept, copied
// Only convolutions listed: the Deconvolution's BN stays.
using ZooConvOnly =
    convert<Zoo, BatchNormalizationFoldedConverter{.inner_prod_functions = {op_kind::convolution}}>;
static_assert(ZooConvOnly::graph.count(op_kind::batch_normalization) == 3);
// batch_stat = true BN after an IP: not folded.
using ZooTrain = network<ref::legacy::legacy_zoo<true>>;
using ZooTrainFolded = convert<ZooTrain, BatchNormalizationFoldedConverter{}>;
static_assert(ZooTrainFolded::graph.count(op_kind::batch_normalization) == 3);
static_assert(ZooTrainFolded::graph.find(op_kind::parameter, "bn-folded/conv-cl-bn/bn/var") >= 0);

TEST_CASE("BatchNormalizationFoldedConverter: grouped Deconvolution (I != O), channel-last, forks") {
    {
        auto store = test::prepare<Zoo, ZooFolded>();
        CHECK(test::compare<Zoo, ZooFolded>(store) < tol);
        // Upstream's fold (c0 along W's axis 0 = the 8 input channels) is wrong here: emulate it.
        const int di = test::legacy::find_derivation(ZooFolded::derivations, "bn-folded/deconv/deconv/W");
        REQUIRE(di >= 0);
        derivation d = ZooFolded::derivations[std::size_t(di)];
        d.map = channel_map{d.shape.prod_from(1), 8};
        store.at("bn-folded/deconv/deconv/W").data = kata::detail::compute(store, d);
        CHECK(test::compare<Zoo, ZooFolded>(store) > 1e-3);
    }
    {
        auto store = test::prepare<Zoo, ZooConvOnly>();
        CHECK(test::compare<Zoo, ZooConvOnly>(store) < tol);
    }
}

// ---- composition, reuse, idempotence -------------------------------------------------------------------
// New-style TestModeModifier then the legacy folder, in one list, equals folding the test-mode network.
using TrainThenFolded = convert<LeNetTrain, TestModeModifier{}, BatchNormalizationFoldedConverter{}>;
static_assert(same_structure(TrainThenFolded::graph, LeNetFolded::graph));
static_assert(same_parameters(TrainThenFolded::graph, LeNetFolded::graph));
// One converter value, two conversions: the counter restarts, the name is kept.
constexpr BatchNormalizationLinearConverter lin{.name = "lin"};
using Lin1 = convert<LeNet<>, lin>;
using Lin2 = convert<ResNet<>, lin>;
static_assert(Lin1::graph.find(op_kind::parameter, "lin/c0-lin-0") >= 0 &&
              Lin1::graph.find(op_kind::parameter, "lin/c0-lin-2") >= 0);
static_assert(Lin2::graph.find(op_kind::parameter, "lin/c0-lin-0") >= 0 &&
              Lin2::graph.find(op_kind::parameter, "lin/c1-lin-4") >= 0);
// Converting a converted network copies only the original parameters: what the first converter derived
// is read as it is, as in upstream's SequentialConverter (its converters capture their parameter list at
// construction, before the sequence runs).
using Twice = convert<LeNetLinear, IdentityConverter{}>;
static_assert(Twice::graph.find(op_kind::parameter, "identity/bn-linear/c0-bn-linear-1") < 0 &&
              Twice::graph.find(op_kind::parameter, "bn-linear/c0-bn-linear-1") >= 0);

TEST_CASE("legacy folding composes, re-applies without stale values") {
    auto store = test::prepare<LeNet<>, TrainThenFolded>();
    CHECK(test::compare<LeNet<>, TrainThenFolded>(store) < tol);
    const xt::xarray<float> w = store.at("bn-folded/conv2/conv/W").data;
    const xt::xarray<float> b = store.at("bn-folded/conv2/conv/b").data;
    const std::size_t n = store.size();
    apply_conversion<TrainThenFolded>(store);  // same values, no new entries
    CHECK(store.size() == n);
    CHECK(store.at("bn-folded/conv2/conv/W").data == w);
    CHECK(store.at("bn-folded/conv2/conv/b").data == b);
    store.at("conv2-bn/bn/mean").data += 0.25f;  // new statistics: picked up (upstream: stale)
    apply_conversion<TrainThenFolded>(store);
    CHECK(store.at("bn-folded/conv2/conv/b").data != b);
    CHECK(store.at("bn-folded/conv2/conv/W").data == w);
    CHECK(test::compare<LeNet<>, TrainThenFolded>(store) < tol);
    // Both conversions of one converter value work.
    apply_conversion<Lin1>(store);
    CHECK(test::compare<LeNet<>, Lin1>(store) < tol);
    auto s2 = test::prepare<ResNet<>, Lin2>();
    CHECK(test::compare<ResNet<>, Lin2>(s2) < tol);
    apply_conversion<Twice>(store);
    CHECK(test::compare<LeNet<>, Twice>(store) < tol);
}

}  // namespace
