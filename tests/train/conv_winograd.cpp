// Winograd F(2x2, 3x3) for channel-first 3x3 stride-1 convolutions (kata/cpu/kernels/conv_cf_winograd.hpp):
// forward, data gradient (a forward of dy with flipped weights) and filter gradient of whole training graphs against
// PyTorch autograd in float64 (fixtures conv_winograd, conv_winograd_blocks by
// tools/fixtures/make_backward_fixtures.py), with the tolerance of the other backward tests
// (|error| <= 1e-4 max|reference| + 1e-6); the kernel alone against a float64 direct convolution on odd
// shapes (channels not multiples of 4 or 8, odd output sizes, pad 0 / 1 / 2 / asymmetric, bias, one and
// several blocks of tile vectors), the filter gradient alone against a float64 sum, with the same
// tolerance, and the layers' selection of the path.
#include "backward_support.hpp"

#include <kata/cpu.hpp>
#include <kata/parameters.hpp>
#include <kata/train/backward.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

using namespace kata;
using kata::test::backward_fixture;
using kata::test::check_close;
using kata::test::check_step_against_fixture;

namespace {

namespace cd = kata::cpu::detail;

// A channel-first 2-D 3x3 stride-1 group-1 convolution: batch B, C -> O channels, H x W input, padding.
constexpr cd::geometry geo(std::int64_t B, std::int64_t C, std::int64_t O, std::int64_t H, std::int64_t W,
                           std::int64_t ph, std::int64_t pw) {
    cd::geometry g;
    g.B = B;
    g.C = g.Cg = C;
    g.O = g.Og = O;
    g.in[1] = H;
    g.in[2] = W;
    g.out[1] = H + 2 * ph - 2;
    g.out[2] = W + 2 * pw - 2;
    g.k[1] = g.k[2] = 3;
    g.pad[1] = ph;
    g.pad[2] = pw;
    g.in_sp = H * W;
    g.out_sp = g.out[1] * g.out[2];
    g.taps = 9;
    return g;
}

// kata's forward of geometry g (the Winograd path where cf_winograd<g>()) against a float64 direct
// convolution of the same float32 data.
template <cd::geometry g>
void check_forward(bool bias, const char* what) {
    std::mt19937 rng(20261204);
    std::normal_distribution<float> nd(0.f, 1.f);
    std::vector<float> x(std::size_t(g.B * g.C * g.in_sp)), w(std::size_t(g.O * g.C * 9)),
        b(std::size_t(g.O));
    for (float& v : x) v = nd(rng);
    for (float& v : w) v = nd(rng) * 0.2f;
    for (float& v : b) v = nd(rng);
    std::vector<float> y(std::size_t(g.B * g.O * g.out_sp), -7.f);
    std::vector<std::byte> ws(cd::conv_workspace<g>() + 64);
    cd::conv_forward<g>(x.data(), w.data(), bias ? b.data() : nullptr, y.data(), ws.data());
    // a second call on the same workspace: the padded copies' zeros are rewritten per call
    std::vector<float> y2(y.size(), 3.f);
    cd::conv_forward<g>(x.data(), w.data(), bias ? b.data() : nullptr, y2.data(), ws.data());
    CHECK_MESSAGE(y == y2, what << ": a second call differs");
    xt::xarray<float> got = xt::zeros<float>({y.size()}), want = xt::zeros<float>({y.size()});
    const std::int64_t IH = g.in[1], IW = g.in[2], OH = g.out[1], OW = g.out[2];
    for (std::int64_t n = 0; n < g.B; ++n)
        for (std::int64_t o = 0; o < g.O; ++o)
            for (std::int64_t oh = 0; oh < OH; ++oh)
                for (std::int64_t ow = 0; ow < OW; ++ow) {
                    double s = bias ? double(b[std::size_t(o)]) : 0.0;
                    for (std::int64_t c = 0; c < g.C; ++c)
                        for (std::int64_t kh = 0; kh < 3; ++kh)
                            for (std::int64_t kw = 0; kw < 3; ++kw) {
                                const std::int64_t ih = oh - g.pad[1] + kh, iw = ow - g.pad[2] + kw;
                                if (ih < 0 || ih >= IH || iw < 0 || iw >= IW) continue;
                                s += double(w[std::size_t(((o * g.C + c) * 3 + kh) * 3 + kw)]) *
                                     double(x[std::size_t(((n * g.C + c) * IH + ih) * IW + iw)]);
                            }
                    const std::size_t i = std::size_t(((n * g.O + o) * OH + oh) * OW + ow);
                    want(i) = float(s);
                    got(i) = y[i];
                }
    check_close(got, want, what);
}

// The Winograd filter gradient of geometry g (kata/cpu/kernels/conv_cf_winograd.hpp's functions, with
// the item slots of kernels/gradient.hpp) against a float64 sum over the same float32 data.
template <cd::geometry g>
void check_filter_grad(const char* what) {
#if KATA_CPU_X86
    if (!kata::cpu::simd::use_avx2_fma()) return;
    constexpr cd::wino::shape q = cd::cf_winograd_shape<g>();
    std::mt19937 rng(20261205);
    std::normal_distribution<float> nd(0.f, 1.f);
    std::vector<float> x(std::size_t(g.B * g.C * g.in_sp)), dy(std::size_t(g.B * g.O * g.out_sp));
    for (float& v : x) v = nd(rng);
    for (float& v : dy) v = nd(rng);
    constexpr std::int64_t S = cd::item_slots<g>();
    std::vector<float> parts(std::size_t(S * q.partial_floats()), 5.f), dw(std::size_t(g.O * g.C * 9), -1.f);
    std::vector<float> scratch(std::size_t(q.fg_scratch_floats()), 9.f);
    for (std::int64_t s = 0; s < S; ++s) {
        const std::int64_t b0 = g.B * s / S, b1 = g.B * (s + 1) / S;
        cd::wino::filter_grad_items<q>(x.data() + b0 * g.C * g.in_sp, g.C * g.in_sp,
                                       dy.data() + b0 * g.O * g.out_sp, g.O * g.out_sp, b1 - b0,
                                       scratch.data(), parts.data() + s * q.partial_floats());
    }
    cd::wino::filter_grad_finish<q>(parts.data(), S, dw.data());
    xt::xarray<float> got = xt::zeros<float>({dw.size()}), want = xt::zeros<float>({dw.size()});
    const std::int64_t IH = g.in[1], IW = g.in[2], OH = g.out[1], OW = g.out[2];
    for (std::int64_t o = 0; o < g.O; ++o)
        for (std::int64_t c = 0; c < g.C; ++c)
            for (std::int64_t kh = 0; kh < 3; ++kh)
                for (std::int64_t kw = 0; kw < 3; ++kw) {
                    double s = 0;
                    for (std::int64_t n = 0; n < g.B; ++n)
                        for (std::int64_t oh = 0; oh < OH; ++oh)
                            for (std::int64_t ow = 0; ow < OW; ++ow) {
                                const std::int64_t ih = oh - g.pad[1] + kh, iw = ow - g.pad[2] + kw;
                                if (ih < 0 || ih >= IH || iw < 0 || iw >= IW) continue;
                                s += double(dy[std::size_t(((n * g.O + o) * OH + oh) * OW + ow)]) *
                                     double(x[std::size_t(((n * g.C + c) * IH + ih) * IW + iw)]);
                            }
                    const std::size_t i = std::size_t(((o * g.C + c) * 3 + kh) * 3 + kw);
                    want(i) = float(s);
                    got(i) = dw[i];
                }
    check_close(got, want, what);
#else
    (void)what;
#endif
}

}  // namespace

