// ChannelLastModifier / ChannelFirstModifier beyond upstream's tests (docs/nnabla-semantics.md §2.8, 10.8),
// part 1:
//   * Concatenate and Softmax along NON-channel axes (batch, height, width): upstream forces the
//     concatenation axis to the last axis (or 1) and rebuilds Softmax unchanged; kata maps both axes.
//     Checked at compile time (the axis arguments of the converted functions) and by values;
//   * a graph input read by six functions whose first consumer is a Convolution (upstream only rewires
//     the first consumer, which must be single-input);
//   * the w_bias = true parametrisation of small_bn_resnet (the bias is carried unchanged, W permuted);
//   * SquaredError between a converted activation and an unconverted target (only x converted): the
//     target is permuted in the graph like an Add2 operand.
// Parts 2 and 3: channel_last_lenet.cpp (cl_lenet), channel_last_clbn.cpp (small_clbn_resnet).
// Values (trained, non-trivial BN statistics) against the original network, within 1e-5 relative
// (exact rewrites: the same sums in another memory order). The axes nets read x directly (no / 255),
// so they run on inputs in [-1, 1): softmaxes of O(1) logits, not saturated ones (see make_inputs).
#include <doctest/doctest.h>

#include "converter_checks.hpp"
#include "ref_nets_misc.hpp"

using namespace kata;
using test::axes;
using test::axes_of;
using test::same_functions;
using test::same_structure;

