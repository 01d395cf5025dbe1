// Idempotence and reuse of the non-folding converters (docs/nnabla-semantics.md §10.6, 10.7), part 2 (part 1:
// idempotence.cpp): the modifiers that derive nothing. For each, the converted graph converted again
// is the same graph (functions, shapes, arguments, layouts: compile time), apply_conversion applied
// twice creates and changes nothing, and the twice-converted network computes the original's values
// (trained, non-trivial BN statistics; 1e-5 relative, or exactly when the functions are the same).
//   * IdentityModifier: one value reused for two conversions of two networks (upstream clears its
//     dictionary after the first conversion, so the second substitutes nothing);
//   * FusedBatchNormalizationModifier, UnfusedBatchNormalizationModifier, BatchNormBatchStatModifier,
//     NoGradModifier: converting twice (and one value for two conversions).
#include <doctest/doctest.h>

#include "converter_checks.hpp"
#include "ref_nets.hpp"

using namespace kata;
using test::same_functions;
using test::same_structure;

namespace {

constexpr double tol = 1e-5;
using BnNet = network<ref::small_bn_resnet<2, true, false>>;
using TrainNet = network<ref::small_bn_resnet<2, false, false>>;
using LeNet = network<ref::lenet<true>>;

// Parameters in the store before and after applying C twice are the same, key for key, value for value.
template <class C>
void check_apply_twice_is_a_no_op(parameter_store& store) {
    const auto before = test::snapshot(store);
    apply_conversion<C>(store);
    apply_conversion<C>(store);
    CHECK(test::snapshot(store) == before);
}

// ---- IdentityModifier: one value, two conversions ---------------------------------------------------------
constexpr IdentityModifier batch4{.inputs = {{"x", {4, 3, 32, 32}}}};
using BnBatch4 = convert<BnNet, batch4>;
using LeNetBatch4 = convert<LeNet, batch4>;  // upstream: the dictionary is gone, x stays (1, 3, 32, 32)
static_assert(BnBatch4::graph.nodes[std::size_t(BnBatch4::graph.outputs[0])].shape == shape_t{4, 10});
static_assert(LeNetBatch4::graph.nodes[std::size_t(LeNetBatch4::graph.outputs[0])].shape == shape_t{4, 10});
static_assert(same_functions(convert<BnNet, batch4>::graph, BnBatch4::graph));
static_assert(same_functions(convert<BnBatch4, batch4>::graph, BnBatch4::graph));  // already batch 4
constexpr IdentityModifier renamed{.inputs = {{"x", {1, 3, 32, 32}, "image"}}, .copy_value = true};
using BnRenamed = convert<BnNet, renamed>;
using LeNetRenamed = convert<LeNet, renamed>;
static_assert(same_functions(BnRenamed::graph, BnNet::graph) &&
              same_functions(LeNetRenamed::graph, LeNet::graph));
static_assert(BnRenamed::graph.find(op_kind::input, "image") >= 0 &&
              LeNetRenamed::graph.find(op_kind::input, "image") >= 0);
static_assert(LeNetRenamed::graph.find(op_kind::input, "x") < 0);
// Converting the renamed graph again: there is no input "x" left, nothing changes.
static_assert(same_functions(convert<BnRenamed, renamed>::graph, BnRenamed::graph));
static_assert(convert<BnRenamed, renamed>::graph.find(op_kind::input, "image") >= 0);

TEST_CASE("IdentityModifier: one value converts two networks, the values stay") {
    auto store = test::prepare<BnNet, BnRenamed>();
    models::synthetic_parameters<LeNet>(store);
    check_apply_twice_is_a_no_op<LeNetRenamed>(store);
    CHECK(test::compare<BnNet, BnRenamed>(store) == 0.0);  // the same functions, only the input renamed
    CHECK(test::compare<LeNet, LeNetRenamed>(store) == 0.0);
}

// ---- Fused, twice
// -------------------------------------------------------------------------------------------
using Fused = convert<BnNet, FusedBatchNormalizationModifier{}>;
using Fused2 = convert<Fused, FusedBatchNormalizationModifier{}>;
static_assert(same_functions(Fused2::graph, Fused::graph));
static_assert(Fused::derivations.size() == 0 && Fused2::derivations.size() == 0);
constexpr FusedBatchNormalizationModifier fuse{};
static_assert(same_functions(convert<BnNet, fuse>::graph, convert<BnNet, fuse>::graph));
static_assert(same_functions(convert<Fused, fuse>::graph, Fused::graph));
TEST_CASE("FusedBatchNormalizationModifier converted twice keeps the values") {
    auto store = test::prepare<BnNet, Fused2>();
    check_apply_twice_is_a_no_op<Fused2>(store);
    CHECK(test::compare<BnNet, Fused2>(store) < tol);
}

// ---- Unfused, twice
// -----------------------------------------------------------------------------------------
using Fbn = network<ref::small_fbn_resnet<false>>;
using Unfused = convert<Fbn, UnfusedBatchNormalizationModifier{}>;
using Unfused2 = convert<Unfused, UnfusedBatchNormalizationModifier{}>;
static_assert(same_functions(Unfused2::graph, Unfused::graph));
static_assert(same_functions(Unfused2::graph, BnNet::graph));
static_assert(Unfused2::derivations.size() == 0);
// Unfused(Fused(net)) converted again by both: the fused graph, then the original again.
static_assert(same_functions(convert<Unfused, fuse, UnfusedBatchNormalizationModifier{}>::graph,
                             BnNet::graph));
TEST_CASE("UnfusedBatchNormalizationModifier converted twice keeps the values") {
    auto store = test::prepare<Fbn, Unfused2>();
    check_apply_twice_is_a_no_op<Unfused2>(store);
    CHECK(test::compare<Fbn, Unfused2>(store) < tol);
}

// ---- BatchStat, twice
// ---------------------------------------------------------------------------------------
using BatchStat = convert<TrainNet, BatchNormBatchStatModifier{}>;
using BatchStat2 = convert<BatchStat, BatchNormBatchStatModifier{}>;
static_assert(same_functions(BatchStat2::graph, BatchStat::graph));
static_assert(same_functions(BatchStat2::graph, BnNet::graph));  // = the test-mode network, arguments too
static_assert(test::all_batch_stat(BatchStat2::graph, false));
TEST_CASE("BatchNormBatchStatModifier converted twice equals the test-mode network") {
    auto store = test::prepare<BnNet, BatchStat2>();
    check_apply_twice_is_a_no_op<BatchStat2>(store);
    CHECK(test::compare<BnNet, BatchStat2>(store) == 0.0);
}

// ---- NoGrad, twice
// ------------------------------------------------------------------------------------------
template <class G>
constexpr bool no_parameter_needs_grad(const G& g) {
    for (std::size_t i = 0; i < g.size(); ++i)
        if (g.nodes[i].op == op_kind::parameter && g.nodes[i].need_grad) return false;
    return true;
}
using NoGrad = convert<TrainNet, NoGradModifier{}>;
using NoGrad2 = convert<NoGrad, NoGradModifier{}>;
static_assert(same_functions(NoGrad2::graph, NoGrad::graph) &&
              same_functions(NoGrad2::graph, TrainNet::graph));
static_assert(no_parameter_needs_grad(NoGrad::graph) && no_parameter_needs_grad(NoGrad2::graph));
static_assert(!no_parameter_needs_grad(TrainNet::graph));
TEST_CASE("NoGradModifier converted twice keeps the values (training mode)") {
    auto store = test::prepare<TrainNet, NoGrad2>();
    check_apply_twice_is_a_no_op<NoGrad2>(store);
    CHECK(test::compare<TrainNet, NoGrad2>(store) == 0.0);
}

}  // namespace
