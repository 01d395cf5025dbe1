// The converter framework (docs/nnabla-semantics.md §1): a user-written modifier (nnabla's FunctionModifier
// documentation example, ReLU -> LeakyReLU), what a modifier sees (visit order, function_references, mapped inputs), composition
// (convert<convert<...>>), lists, multiple inputs/outputs, and the structural modifiers:
// RemoveFunction, BatchNormBatchStat, TestMode, Identity (batch change, copy_value), NoGrad.
#include <doctest/doctest.h>

#include "../../examples/converters/relu_to_leaky_relu.hpp"
#include "converter_test_support.hpp"
#include "ref_nets.hpp"

using namespace kata;
using test::same_structure;

namespace {

constexpr double tol = 1e-5;

// ---- the seed's user modifier ------------------------------------------------------------------------
template <bool Leaky>
constexpr var tiny(builder& g) {
    var x = g.input("x", {2, 3, 8, 8});
    auto act = [](var v) { return Leaky ? F::leaky_relu(v) : F::relu(v); };
    var h = act(PF::convolution(x, 4, {3, 3}, {.pad = {1, 1}, .name = "conv"}));
    return PF::affine(act(h + h), 5, {.name = "fc"});
}
using Tiny = network<tiny<false>>;
using TinyLeaky = convert<Tiny, ReLUToLeakyReLUModifier{}>;
static_assert(same_structure(TinyLeaky::graph, network<tiny<true>>::graph));
static_assert(TinyLeaky::graph.count(op_kind::relu) == 0);
TEST_CASE("user modifier: ReLU -> LeakyReLU") {
    auto store = test::prepare<Tiny, TinyLeaky>();
    CHECK(test::compare<network<tiny<true>>, TinyLeaky>(store) < tol);
    CHECK(test::compare<Tiny, TinyLeaky>(store) > tol);  // it did change something
}

// ---- what a modifier sees -------------------------------------------------------------------------------
// Replaces a ReLU by a LeakyReLU only when its input is forked (num_consumers > 1), records the visit
// order in its state and checks it in finish_up (a failed check is a compile-time error).
struct inspecting_modifier {
    int visited[64]{};
    int n = 0;
    constexpr var modify(modify_context& c, function_ref f, std::span<const var> inputs) {
        visited[n++] = f.id();
        if (int(inputs.size()) != f.num_inputs()) c.fail("inputs size");
        for (int k = 0; k < f.num_inputs(); ++k)
            if (c.mapped(f.input(k)).id != inputs[std::size_t(k)].id)
                c.fail("mapped() disagrees with inputs");
        if (f.type() == op_kind::relu && !f.input(0).is_leaf() && f.input(0).num_consumers() > 1)
            return F::leaky_relu(inputs[0], 0.25);
        return keep;
    }
    constexpr void finish_up() {
        // ref::small_bn_resnet: the residual's Add2 reads the block input which has two consumers.
        if (n != 23) throw "visit count";  // a throw in constant evaluation is a compile error
        for (int i = 1; i < n; ++i)
            if (visited[i] <= visited[i - 1]) throw "this network's visit order equals creation order";
    }
};
using BnNet = network<ref::small_bn_resnet<2, true, false>>;
using Inspected = convert<BnNet, inspecting_modifier{}>;
static_assert(BnNet::graph.num_functions() == 23);
static_assert(Inspected::graph.count(op_kind::leaky_relu) == 0);  // every relu input has a single consumer

// ---- lists, composition, multiple inputs and outputs ------------------------------------------------------
using TrainNet = network<ref::small_bn_resnet<2, false, false>>;
using TestNet = network<ref::small_bn_resnet<2, true, false>>;
using TestMode = convert<TrainNet, TestModeModifier{}>;
static_assert(same_structure(TestMode::graph, TestNet::graph));
static_assert(!TestMode::graph.nodes[TestMode::graph.find(op_kind::parameter, "cb1/bn/mean")].need_grad);
using Chain = convert<TestMode, BatchNormalizationFoldingModifier{}>;  // convert<convert<...>>
using OnePass = convert<TrainNet, TestModeModifier{}, BatchNormalizationFoldingModifier{}>;
static_assert(same_structure(Chain::graph, OnePass::graph));
static_assert(Chain::derivations.size() == OnePass::derivations.size());
static_assert(same_structure(Chain::graph, network<ref::small_bn_folding_resnet<2>>::graph));
TEST_CASE("test mode then BN folding, chained or in one list, equals the test-mode network") {
    auto store = test::prepare<TestNet, Chain>();
    CHECK(test::compare<TestNet, Chain>(store) < tol);
    apply_conversion<OnePass>(store);
    CHECK(test::compare<TestNet, OnePass>(store) < tol);
}

using Multi = network<ref::small_multiple_inputs_outputs_resnet<true, false>>;
using MultiFolded = convert<Multi, BatchNormalizationFoldingModifier{}>;
static_assert(MultiFolded::graph.num_outputs() == 2);
static_assert(MultiFolded::graph.count(op_kind::batch_normalization) == 0);
static_assert(MultiFolded::graph.count_leaves(op_kind::input) == 2);
static_assert(MultiFolded::graph.nodes[0].name == std::string_view("x"));  // input order kept
TEST_CASE("BN folding with two inputs and two outputs") {
    auto store = test::prepare<Multi, MultiFolded>();
    CHECK(test::compare<Multi, MultiFolded>(store) < tol);
}

// ---- RemoveFunction, BatchStat, TestMode(rm) ------------------------------------------------------------
using Removed = convert<BnNet, RemoveFunctionModifier{op_kind::batch_normalization, op_kind::mul_scalar}>;
static_assert(same_structure(Removed::graph, network<ref::small_bn_rm_resnet<false>>::graph));
using TestModeRm = convert<TrainNet, TestModeModifier{op_kind::batch_normalization, op_kind::mul_scalar}>;
static_assert(same_structure(TestModeRm::graph, network<ref::small_bn_rm_resnet<false>>::graph));

using LeNetTrain = network<ref::lenet<false>>;
using LeNetBsf = convert<LeNetTrain, BatchNormBatchStatModifier{}>;
static_assert(same_structure(LeNetBsf::graph, network<ref::bsf_lenet>::graph));
TEST_CASE("BatchNormBatchStat on lenet equals bsf_lenet") {
    auto store = test::prepare<network<ref::bsf_lenet>, LeNetBsf>();
    CHECK(test::compare<network<ref::bsf_lenet>, LeNetBsf>(store) < tol);
}

// ---- IdentityModifier ------------------------------------------------------------------------------------
using Batch128 = convert<BnNet, IdentityModifier{.inputs = {{"x", {128, 3, 32, 32}}}}>;
static_assert(Batch128::graph.nodes[Batch128::graph.outputs[0]].shape == shape_t{128, 10});
static_assert(Batch128::graph.num_functions() == BnNet::graph.num_functions());
using Same =
    convert<BnNet, IdentityModifier{.inputs = {{"x", {1, 3, 32, 32}, "x-copy"}}, .copy_value = true}>;
static_assert(same_structure(Same::graph, BnNet::graph));
static_assert(Same::graph.find(op_kind::input, "x-copy") >= 0 && Same::graph.find(op_kind::input, "x") < 0);
TEST_CASE("IdentityModifier: same values, new input") {
    auto store = test::prepare<BnNet, Same>();
    CHECK(test::compare<BnNet, Same>(store) < tol);
}

// ---- NoGradModifier ------------------------------------------------------------------------------------
using NoGrad = convert<BnNet, NoGradModifier{}>;
constexpr bool all_no_grad() {
    for (const node& n : NoGrad::graph.nodes)
        if (n.op == op_kind::parameter && n.need_grad) return false;
    return true;
}
static_assert(all_no_grad());
static_assert(same_structure(NoGrad::graph, BnNet::graph));
TEST_CASE("NoGradModifier keeps values") {
    auto store = test::prepare<BnNet, NoGrad>();
    CHECK(test::compare<BnNet, NoGrad>(store) < tol);
}

}  // namespace