TEST_CASE("winograd: which channel-first convolutions take the Winograd path") {
    // on x86 unless the program opts out (then the same tests below check the direct kernels)
    constexpr bool on = KATA_CPU_X86 && KATA_CPU_WINOGRAD;
    // ResNet-20's 3x3 stride-1 layers and their data gradients
    static_assert(cd::cf_winograd<geo(64, 16, 16, 32, 32, 1, 1)>() == on);
    static_assert(cd::cf_winograd<geo(64, 64, 64, 8, 8, 1, 1)>() == on);
    // the stem (3 input channels), batch 1 (no item slots), 7 output channels: not
    static_assert(!cd::cf_winograd<geo(64, 3, 16, 32, 32, 1, 1)>());
    static_assert(!cd::cf_winograd<geo(1, 16, 16, 32, 32, 1, 1)>());
    static_assert(!cd::cf_winograd<geo(4, 16, 7, 32, 32, 1, 1)>());
    // a stride-2 layer: not
    constexpr cd::geometry s2 = [] {
        cd::geometry g = geo(64, 16, 32, 32, 32, 1, 1);
        g.stride[1] = g.stride[2] = 2;
        g.out[1] = g.out[2] = 16;
        g.out_sp = 256;
        return g;
    }();
    static_assert(!cd::cf_winograd<s2>());
    // the fixtures' layers below
    static_assert(cd::cf_winograd<geo(5, 9, 11, 7, 9, 1, 1)>() == on);
    static_assert(cd::cf_winograd<geo(5, 11, 9, 7, 9, 1, 1)>() == on);   // its data gradient
    static_assert(cd::cf_winograd<geo(5, 13, 11, 5, 7, 2, 2)>() == on);  // c2's, pad 2
    static_assert(cd::cf_winograd<geo(3, 20, 20, 12, 16, 2, 2)>() == on);
    // several blocks of tile vectors: 14x18 outputs, 11 vectors in blocks of 3
    static_assert(cd::cf_winograd_shape<geo(3, 20, 16, 12, 16, 2, 2)>().vecs() == 11);
    static_assert(cd::cf_winograd_shape<geo(3, 20, 16, 12, 16, 2, 2)>().block_vecs() == 3);
    static_assert(cd::cf_winograd_shape<geo(5, 10, 8, 5, 5, 1, 1)>().quads() % 2 == 1);
}

