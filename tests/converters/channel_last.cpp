// ChannelLastModifier / ChannelFirstModifier (docs/nnabla-semantics.md §2.8) with kata's fixes
// (docs/nnabla-semantics.md §10.8): upstream's test_channel_last / test_channel_first on small_bn_resnet <->
// small_cl_resnet (here also 1-D and 3-D, and in training mode), a round trip, a composition with BN folding,
// and the "zoo" net whose every axis-sensitive op must keep its values (grouped Deconvolution with
// output_padding, Concatenate on the channel axis, Softmax over channels, Affine after a channel-last tensor,
// GAP, Transpose, Reshape, a depthwise convolution). Structure at compile time; values with non-trivial BN
// statistics against the original network run by the CPU executor, with the input permuted on the host.
#include <doctest/doctest.h>

#include "converter_test_support.hpp"
#include "ref_nets_layout.hpp"

using namespace kata;
using test::same_structure;

namespace {

constexpr double tol = 1e-5;

// Runs A on its inputs and B on the same data permuted to B's layout (ToLast: NC.. -> N..C, else
// N..C -> NC..); B's outputs are permuted back before the comparison. Returns max |a - b| / max |a|
// over all outputs.
inline xt::xarray<float> permute_layout(const xt::xarray<float>& a, bool to_last) {
    const std::size_t n = a.dimension();
    std::vector<std::size_t> perm(n);
    for (std::size_t i = 0; i < n; ++i) perm[i] = i;
    if (n >= 3) {
        for (std::size_t i = 1; i < n; ++i)
            perm[i] = to_last ? (i + 1 < n ? i + 1 : 1) : (i == 1 ? n - 1 : i - 1);
    }
    return xt::transpose(a, perm);
}

template <graph_type A, graph_type B, bool ToLast = true>
double compare_layouts(parameter_store& store) {
    auto xa = test::make_inputs<A>();
    auto xb = test::make_inputs<B>();
    static_assert(xa.size() == xb.size());
    for (std::size_t i = 0; i < xa.size(); ++i) {
        if (xa[i].shape() == xb[i].shape()) continue;
        xb[i] = permute_layout(xa[i], ToLast);
        REQUIRE(xb[i].shape() == test::make_inputs<B>()[i].shape());
    }
    cpu::executor<A> ea(store);
    cpu::executor<B> eb(store);
    std::apply([&](auto&... x) { ea(x...); }, xa);
    std::apply([&](auto&... x) { eb(x...); }, xb);
    double worst = 0;
    [&]<std::size_t... K>(std::index_sequence<K...>) {
        ((worst = std::max(worst,
                           [&] {
                               xt::xarray<float> ya = ea.template output<K>();
                               xt::xarray<float> yb = eb.template output<K>();
                               if (ya.shape() != yb.shape()) yb = permute_layout(yb, !ToLast);
                               REQUIRE(ya.shape() == yb.shape());
                               return test::rel_diff(ya.data(), yb.data(), ya.size());
                           }())),
         ...);
    }
    (std::make_index_sequence<A::graph.num_outputs()>{});
    return worst;
}

template <class G>
constexpr bool all_convs_channel_last(const G& g, bool want) {
    for (std::size_t i = 0; i < g.size(); ++i) {
        const node& n = g.nodes[i];
        if ((n.op == op_kind::convolution || n.op == op_kind::deconvolution || n.op == op_kind::max_pooling ||
             n.op == op_kind::average_pooling) &&
            n.attr.channel_last != want)
            return false;
        if (n.op == op_kind::batch_normalization && n.attr.axes[0] != (want ? n.shape.rank - 1 : 1))
            return false;
    }
    return true;
}

// ---- small_bn_resnet -> channel-last == small_cl_resnet (1-D, 2-D, 3-D) ---------------------------
template <int D, bool Test = true>
using Bn = network<ref::small_bn_resnet<D, Test, false>>;
template <int D, bool Test = true>
using Cl = convert<Bn<D, Test>, ChannelLastModifier{{"x"}}>;
template <int D, bool Test = true>
using ClRef = network<ref::small_cl_resnet<D, Test>>;

static_assert(same_structure(Cl<1>::graph, ClRef<1>::graph));
static_assert(same_structure(Cl<2>::graph, ClRef<2>::graph));
static_assert(same_structure(Cl<3>::graph, ClRef<3>::graph));
static_assert(same_structure(Cl<2, false>::graph, ClRef<2, false>::graph));
static_assert(all_convs_channel_last(Cl<2>::graph, true) && all_convs_channel_last(Cl<3>::graph, true));
static_assert(Cl<2>::graph.nodes[std::size_t(Cl<2>::graph.find(op_kind::input, "x"))].lay ==
              layout::channel_last);
static_assert(Cl<2>::graph.count(op_kind::transpose) == 0);  // nothing needed a fallback
// W_cl per convolution, beta/gamma/mean/var_cl per BN, W_cl of the Affine: 5 + 5*4 + 1
static_assert(Cl<2>::derivations.size() == 26);
static_assert(Cl<2>::graph.find(op_kind::parameter, "cb1/conv/W_cl") >= 0);
static_assert(Cl<2>::graph.find(op_kind::parameter, "cb1/bn/mean_cl") >= 0);
static_assert(Cl<2>::graph.find(op_kind::parameter, "fc/affine/W_cl") >= 0);
static_assert(Cl<2>::graph.find(op_kind::parameter, "cb1/conv/W") < 0);
// The default input rule picks the same input.
static_assert(same_structure(convert<Bn<2>, ChannelLastModifier{}>::graph, Cl<2>::graph));

TEST_CASE_TEMPLATE("ChannelLast on small_bn_resnet keeps the values (1-D, 2-D, 3-D)", T,
                   std::integral_constant<int, 1>, std::integral_constant<int, 2>,
                   std::integral_constant<int, 3>) {
    auto store = test::prepare<Bn<T::value>, Cl<T::value>>();
    CHECK(compare_layouts<Bn<T::value>, Cl<T::value>>(store) < tol);
}

TEST_CASE("ChannelLast in training mode (batch statistics over the permuted axes)") {
    auto store = test::prepare<Bn<2, false>, Cl<2, false>>();
    // Each executor updates its own running statistics (the _cl copies vs the originals): compare
    // the outputs only.
    CHECK(compare_layouts<Bn<2, false>, Cl<2, false>>(store) < tol);
}

// ---- small_cl_resnet -> channel-first == small_bn_resnet -------------------------------------------
template <int D>
using Cf = convert<ClRef<D>, ChannelFirstModifier{}>;
static_assert(same_structure(Cf<1>::graph, Bn<1>::graph));
static_assert(same_structure(Cf<2>::graph, Bn<2>::graph));
static_assert(same_structure(Cf<3>::graph, Bn<3>::graph));
static_assert(all_convs_channel_last(Cf<2>::graph, false));
static_assert(Cf<2>::graph.find(op_kind::parameter, "cb1/conv/W_cf") >= 0);

TEST_CASE_TEMPLATE("ChannelFirst on small_cl_resnet keeps the values (1-D, 2-D, 3-D)", T,
                   std::integral_constant<int, 1>, std::integral_constant<int, 2>,
                   std::integral_constant<int, 3>) {
    auto store = test::prepare<ClRef<T::value>, Cf<T::value>>();
    CHECK(compare_layouts<ClRef<T::value>, Cf<T::value>, false>(store) < tol);
}

// ---- round trip and composition -------------------------------------------------------------------
using RoundTrip = convert<Cl<2>, ChannelFirstModifier{}>;
static_assert(same_structure(RoundTrip::graph, Bn<2>::graph));
static_assert(RoundTrip::graph.find(op_kind::parameter, "cb1/conv/W_cl_cf") >= 0);

TEST_CASE("ChannelLast then ChannelFirst gives the original network and values back") {
    auto store = test::prepare<Bn<2>, RoundTrip>();
    CHECK(test::compare<Bn<2>, RoundTrip>(store) < tol);
    // W_cl_cf is W, element for element.
    const auto& w = store.find("cb2/conv/W")->data;
    const auto& w2 = store.find("cb2/conv/W_cl_cf")->data;
    CHECK(w == w2);
}

// BN folding then channel-last, in one pipeline (the ResNet-50 demo's conversion).
using FoldCl = convert<Bn<2>, BatchNormalizationFoldingModifier{}, ChannelLastModifier{}>;
static_assert(FoldCl::graph.count(op_kind::batch_normalization) == 0);
static_assert(all_convs_channel_last(FoldCl::graph, true));
static_assert(FoldCl::graph.find(op_kind::parameter, "cb3/conv/w-folded_cl") >= 0);
TEST_CASE("BN folding + channel-last pipeline keeps the values, applying twice changes nothing") {
    auto store = test::prepare<Bn<2>, FoldCl>();
    CHECK(compare_layouts<Bn<2>, FoldCl>(store) < tol);
    const xt::xarray<float> before = store.find("cb3/conv/w-folded_cl")->data;
    apply_conversion<FoldCl>(store);
    CHECK(store.find("cb3/conv/w-folded_cl")->data == before);
    // A new trained value propagates on re-apply (never stale, docs/nnabla-semantics.md §10.6).
    store.find("cb3/bn/gamma")->data *= 2.0f;
    apply_conversion<FoldCl>(store);
    CHECK(!(store.find("cb3/conv/w-folded_cl")->data == before));
    CHECK(compare_layouts<Bn<2>, FoldCl>(store) < tol);
}

// ---- the zoo: every axis-sensitive op --------------------------------------------------------------
using Zoo = network<ref::layout_zoo>;
using ZooCl = convert<Zoo, ChannelLastModifier{}>;
static_assert(ZooCl::graph.nodes[std::size_t(ZooCl::graph.find(op_kind::input, "x"))].shape ==
              shape_t{2, 9, 11, 6});
static_assert(ZooCl::graph.count(op_kind::deconvolution) == 1);  // a Deconvolution, not a Convolution
static_assert(ZooCl::graph.count(op_kind::global_average_pooling) == 0);  // became an AveragePooling
static_assert(ZooCl::graph.find(op_kind::parameter, "d1/deconv/W_cl") >= 0);
static_assert(ZooCl::graph.find(op_kind::parameter, "cat-p_cl") >= 0);
static_assert(ZooCl::graph.find(op_kind::parameter, "scale/a_cl") >= 0);
static_assert(ZooCl::graph.find(op_kind::parameter, "fc1/affine/W_cl") >= 0);
// Transposes: one back to channel-first before the depthwise convolution (which has no channel-last
// form) and one that permutes the channel-first `side` for Concatenate; the hand-written NHWC
// transpose composed to the identity and disappeared.
static_assert(ZooCl::graph.count(op_kind::transpose) == 2);
static_assert(ZooCl::graph.num_outputs() == 2);

TEST_CASE("ChannelLast on the zoo net keeps every value") {
    auto store = test::prepare<Zoo, ZooCl>();
    CHECK(compare_layouts<Zoo, ZooCl>(store) < tol);
}

using ZooBack = convert<ZooCl, ChannelFirstModifier{}>;
TEST_CASE("the zoo net back to channel-first keeps every value") {
    auto store = test::prepare<Zoo, ZooBack>();
    CHECK(test::compare<Zoo, ZooBack>(store) < tol);
}

// Two inputs, two outputs (upstream's small_multiple_inputs_outputs_resnet): both inputs converted
// by default, both heads' Affines re-ordered; only "z" converted: x's branch stays NCHW until the merge,
// where it is permuted.
using Multi = network<ref::small_multiple_inputs_outputs_resnet<true, false>>;
using MultiCl = convert<Multi, ChannelLastModifier{}>;
using MultiZ = convert<Multi, ChannelLastModifier{{"z"}}>;
static_assert(MultiCl::graph.num_outputs() == 2 && MultiCl::graph.count(op_kind::transpose) == 0);
static_assert(MultiCl::graph.find(op_kind::parameter, "fc0/affine/W_cl") >= 0 &&
              MultiCl::graph.find(op_kind::parameter, "fc1/affine/W_cl") >= 0);
static_assert(MultiZ::graph.count(op_kind::transpose) == 1);
static_assert(MultiZ::graph.nodes[std::size_t(MultiZ::graph.find(op_kind::input, "x"))].shape ==
              shape_t{1, 3, 32, 32});
TEST_CASE("ChannelLast on the two-input, two-output net (all inputs, and one input only)") {
    auto store = test::prepare<Multi, MultiCl>();
    CHECK(compare_layouts<Multi, MultiCl>(store) < tol);
    apply_conversion<MultiZ>(store);
    CHECK(compare_layouts<Multi, MultiZ>(store) < tol);
}

// Converting twice changes nothing (the second pass finds every input already channel-last).
static_assert(same_structure(convert<Cl<2>, ChannelLastModifier{{"x"}}>::graph, Cl<2>::graph));
static_assert(convert<Cl<2>, ChannelLastModifier{{"x"}}>::derivations.size() == Cl<2>::derivations.size());
static_assert(same_structure(convert<Cf<2>, ChannelFirstModifier{}>::graph, Cf<2>::graph));

// A modifier value is reusable: two conversions with one value give the same graph (upstream's
// inputs_cl is replaced by unconnected variables after the first conversion, docs/nnabla-semantics.md §10.7).
constexpr ChannelLastModifier shared_cl{{"x"}};
static_assert(same_structure(convert<Bn<2>, shared_cl>::graph, convert<Bn<2>, shared_cl>::graph));
static_assert(same_structure(convert<Bn<3>, shared_cl>::graph, Cl<3>::graph));

}  // namespace