namespace {

constexpr double tol = 1e-5;

// ---- Concatenate / Softmax along non-channel axes -----------------------------------------------------
using Axes = network<ref::cl_axes_net>;
using AxesCl = convert<Axes, ChannelLastModifier{}>;
// NCHW -> NHWC: channel 1 -> 3, height 2 -> 1, width 3 -> 2, batch 0 -> 0 (visit order: the channel
// concatenation, the height one, the width one, the batch one).
static_assert(axes_of(Axes::graph, op_kind::concatenate) == axes({1, 2, 3, 0}));
static_assert(axes_of(AxesCl::graph, op_kind::concatenate) == axes({3, 1, 2, 0}));
static_assert(axes_of(Axes::graph, op_kind::softmax) == axes({3, 2, 0}));
static_assert(axes_of(AxesCl::graph, op_kind::softmax) == axes({2, 1, 0}));
// Everything has a channel-last form: no Transpose; every consumer of x reads the NHWC input.
static_assert(AxesCl::graph.count(op_kind::transpose) == 0);
static_assert(AxesCl::graph.nodes[std::size_t(AxesCl::graph.find(op_kind::input, "x"))].shape ==
              shape_t{2, 6, 7, 5});
static_assert(AxesCl::graph.find(op_kind::parameter, "cat-h_cl") >= 0);    // (2, 9, 3, 7) -> (2, 3, 7, 9)
static_assert(AxesCl::graph.find(op_kind::parameter, "shift-h_cl") >= 0);  // (1, 1, 6, 1) -> (1, 6, 1, 1)
static_assert(AxesCl::graph.nodes[std::size_t(AxesCl::graph.find(op_kind::parameter, "shift-h_cl"))].shape ==
              shape_t{1, 6, 1, 1});
static_assert(AxesCl::graph.find(op_kind::parameter, "fc/affine/W_cl") >= 0);
static_assert(AxesCl::graph.num_outputs() == 4);

TEST_CASE("ChannelLast maps Concatenate and Softmax axes (batch, height, width) and rewires every consumer") {
    auto store = test::prepare<Axes, AxesCl>();
    CHECK(test::compare_layouts<Axes, AxesCl, true, 1.0f>(store) < tol);
}

// Back to channel-first: the original axes and values again.
using AxesBack = convert<AxesCl, ChannelFirstModifier{}>;
static_assert(axes_of(AxesBack::graph, op_kind::concatenate) == axes({1, 2, 3, 0}));
static_assert(axes_of(AxesBack::graph, op_kind::softmax) == axes({3, 2, 0}));
static_assert(same_structure(AxesBack::graph, Axes::graph));
static_assert(AxesBack::graph.count(op_kind::transpose) == 0);
TEST_CASE("ChannelLast then ChannelFirst on the axes net gives the original values") {
    auto store = test::prepare<Axes, AxesBack>();
    CHECK(test::compare<Axes, AxesBack, 1.0f>(store) < tol);
}

// NHWC -> NCHW: height 1 -> 2, width 2 -> 3, channel 3 -> 1.
using AxesCf = network<ref::cf_axes_net>;
using AxesCfConv = convert<AxesCf, ChannelFirstModifier{}>;
static_assert(axes_of(AxesCf::graph, op_kind::concatenate) == axes({1, 2, 3}));
static_assert(axes_of(AxesCfConv::graph, op_kind::concatenate) == axes({2, 3, 1}));
static_assert(axes_of(AxesCf::graph, op_kind::softmax) == axes({2, 1}));
static_assert(axes_of(AxesCfConv::graph, op_kind::softmax) == axes({3, 2}));
static_assert(AxesCfConv::graph.count(op_kind::transpose) == 0);
static_assert(AxesCfConv::graph.nodes[std::size_t(AxesCfConv::graph.find(op_kind::input, "x"))].shape ==
              shape_t{2, 5, 6, 7});
static_assert(AxesCfConv::graph.find(op_kind::parameter, "cat-h_cf") >= 0);
TEST_CASE("ChannelFirst maps Concatenate and Softmax axes of a channel-last network") {
    auto store = test::prepare<AxesCf, AxesCfConv>();
    CHECK(test::compare_layouts<AxesCf, AxesCfConv, false, 1.0f>(store) < tol);
}

// ---- small_bn_resnet with biases (upstream's w_bias = true) -------------------------------------------
template <bool Test>
using BnB = network<ref::small_bn_resnet<2, Test, true>>;
template <bool Test>
using BnBCl = convert<BnB<Test>, ChannelLastModifier{{"x"}}>;
static_assert(same_functions(BnBCl<true>::graph, network<ref::cl_bn_resnet<true, true>>::graph));
static_assert(same_functions(BnBCl<false>::graph, network<ref::cl_bn_resnet<false, true>>::graph));
static_assert(BnBCl<true>::graph.find(op_kind::parameter, "cb4/conv/b") >= 0);
static_assert(BnBCl<true>::graph.find(op_kind::parameter, "cb4/conv/b_cl") <
              0);  // a bias needs no permutation
// W_cl per convolution, beta/gamma/mean/var_cl per BN, W_cl of the Affine: as without biases.
static_assert(BnBCl<true>::derivations.size() == 26);
TEST_CASE_TEMPLATE("ChannelLast on small_bn_resnet with biases keeps the values", T, std::true_type,
                   std::false_type) {
    auto store = test::prepare<BnB<T::value>, BnBCl<T::value>>();
    CHECK(test::compare_layouts<BnB<T::value>, BnBCl<T::value>>(store) < tol);
}

// ---- SquaredError with an unconverted target --------------------------------------------------------
// Only x is converted; the targets t and t2 keep their layout. The first convolution's output is a cube
// (2, 5, 5, 5): NCHW and NHWC have the same shape, so pairing the NHWC activation with the NCHW target
// element by element would compile and compute a wrong loss; the second pair (2, 4, 3, 5) would not
// compile. Both targets must be permuted to the activation's layout.
constexpr void cl_loss_net(builder& g) {
    var x = g.input("x", {2, 3, 5, 5});
    var y = PF::convolution(x, 5, {3, 3}, {.pad = {1, 1}, .name = "lc1"});  // (2, 5, 5, 5)
    g.output(F::mean(F::squared_error(y, g.input("t", {2, 5, 5, 5}))));
    var y2 = PF::convolution(x, 4, {3, 3}, {.pad = {0, 1}, .name = "lc2"});  // (2, 4, 3, 5)
    g.output(F::squared_error(y2, g.input("t2", {2, 4, 3, 5})));
}
using Loss = network<cl_loss_net>;
using LossCl = convert<Loss, ChannelLastModifier{{"x"}}>;
// Two targets permuted to NHWC, and the mean reads its input back in NCHW (reductions take the fallback rule).
static_assert(LossCl::graph.count(op_kind::transpose) == 3);
static_assert(LossCl::graph.nodes[std::size_t(LossCl::graph.find(op_kind::input, "t2"))].shape ==
              shape_t{2, 4, 3, 5});
TEST_CASE("ChannelLast permutes an unconverted SquaredError target to the activation's layout") {
    auto store = test::prepare<Loss, LossCl>();
    CHECK(test::compare_layouts<Loss, LossCl, true, 1.0f>(store) < tol);
}
using LossBack = convert<LossCl, ChannelFirstModifier{}>;
TEST_CASE("ChannelFirst of that network gives the original values") {
    auto store = test::prepare<Loss, LossCl>();
    apply_conversion<LossBack>(store);
    CHECK(test::compare<Loss, LossBack, 1.0f>(store) < tol);
}

}  // namespace
