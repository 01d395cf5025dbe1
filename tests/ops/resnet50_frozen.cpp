// ResNet-50 through the frozen executor (direct NHWC convolutions on packed weights, bias / residual
// Add2 / ReLU fused into the convolution epilogues by kata::FuseConvolutionEpilogueModifier): the
// BN-folded channel-last fused network that bench/resnet50_cpu.cpp times, against PyTorch's float64 logits of the original network
// (tests/fixtures/resnet50/reference.npz; normwise relative error < 1e-4 and the same top-5), with
// the AVX-512 micro-kernel (where the CPU has it) and with the portable one.
// One copy of the weights (issue #17 point 4): the deploy path that drops the parameters the
// conversion replaced and lets the frozen executor consume the ones it packed gives the same logits,
// bit for bit, as the path that keeps every copy, and leaves in the store only what the running
// graph still reads (counted here from the converted graph, independently of the executor's lists).
#include <doctest/doctest.h>

#include <kata/converters.hpp>
#include <kata/converters/apply_conversion.hpp>
#include <kata/cpu.hpp>

#include <set>
#include <string>
#include <string_view>

#include "../../examples/models/resnet50.hpp"
#include "../../examples/models/synthetic_weights.hpp"
#include "../support/resnet50_reference.hpp"

using namespace kata;

using ResNet50 = network<models::resnet50_net<1>>;
using Inference = convert<ResNet50, BatchNormalizationFoldingModifier{}, ChannelLastModifier{},
                          FuseConvolutionEpilogueModifier{}>;
using Frozen = cpu::frozen_executor<Inference>;

// Every convolution takes the fast path; 49 ReLUs and 16 residual Add2s are absorbed (the stem's
// and every bottleneck's ReLUs: 1 + 16 * 3 = 49), so the graph runs 53 convolutions (49 fused, the 4
// last 1x1 convolutions of the down-sampling blocks plain: they are the residual of their block's
// projection shortcut, which runs after them and absorbs the Add2), one max pooling, one average
// pooling and the Affine.
static_assert(Frozen::num_prepared == 53);
static_assert(fused_epilogues(Inference::graph).fused == 49 &&
              Inference::graph.count(op_kind::convolution) == 4);
static_assert(fused_epilogues(Inference::graph).relus == 49 &&
              fused_epilogues(Inference::graph).residuals == 16);
static_assert(Inference::graph.count(op_kind::relu) == 0 && Inference::graph.count(op_kind::add2) == 0);
static_assert(Inference::graph.num_functions() == 53 + 3);

TEST_CASE("ResNet-50 (BN folded, NHWC) in a frozen executor matches PyTorch within 1e-4") {
    auto ref = kata::test::load_fixture("resnet50/reference.npz");
    parameter_store store;
    models::synthetic_parameters<ResNet50>(store);
    apply_conversion<Inference>(store);
    xt::xarray<float> x = xt::zeros<float>({1, 3, 224, 224});
    models::synthetic_input("x", x.data(), x.size());
    xt::xarray<float> x_nhwc = xt::transpose(x, {0, 2, 3, 1});
    for (bool generic : {false, true}) {
        INFO("portable micro-kernel: " << generic);
        cpu::simd::force_generic(generic);
        Frozen run(store);
        auto y = run(x_nhwc);
        kata::test::check_resnet50_logits(y.data(), y.size(), ref);
        run(x_nhwc);  // again: the fused buffers are recomputed, nothing stale
        kata::test::check_resnet50_logits(run.output<0>().data(), y.size(), ref);
    }
    cpu::simd::force_generic(false);
}

namespace {

// Names of the parameters a reachable function of the converted graph reads, and of those only
// (fused) convolutions read as their weight or bias (what a frozen executor packs).
std::set<std::string> read_by_inference(bool packed_only) {
    constexpr const auto& g = Inference::graph;
    std::set<std::string> names;
    for (std::size_t i = 0; i < g.size(); ++i) {
        if (g.nodes[i].op != op_kind::parameter || g.num_consumers(int(i)) == 0) continue;
        bool packed = true;
        for (int c = 0; c < g.num_consumers(int(i)); ++c) {
            const int f = g.consumer(int(i), c);
            const op_kind k = g.nodes[std::size_t(f)].op;
            packed = packed && (k == op_kind::convolution || k == op_kind::fused_convolution) &&
                     (g.input_of(f, 1) == int(i) || g.input_of(f, 2) == int(i));
        }
        if (packed || !packed_only) names.insert(std::string(g.nodes[i].name.view()));
    }
    return names;
}

std::set<std::string> names_of(const parameter_store& store) {
    std::set<std::string> names;
    for (const auto& [name, p] : store.get_parameters(false)) names.insert(name);
    return names;
}

}  // namespace

TEST_CASE("ResNet-50 deployed with one copy of the weights: dropped and consumed parameters, same logits") {
    parameter_store kept;
    models::synthetic_parameters<ResNet50>(kept);
    parameter_store one = kept;  // the same trained values
    apply_conversion<Inference>(kept);
    apply_conversion<Inference>(one, replaced_parameters::drop);

    // After the dropping conversion the store holds exactly what the converted graph reads, with the
    // values the keeping conversion computed; the trained parameters are gone from it.
    const std::set<std::string> read = read_by_inference(false), packed = read_by_inference(true);
    REQUIRE(names_of(one) == read);
    CHECK(kept.size() > one.size() + 300);  // trained W, b, BN statistics and the NCHW w-folded
    CHECK(kept.contains("layer2/0/downsample/bn/mean"));
    CHECK_FALSE(one.contains("layer2/0/downsample/bn/mean"));
    CHECK_FALSE(one.contains("layer2/0/conv2/conv/W"));
    for (const auto& [name, p] : one.get_parameters(false)) {
        INFO(name);
        CHECK(!p->has_grad());  // derived inference parameters get no gradient buffer
        kata::test::check_equal(p->data, kept.at(name).data);
    }
    // drop_replaced_parameters after a keeping conversion leaves the same set.
    parameter_store later = kept;
    CHECK(drop_replaced_parameters<Inference>(later) == kept.size() - read.size());
    CHECK(names_of(later) == read);

    // The executor packs every convolution's W and b: those are the parameters it can release.
    static_assert(Frozen::num_bind_time_only == 2 * 53);
    REQUIRE(packed.size() == 2 * 53);
    xt::xarray<float> x = xt::zeros<float>({1, 224, 224, 3});
    models::synthetic_input("x", x.data(), x.size());
    Frozen all(kept);
    const xt::xarray<float> want = all(x);
    Frozen consumed(one, cpu::consume_parameters);
    std::set<std::string> left = read;
    for (const auto& n : packed) left.erase(n);
    CHECK(names_of(one) == left);  // the Affine's W and b: read at every call
    CHECK(left == std::set<std::string>{"fc/affine/W_cl", "fc/affine/b"});
    kata::test::check_equal(consumed(x), want);
    kata::test::check_equal(consumed(x), want);  // again: nothing read from the erased parameters
    // A new bind() needs the packed parameters again; a failed bind leaves the executor as it was.
    CHECK_THROWS_AS(consumed.bind(one), exec::binding_error);
    kata::test::check_equal(consumed(x), want);

    // Releasing after construction does the same.
    Frozen after(later);
    CHECK(after.release_prepared_parameters(later) == 2 * 53);
    CHECK(after.release_prepared_parameters(later) == 0);  // nothing left to release
    CHECK(names_of(later) == left);
    kata::test::check_equal(after(x), want);
}