TEST_CASE("winograd: the forward kernel against a float64 direct convolution on odd shapes") {
    check_forward<geo(5, 9, 11, 7, 9, 1, 1)>(true, "9 -> 11, 7x9, pad 1, bias");
    check_forward<geo(5, 11, 13, 7, 9, 0, 0)>(false, "11 -> 13, 7x9, pad 0");
    check_forward<geo(3, 13, 10, 5, 7, 2, 2)>(true, "13 -> 10, 5x7, pad 2");
    check_forward<geo(2, 10, 8, 5, 5, 1, 0)>(false, "10 -> 8, 5x5, pad (1, 0)");
    check_forward<geo(3, 20, 16, 12, 16, 2, 2)>(true, "20 -> 16, 12x16, pad 2 (two blocks)");
    check_forward<geo(4, 16, 16, 32, 32, 1, 1)>(false, "16 -> 16, 32x32 (ResNet-20's first stage)");
    check_forward<geo(3, 64, 64, 8, 8, 1, 1)>(true, "64 -> 64, 8x8 (its last stage)");
    check_forward<geo(2, 8, 9, 3, 3, 0, 0)>(false, "8 -> 9, 3x3 input, one output");
    check_forward<geo(2, 8, 8, 2, 2, 1, 1)>(false, "8 -> 8, 2x2");
}

TEST_CASE("winograd: the filter gradient against a float64 sum on odd shapes") {
    // blocks of several items (7x9 outputs: 4 vectors per item), dy zero-padded (odd sizes)
    check_filter_grad<geo(5, 9, 11, 7, 9, 1, 1)>("9 -> 11, 7x9, pad 1");
    check_filter_grad<geo(5, 11, 13, 7, 9, 0, 0)>("11 -> 13, 5x7 outputs, pad 0");
    check_filter_grad<geo(3, 13, 10, 5, 7, 2, 2)>("13 -> 10, 7x9 outputs, pad 2");
    check_filter_grad<geo(2, 10, 8, 5, 5, 1, 0)>("10 -> 8, pad (1, 0), an odd count of quads");
    // dy read in place (even OH, OW a multiple of 8); one item split into blocks (32 vectors, blocks of 16)
    static_assert(!cd::cf_winograd_shape<geo(2, 16, 16, 32, 32, 1, 1)>().dy_padded());
    static_assert(cd::cf_winograd_shape<geo(2, 16, 16, 32, 32, 1, 1)>().fg_items() == 1);
    static_assert(cd::cf_winograd_shape<geo(2, 16, 16, 32, 32, 1, 1)>().fg_block_vecs() == 16);
    check_filter_grad<geo(3, 16, 16, 32, 32, 1, 1)>("16 -> 16, 32x32 (ResNet-20's first stage)");
    check_filter_grad<geo(5, 64, 64, 8, 8, 1, 1)>("64 -> 64, 8x8 (4 items per block)");
    check_filter_grad<geo(4, 20, 16, 12, 16, 2, 2)>("20 -> 16, 14x18 outputs, pad 2");
}

// The networks of make_backward_fixtures.py's conv_winograd cases, op for op: every convolution (and the
// data gradient of each, as x is a parameter) takes the Winograd path.
constexpr var conv_winograd(builder& g) {
    auto x = g.parameter("x", {5, 9, 7, 9});
    auto h = F::tanh(
        F::convolution(x, g.parameter("c1/W", {11, 9, 3, 3}), g.parameter("c1/b", {11}), {.pad = {1, 1}}));
    h = F::tanh(F::convolution(h, g.parameter("c2/W", {13, 11, 3, 3}), none));
    h = F::tanh(F::convolution(h, g.parameter("c3/W", {10, 13, 3, 3}), none, {.pad = {1, 0}}));
    h = F::tanh(F::convolution(h, g.parameter("c4/W", {8, 10, 3, 3}), none, {.pad = {1, 1}}));
    return F::sum(h * g.input("r", {5, 8, 5, 5}));
}

constexpr var conv_winograd_blocks(builder& g) {
    auto x = g.parameter("x", {3, 20, 14, 18});
    auto h = F::tanh(F::convolution(x, g.parameter("c1/W", {20, 20, 3, 3}), none));
    h = F::tanh(
        F::convolution(h, g.parameter("c2/W", {16, 20, 3, 3}), g.parameter("c2/b", {16}), {.pad = {2, 2}}));
    return F::sum(h * g.input("r", {3, 16, 14, 18}));
}

TEST_CASE("winograd: gradients of a chain of odd-shaped 3x3 convolutions against PyTorch") {
    using Train = train::training_graph<network<conv_winograd>>;
    static_assert(Train::graph.count(op_kind::convolution_data_grad) == 4);
    backward_fixture f("conv_winograd");
    parameter_store store;
    f.load_parameters(store);
    train::cpu_executor<Train> step(store);
    step.execute(f.f32("input:r"));
    check_step_against_fixture(step, store, f, "conv_winograd");
}

TEST_CASE("winograd: gradients over several blocks of tiles against PyTorch") {
    using Train = train::training_graph<network<conv_winograd_blocks>>;
    backward_fixture f("conv_winograd_blocks");
    parameter_store store;
    f.load_parameters(store);
    train::cpu_executor<Train> step(store);
    step.execute(f.f32("input:r"));
    check_step_against_fixture(step, store, f, "conv_winograd_blocks");
}
