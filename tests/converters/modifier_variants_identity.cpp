// Upstream's parametrisations of the structural modifiers that framework.cpp does not cover
// (docs/nnabla-semantics.md §8.3), part 2 (part 1: modifier_variants.cpp):
//   * IdentityModifier on lenet and small_bn_resnet (upstream's small_cf_resnet), test and training
//     mode, with a different batch size (structure against the ported references id_lenet /
//     small_id_resnet at batch 128) and with copy_value (structure, and exactly the original values);
//     at batch 4 in test mode every image is computed independently, so each output row must equal the
//     batch-1 network's output for that image (a closed-form check of the re-inferred shapes);
//   * NoGradModifier on lenet (every parameter need_grad = false, exactly the original values);
//   * UnfusedBatchNormalizationModifier in training mode (upstream's test = False): small_fbn_resnet
//     with batch-statistics BNs unfuses to small_bn_resnet in training mode, values within 1e-5
//     relative (the fused and unfused kernels sum in different orders).
#include <doctest/doctest.h>

#include "converter_checks.hpp"
#include "ref_nets_misc.hpp"

using namespace kata;
using test::same_functions;
using test::same_structure;

namespace {

constexpr double tol = 1e-5;

template <bool Test>
using LeNet = network<ref::lenet<Test>>;
template <bool Test>
using ResNet = network<ref::small_bn_resnet<2, Test, false>>;

// ---- IdentityModifier -------------------------------------------------------------------------------------
constexpr IdentityModifier batch128{.inputs = {{"x", {128, 3, 32, 32}}}};
constexpr IdentityModifier copy{.inputs = {{"x", {1, 3, 32, 32}, "x-copy"}}, .copy_value = true};
template <class Net>
using Batch128 = convert<Net, batch128>;
template <class Net>
using Copy = convert<Net, copy>;
static_assert(same_structure(Batch128<LeNet<true>>::graph, network<ref::id_lenet<true, 128>>::graph));
static_assert(same_structure(Batch128<LeNet<false>>::graph, network<ref::id_lenet<false, 128>>::graph));
static_assert(same_structure(Batch128<ResNet<true>>::graph, network<ref::small_id_resnet<true, 128>>::graph));
static_assert(same_structure(Batch128<ResNet<false>>::graph,
                             network<ref::small_id_resnet<false, 128>>::graph));
static_assert(same_structure(Copy<LeNet<true>>::graph, network<ref::id_lenet<true>>::graph));
static_assert(same_structure(Copy<LeNet<false>>::graph, network<ref::id_lenet<false>>::graph));
static_assert(same_structure(Copy<ResNet<true>>::graph, network<ref::small_id_resnet<true>>::graph));
static_assert(same_structure(Copy<ResNet<false>>::graph, network<ref::small_id_resnet<false>>::graph));
static_assert(same_functions(Copy<LeNet<false>>::graph, LeNet<false>::graph));
static_assert(Copy<LeNet<false>>::graph.find(op_kind::input, "x-copy") >= 0);

TEST_CASE_TEMPLATE("IdentityModifier(copy_value) on lenet computes exactly the original values", T,
                   std::true_type, std::false_type) {
    auto store = test::prepare<LeNet<T::value>, Copy<LeNet<T::value>>>();
    CHECK(test::compare<LeNet<T::value>, Copy<LeNet<T::value>>>(store) == 0.0);
}
TEST_CASE(
    "IdentityModifier(copy_value) on small_bn_resnet in training mode computes exactly the original values") {
    auto store = test::prepare<ResNet<false>, Copy<ResNet<false>>>();
    CHECK(test::compare<ResNet<false>, Copy<ResNet<false>>>(store) == 0.0);
}

// x read at input 0 (Convolution), 1 (Add2) and 2 (Concatenate): every position reads the batch-3
// input (upstream substitutes position 0 of functions whose first input is a leaf only); a missed one
// would leave a batch-1 operand, which Concatenate refuses.
constexpr var x_everywhere(builder& g) {
    var x = g.input("x", {1, 4, 6, 6});
    var h = F::relu(PF::convolution(x, 4, {3, 3}, {.pad = {1, 1}, .name = "c"}));
    return F::concatenate({F::add2(h, x), h, x}, 1);
}
using Everywhere3 = convert<network<x_everywhere>, IdentityModifier{.inputs = {{"x", {3, 4, 6, 6}}}}>;
static_assert(Everywhere3::graph.nodes[std::size_t(Everywhere3::graph.outputs[0])].shape ==
              shape_t{3, 12, 6, 6});
static_assert(Everywhere3::graph.count_leaves(op_kind::input) == 1);

// Batch 4 in test mode: row i of the output = the batch-1 network on image i.
constexpr IdentityModifier batch4{.inputs = {{"x", {4, 3, 32, 32}}}};
template <class Net>
void check_rows_independent(parameter_store& store) {
    using Big = convert<Net, batch4>;
    static_assert(Big::graph.nodes[std::size_t(Big::graph.outputs[0])].shape == shape_t{4, 10});
    xt::xarray<float> x(std::vector<std::size_t>{4, 3, 32, 32});
    models::synthetic_input("x4", x.data(), x.size());
    x *= 255.0f;
    cpu::executor<Big> big(store);
    cpu::executor<Net> one(store);
    const xt::xarray<float> y = big(x);
    const std::size_t image = 3 * 32 * 32;
    for (std::size_t i = 0; i < 4; ++i) {
        xt::xarray<float> xi(std::vector<std::size_t>{1, 3, 32, 32});
        std::copy(x.data() + i * image, x.data() + (i + 1) * image, xi.data());
        const xt::xarray<float> yi = one(xi);
        // The same sums for one image, whatever the batch: within float32 rounding of the GEMMs' order.
        CHECK(test::rel_diff(yi.data(), y.data() + i * 10, 10) < tol);
    }
}
TEST_CASE("IdentityModifier(batch 4) on test-mode lenet and small_bn_resnet: each image as with batch 1") {
    {
        auto store = test::prepare<LeNet<true>, LeNet<true>>();
        check_rows_independent<LeNet<true>>(store);
    }
    {
        auto store = test::prepare<ResNet<true>, ResNet<true>>();
        check_rows_independent<ResNet<true>>(store);
    }
}

// ---- NoGradModifier on lenet
// ---------------------------------------------------------------------------------
template <class G>
constexpr bool no_parameter_needs_grad(const G& g) {
    for (std::size_t i = 0; i < g.size(); ++i)
        if (g.nodes[i].op == op_kind::parameter && g.nodes[i].need_grad) return false;
    return true;
}
template <bool Test>
using LeNetNoGrad = convert<LeNet<Test>, NoGradModifier{}>;
static_assert(same_functions(LeNetNoGrad<true>::graph, LeNet<true>::graph));
static_assert(same_functions(LeNetNoGrad<false>::graph, LeNet<false>::graph));
static_assert(no_parameter_needs_grad(LeNetNoGrad<false>::graph) &&
              !no_parameter_needs_grad(LeNet<false>::graph));
static_assert(test::count_params(LeNetNoGrad<false>::graph) == test::count_params(LeNet<false>::graph));
TEST_CASE("NoGradModifier on lenet (training mode) computes exactly the original values") {
    auto store = test::prepare<LeNet<false>, LeNetNoGrad<false>>();
    CHECK(test::compare<LeNet<false>, LeNetNoGrad<false>>(store) == 0.0);
}

// ---- UnfusedBatchNormalizationModifier in training mode -------------------------------------------------
using FbnTrain = network<ref::small_fbn_resnet<false, false>>;
using UnfusedTrain = convert<FbnTrain, UnfusedBatchNormalizationModifier{}>;
static_assert(same_functions(UnfusedTrain::graph, ResNet<false>::graph));
static_assert(test::all_batch_stat(UnfusedTrain::graph, true) && test::all_batch_stat(FbnTrain::graph, true));
static_assert(UnfusedTrain::derivations.size() == 0);
TEST_CASE("UnfusedBatchNormalizationModifier in training mode keeps the values") {
    auto store = test::prepare<FbnTrain, UnfusedTrain>();
    CHECK(test::compare<FbnTrain, UnfusedTrain>(store) < tol);
    CHECK(test::compare<ResNet<false>, UnfusedTrain>(store) == 0.0);
}

}  // namespace
