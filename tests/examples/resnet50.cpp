// ResNet-50 end to end (issue 2, point 5): the full-size network at batch 1 with synthetic weights
// and non-trivial batch-norm statistics, against PyTorch (float64) reference logits produced by
// tools/fixtures/resnet50_reference.py from the same synthetic generator.
#include <doctest/doctest.h>

#include <kata/cpu.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "../../examples/models/resnet50.hpp"
#include "../../examples/models/synthetic_weights.hpp"
#include "../support/resnet50_reference.hpp"

using ResNet50 = kata::network<kata::models::resnet50_net<1>>;

TEST_CASE("ResNet-50 structure matches torchvision's resnet50") {
    constexpr const auto& g = ResNet50::graph;
    static_assert(g.count(kata::op_kind::convolution) == 53);
    static_assert(g.count(kata::op_kind::batch_normalization) == 53);
    static_assert(g.count(kata::op_kind::add2) == 16);
    static_assert(g.count(kata::op_kind::affine) == 1);
    static_assert(g.nodes[g.outputs[0]].shape == kata::shape_t{1, 1000});
    // 25,557,032 parameters in torchvision's resnet50 (weights + biases + BN affine), plus the
    // running statistics (2 x 26,560) that nnabla stores as parameters.
    std::int64_t n = 0;
    for (const auto& nd : g.nodes)
        if (nd.op == kata::op_kind::parameter) n += nd.shape.numel();
    CHECK(n == 25557032 + 2 * 26560);
}

TEST_CASE("ResNet-50 forward matches PyTorch within 1e-4 relative error") {
    auto ref = kata::test::load_fixture("resnet50/reference.npz");
    kata::parameter_store store;
    kata::models::synthetic_parameters<ResNet50>(store);
    xt::xarray<float> x = xt::zeros<float>({1, 3, 224, 224});
    kata::models::synthetic_input("x", x.data(), x.size());
    CHECK(std::abs(xt::sum(xt::cast<double>(x))() - ref["x_sum"](0)) < 1e-6 * x.size());

    kata::cpu::executor<ResNet50> run(store);
    auto y = run(x);
    kata::test::check_resnet50_logits(y.data(), y.size(), ref);
    // Element-wise too, relative to each logit's own size with an absolute floor of 1e-5 * max.
    const auto& want = ref["logits"];
    const double max_ref = double(xt::amax(xt::abs(want))());
    for (std::size_t i = 0; i < y.size(); ++i)
        CHECK(std::abs(y.data()[i] - want.data()[i]) <= 1e-4 * std::abs(want.data()[i]) + 1e-5 * max_ref);

    // A second call reuses the planned buffers and gives the same result.
    xt::xarray<float> first = y;
    auto y2 = run(x);
    CHECK(xt::all(xt::equal(first, y2)));
}
