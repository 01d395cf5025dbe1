// MaxPoolingGrad of channel-first maps against its closed form (nnabla's arg-max rule): each output's
// gradient goes to the first maximum of its window in row-major order (the window's first element, then
// only strictly greater ones: a NaN first element keeps the gradient, a later NaN never takes it), the
// other inputs get 0, and so do the rows and columns that no window covers (ignore_border). The shapes
// exercise the non-overlapping-window kernel (kernel == stride, no padding; kernels/gradient.hpp) with
// uncovered rows and columns, its split of the planes over kata's pool (>= 64K values), and the generic
// walk (overlapping windows) on the same data.
#include <doctest/doctest.h>

#include <kata/cpu.hpp>
#include <kata/parameters.hpp>
#include <kata/train/backward.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

using namespace kata;

namespace {

template <std::int64_t N, std::int64_t C, std::int64_t H, std::int64_t W, std::int64_t K, std::int64_t S>
struct pool_case {
    static constexpr std::int64_t OH = (H - K) / S + 1, OW = (W - K) / S + 1;
    static constexpr var net(builder& g) {
        auto x = g.parameter("x", {N, C, H, W});
        auto y = F::max_pooling(x, {K, K}, {.stride = {S, S}});
        return F::sum(y * g.input("r", {N, C, OH, OW}));
    }
};

// x values with ties (few distinct values) and NaNs at chosen places; r: distinct upstream gradients.
template <class Case, std::int64_t N, std::int64_t C, std::int64_t H, std::int64_t W, std::int64_t K,
          std::int64_t S>
void check_case() {
    using Train = train::training_graph<network<Case::net>>;
    parameter_store store;
    create_parameters<network<Case::net>>(store);
    xt::xarray<float>& x = store.find("x")->data;
    const float nan = std::numeric_limits<float>::quiet_NaN();
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = float(int((i * 7) % 5) - 2);  // -2..2, ties
    x.data()[0] = nan;                   // first element of the first window: keeps its gradient
    x.data()[std::size_t(W + 1)] = nan;  // a later element of a window: never the arg-max
    constexpr std::int64_t OH = Case::OH, OW = Case::OW;
    xt::xarray<float> r =
        xt::zeros<float>({std::size_t(N), std::size_t(C), std::size_t(OH), std::size_t(OW)});
    for (std::size_t i = 0; i < r.size(); ++i) r.data()[i] = 0.5f + float(i % 97);
    auto step = std::make_unique<train::cpu_executor<Train>>(store);
    step->execute(r);
    const xt::xarray<float>& dx = store.find("x")->grad();

    std::vector<float> want(x.size(), 0.0f);
    for (std::int64_t p = 0; p < N * C; ++p)
        for (std::int64_t oh = 0; oh < OH; ++oh)
            for (std::int64_t ow = 0; ow < OW; ++ow) {
                std::int64_t at = -1;
                float best = 0;
                for (std::int64_t i = 0; i < K; ++i)
                    for (std::int64_t j = 0; j < K; ++j) {
                        const std::int64_t off = (p * H + oh * S + i) * W + ow * S + j;
                        if (at < 0 || x.data()[off] > best) {
                            best = x.data()[off];
                            at = off;
                        }
                    }
                want[std::size_t(at)] += r.data()[(p * OH + oh) * OW + ow];
            }
    std::int64_t wrong = 0;
    for (std::size_t i = 0; i < want.size(); ++i) wrong += dx.data()[i] != want[i];
    CHECK_MESSAGE(wrong == 0, wrong << " of " << want.size() << " gradient values differ");
}

}  // namespace

TEST_CASE("MaxPoolingGrad: non-overlapping windows with uncovered rows and columns, ties and NaN") {
    using small = pool_case<2, 3, 7, 9, 2, 2>;  // rows 6 and columns 8 covered by no window
    check_case<small, 2, 3, 7, 9, 2, 2>();
    using k3 = pool_case<3, 2, 10, 8, 3, 3>;  // 3x3 windows: row 9, columns 6 and 7 uncovered
    check_case<k3, 3, 2, 10, 8, 3, 3>();
}

TEST_CASE("MaxPoolingGrad: planes split over the pool (64K values and more), and overlapping windows") {
    using big = pool_case<64, 8, 13, 12, 2, 2>;  // 79872 values: the split path, row 12 uncovered
    check_case<big, 64, 8, 13, 12, 2, 2>();
    using overlap = pool_case<2, 3, 7, 9, 3, 2>;  // stride < kernel: the generic walk
    check_case<overlap, 2, 3, 7, 9, 3, 2>();
}