// A modifier that grows the graph beyond the converter's one-pass buffer (one and a half times the
// source's nodes, plus 64): each ReLU becomes 60 Identities and a ReLU. kata::convert then runs the pass
// a second time into the exact sizes; the result must be the same as for small growth.
struct grow_modifier {
    int copies = 60;
    constexpr var modify(modify_context& c, function_ref f, std::span<const var> inputs) const {
        if (f.type() != op_kind::relu) return keep;
        var h = inputs[0];
        for (int i = 0; i < copies; ++i) h = F::identity(h);
        return c.rebuild(f, {h});
    }
};
using Grown = convert<BnNet, grow_modifier{}>;
using GrownSmall = convert<BnNet, grow_modifier{1}>;
static_assert(!detail::conversion_pass<BnNet, grow_modifier{}>::first::value.fits);  // beyond the buffer
static_assert(detail::conversion_pass<BnNet, grow_modifier{1}>::first::value.fits);
static_assert(Grown::graph.count(op_kind::identity) == 60 * BnNet::graph.count(op_kind::relu));
static_assert(GrownSmall::graph.count(op_kind::identity) == BnNet::graph.count(op_kind::relu));
static_assert(Grown::graph.num_functions() ==
              BnNet::graph.num_functions() + 60 * BnNet::graph.count(op_kind::relu));
TEST_CASE("a conversion larger than the one-pass buffer gives the same values") {
    auto store = test::prepare<BnNet, Grown>();
    CHECK(test::compare<BnNet, Grown>(store) == 0.0);
    CHECK(test::compare<BnNet, GrownSmall>(store) == 0.0);
}
