// The frozen executor's fast path (kata/cpu/kernels/conv_nhwc.hpp): direct NHWC convolution on packed
// weights, with bias / residual Add2 / ReLU in the epilogue where kata::FuseConvolutionEpilogueModifier
// (kata/converters/fuse_convolution_epilogue.hpp) made FusedConvolution nodes of them.
//
// References, independent of the kernel under test:
//   * a naive convolution written here (double accumulation, straight from the definition), with
//     the residual and ReLU applied afterwards; tolerance from the float32 summation bound:
//     |y - ref| <= 1e-5 * sum_k |x_k w_k| + 1e-6 per element;
//   * the PyTorch fixtures conv1d_cl.npz and conv2d_cl_dilation_h.npz (dilation 3 along H)
//     (rtol = atol = 1e-5), as in convolution.cpp;
//   * the live executor (im2col + OpenBLAS, unfused) on the same nets.
// Shapes are odd on purpose: output channels not a multiple of 16 or 64 (masked tails), pixel counts
// not a multiple of the 6-pixel tile, C > 1024 (reduction split inside a tap), C * taps > 1024
// (several reduction chunks), taps entirely in the padding, stride / dilation / asymmetric pads,
// 1-D and 3-D, base_axis 2, an output above the non-temporal-store threshold (4 MiB), partial 16-column
// slices of the AVX2 kernel, one input channel (tiles, and the rows kernel for rows of >= 8 outputs). Every case runs with the CPU's micro-kernel (AVX-512,
// else AVX2 + FMA, where the CPU has them), with the AVX2 one (on AVX-512 CPUs too) and with the
// portable one.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <kata/converters.hpp>

#include "../support/fixtures.hpp"

using namespace kata;
namespace kt = kata::test;
using i64 = std::int64_t;

namespace {

// The kernel variants every case runs: 0 the CPU's best (AVX-512, else AVX2 + FMA), 1 at most AVX2 +
// FMA (the AVX2 kernels on AVX-512 CPUs too), 2 portable (kata/cpu/simd.hpp).
void set_variant(int v) {
    if (v == 2)
        cpu::simd::force_generic(true);
    else
        cpu::simd::force_avx2(v == 1);
}

// ---- nets -------------------------------------------------------------------------------------------
constexpr var conv_relu(builder& g) {  // 165 pixels (tail 3), 70 channels (tails 6 / 64+6)
    auto x = g.input("x", {3, 9, 11, 5}, layout::channel_last);
    return F::relu(
        F::convolution(x, g.parameter("W", {70, 3, 3, 5}), g.parameter("b", {70}),
                       {.pad = {1, 2}, .stride = {2, 1}, .dilation = {1, 2}, .channel_last = true}));
}
constexpr var stem_like(builder& g) {  // 7x7 / 2, C = 3, pad 3: merged kw runs, taps in the padding
    auto x = g.input("x", {2, 17, 15, 3}, layout::channel_last);
    return F::convolution(x, g.parameter("W", {64, 7, 7, 3}), g.parameter("b", {64}),
                          {.pad = {3, 3}, .stride = {2, 2}, .channel_last = true});
}
constexpr var big_pad(builder& g) {  // pad larger than the kernel reach: whole tiles of padding
    auto x = g.input("x", {1, 4, 5, 9}, layout::channel_last);
    return F::convolution(x, g.parameter("W", {17, 3, 2, 9}),
                          {.pad = {4, 3}, .stride = {1, 2}, .channel_last = true});
}
constexpr var wide_c(builder& g) {  // C = 1100 > 1024: one tap split over two reduction chunks
    auto x = g.input("x", {1, 3, 5, 1100}, layout::channel_last);
    return F::relu(F::convolution(x, g.parameter("W", {20, 1, 1, 1100}), g.parameter("b", {20}),
                                  {.channel_last = true}));
}
constexpr var many_chunks(builder& g) {  // 3x3, C = 300: taps * C = 2700 -> 3 chunks of 3 taps
    auto x = g.input("x", {1, 5, 4, 300}, layout::channel_last);
    return F::convolution(x, g.parameter("W", {33, 3, 3, 300}), g.parameter("b", {33}),
                          {.pad = {1, 1}, .channel_last = true});
}
constexpr var big_output(builder& g) {  // 4.7 MB output, O % 16 == 0: non-temporal stores
    auto x = g.input("x", {2, 64, 64, 8}, layout::channel_last);
    return F::relu(F::convolution(x, g.parameter("W", {144, 3, 3, 8}), g.parameter("b", {144}),
                                  {.pad = {1, 1}, .channel_last = true}));
}
constexpr var conv1d_cl_net(builder& g) {  // = convolution.cpp's conv1d_cl (PyTorch fixture)
    auto x = g.input("x", {3, 13, 5}, layout::channel_last);
    return F::convolution(x, g.parameter("W", {7, 3, 5}), g.parameter("b", {7}),
                          {.pad = {1}, .stride = {3}, .dilation = {2}, .channel_last = true});
}
constexpr var conv2d_cl_dilation_h_net(builder& g) {  // PyTorch fixture conv2d_cl_dilation_h
    auto x = g.input("x", {2, 13, 8, 6}, layout::channel_last);
    return F::convolution(x, g.parameter("W", {10, 3, 2, 6}), g.parameter("b", {10}),
                          {.pad = {2, 1}, .stride = {1, 2}, .dilation = {3, 1}, .channel_last = true});
}
constexpr var conv3d_base2(builder& g) {  // 3-D, base_axis 2 (two batch axes)
    auto x = g.input("x", {2, 2, 4, 5, 6, 7}, layout::channel_last);
    return F::relu(F::convolution(x, g.parameter("W", {19, 2, 3, 2, 7}), g.parameter("b", {19}),
                                  {.base_axis = 2,
                                   .pad = {1, 1, 0},
                                   .stride = {1, 2, 1},
                                   .dilation = {2, 1, 2},
                                   .channel_last = true}));
}
constexpr var narrow_s2(builder& g) {  // 3x3/2, O = 41: 16-column slices 16 + 16 + 9 (AVX2), C = 11
    auto x = g.input("x", {2, 9, 10, 11}, layout::channel_last);
    return F::relu(F::convolution(x, g.parameter("W", {41, 3, 3, 11}), g.parameter("b", {41}),
                                  {.pad = {1, 1}, .stride = {2, 2}, .channel_last = true}));
}
constexpr var lenet_first(builder& g) {  // LeNet's first layer at batch 3: C = 1, O = 6, 5x5, no pad
    auto x = g.input("x", {3, 12, 11, 1}, layout::channel_last);
    return F::convolution(x, g.parameter("W", {6, 5, 5, 1}), g.parameter("b", {6}), {.channel_last = true});
}
// One input channel, output rows >= 8 pixels: the rows kernel (params::rows). 8 x 9 outputs (a vector of 8
// and an overlapping last one), O = 6; then pad 2 (prepad), O = 11 (channel passes of 6 + 5), rows of 21
// (16 + 5), ReLU.
constexpr var rows_c1(builder& g) {
    auto x = g.input("x", {3, 12, 13, 1}, layout::channel_last);
    return F::convolution(x, g.parameter("W", {6, 5, 5, 1}), g.parameter("b", {6}), {.channel_last = true});
}
constexpr var rows_c1_pad(builder& g) {
    auto x = g.input("x", {2, 7, 21, 1}, layout::channel_last);
    return F::relu(F::convolution(x, g.parameter("W", {11, 5, 5, 1}), g.parameter("b", {11}),
                                  {.pad = {2, 2}, .channel_last = true}));
}
// Depthwise (group == C == O), channel-last: the packed depthwise path (frozen) and the workspace one
// (live), AVX2 + FMA and portable.
constexpr var dw_s1(builder& g) {  // 13 channels (8 + masked 5), interior of 7 pixels (4 + 3), batch 2,
                                   // residual + ReLU
    auto x = g.input("x", {2, 7, 9, 13}, layout::channel_last);
    return F::relu(F::convolution(x, g.parameter("W", {13, 3, 3, 1}), g.parameter("b", {13}),
                                  {.pad = {1, 1}, .group = 13, .channel_last = true}) +
                   x);
}
constexpr var dw_s2(builder& g) {  // stride 2, 20 channels (16 + masked 4)
    auto x = g.input("x", {1, 11, 12, 20}, layout::channel_last);
    return F::convolution(x, g.parameter("W", {20, 3, 3, 1}), g.parameter("b", {20}),
                          {.pad = {1, 1}, .stride = {2, 2}, .group = 20, .channel_last = true});
}
constexpr var dw_dilated(builder& g) {  // dilation 2, pad 2, no bias, C = 8 (no tail), batch 2
    auto x = g.input("x", {2, 6, 10, 8}, layout::channel_last);
    return F::convolution(x, g.parameter("W", {8, 3, 3, 1}),
                          {.pad = {2, 2}, .dilation = {2, 2}, .group = 8, .channel_last = true});
}
constexpr var dw_no_interior(builder& g) {  // 5x3 kernel, width 2 < 3: every pixel is a border pixel
    auto x = g.input("x", {3, 8, 2, 19}, layout::channel_last);
    return F::relu(F::convolution(x, g.parameter("W", {19, 5, 3, 1}), g.parameter("b", {19}),
                                  {.pad = {2, 1}, .stride = {1, 2}, .group = 19, .channel_last = true}));
}
// Residual block: relu(conv3x3(relu(conv1x1(x))) + x), residual = the graph input, operand 0 or 1.
template <bool ResidualFirst>
constexpr var residual_block(builder& g) {
    auto x = g.input("x", {2, 7, 6, 13}, layout::channel_last);
    auto h = F::relu(F::convolution(x, g.parameter("W1", {11, 1, 1, 13}), g.parameter("b1", {11}),
                                    {.channel_last = true}));
    h = F::convolution(h, g.parameter("W2", {13, 3, 3, 11}), {.pad = {1, 1}, .channel_last = true});
    return F::relu(ResidualFirst ? x + h : h + x);
}
// Down-sampling block: relu(conv1x1(conv3x3/2(x)) + conv1x1/2(x)): both Add2 operands are
// convolutions; the later one absorbs the Add2 with the earlier one as its residual.
constexpr var down_block(builder& g) {
    auto x = g.input("x", {1, 9, 9, 24}, layout::channel_last);
    auto h = F::relu(F::convolution(x, g.parameter("W1", {16, 3, 3, 24}), g.parameter("b1", {16}),
                                    {.pad = {1, 1}, .stride = {2, 2}, .channel_last = true}));
    h = F::convolution(h, g.parameter("W2", {80, 1, 1, 16}), g.parameter("b2", {80}), {.channel_last = true});
    auto d = F::convolution(x, g.parameter("W3", {80, 1, 1, 24}), g.parameter("b3", {80}),
                            {.stride = {2, 2}, .channel_last = true});
    return F::relu(h + d);
}
// Patterns that must not be fused: a convolution read twice, a convolution that is a graph output,
// an Add2 that broadcasts, a ReLU whose input is also a graph output.
constexpr void no_fusion(builder& g) {
    auto x = g.input("x", {1, 5, 5, 8}, layout::channel_last);
    auto c1 = F::convolution(x, g.parameter("W1", {8, 3, 3, 8}), {.pad = {1, 1}, .channel_last = true});
    auto r1 = F::relu(c1);
    auto m = F::mul_scalar(c1, 2.0);  // c1 read twice
    auto c2 = F::convolution(r1, g.parameter("W2", {8, 1, 1, 8}), {.channel_last = true});
    auto s = c2 + g.parameter("p", {1, 1, 1, 8});  // broadcasting Add2
    auto c3 = F::convolution(m, g.parameter("W3", {8, 1, 1, 8}), {.channel_last = true});
    g.output(F::relu(s));
    g.output(c3);  // graph output: its buffer stays its own
    g.output(F::relu(c3));
}

// ---- helpers ----------------------------------------------------------------------------------------
std::vector<std::size_t> dims(const shape_t& s) {
    std::vector<std::size_t> d;
    for (int i = 0; i < s.rank; ++i) d.push_back(std::size_t(s.dims[i]));
    return d;
}

// Fills every parameter of Net and returns a random input of its shape.
template <class Net>
xt::xarray<float> fill(parameter_store& store, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd(0.f, 1.f);
    constexpr auto& G = Net::graph;
    xt::xarray<float> x;
    for (std::size_t i = 0; i < G.size(); ++i) {
        const node& n = G.nodes[i];
        if (n.op != op_kind::parameter && n.op != op_kind::input) continue;
        xt::xarray<float> a = xt::zeros<float>(dims(n.shape));
        for (auto& v : a) v = nd(rng) * (n.op == op_kind::parameter ? 0.3f : 1.f);
        if (n.op == op_kind::input)
            x = a;
        else
            kt::set_param(store, n.name.view(), a);
    }
    return x;
}

// Naive channel-last convolution (any rank 1..3, base_axis >= 1) in double, with |terms| sums.
struct conv_ref {
    std::vector<double> y, mag;
};
conv_ref naive(const xt::xarray<float>& x, const xt::xarray<float>& w, const float* b, int base_axis, int nsp,
               const i64* pad, const i64* stride, const i64* dil, const shape_t& out) {
    const auto& xs = x.shape();
    i64 B = 1;
    for (int i = 0; i < base_axis; ++i) B *= i64(xs[std::size_t(i)]);
    const i64 C = i64(xs.back()), O = out.dims[out.rank - 1];
    i64 in[3] = {1, 1, 1}, on[3] = {1, 1, 1}, k[3] = {1, 1, 1}, p[3] = {0, 0, 0}, s[3] = {1, 1, 1},
        d[3] = {1, 1, 1};
    for (int i = 0; i < nsp; ++i) {
        const int j = 3 - nsp + i;
        in[j] = i64(xs[std::size_t(base_axis + i)]);
        on[j] = out.dims[base_axis + i];
        k[j] = i64(w.shape()[std::size_t(1 + i)]);
        p[j] = pad[i];
        s[j] = stride[i];
        d[j] = dil[i];
    }
    conv_ref r;
    const i64 M = B * on[0] * on[1] * on[2];
    r.y.assign(std::size_t(M * O), 0.0);
    r.mag.assign(std::size_t(M * O), 0.0);
    for (i64 bb = 0; bb < B; ++bb)
        for (i64 o0 = 0; o0 < on[0]; ++o0)
            for (i64 o1 = 0; o1 < on[1]; ++o1)
                for (i64 o2 = 0; o2 < on[2]; ++o2)
                    for (i64 o = 0; o < O; ++o) {
                        double acc = b ? double(b[o]) : 0.0, mag = b ? std::abs(double(b[o])) : 0.0;
                        for (i64 t0 = 0; t0 < k[0]; ++t0)
                            for (i64 t1 = 0; t1 < k[1]; ++t1)
                                for (i64 t2 = 0; t2 < k[2]; ++t2) {
                                    const i64 i0 = o0 * s[0] - p[0] + t0 * d[0],
                                              i1 = o1 * s[1] - p[1] + t1 * d[1],
                                              i2 = o2 * s[2] - p[2] + t2 * d[2];
                                    if (i0 < 0 || i0 >= in[0] || i1 < 0 || i1 >= in[1] || i2 < 0 ||
                                        i2 >= in[2])
                                        continue;
                                    const float* xp =
                                        x.data() + (((bb * in[0] + i0) * in[1] + i1) * in[2] + i2) * C;
                                    const float* wp =
                                        w.data() + (((o * k[0] + t0) * k[1] + t1) * k[2] + t2) * C;
                                    for (i64 c = 0; c < C; ++c) {
                                        const double v = double(xp[c]) * double(wp[c]);
                                        acc += v;
                                        mag += std::abs(v);
                                    }
                                }
                        const std::size_t at =
                            std::size_t((((bb * on[0] + o0) * on[1] + o1) * on[2] + o2) * O + o);
                        r.y[at] = acc;
                        r.mag[at] = mag;
                    }
    return r;
}

template <class Y>
void check_ref(const Y& y, const conv_ref& r, bool relu, const xt::xarray<float>* res = nullptr) {
    REQUIRE(std::size_t(y.size()) == r.y.size());
    std::size_t bad = 0, worst_i = 0;
    double worst = 0;
    for (std::size_t i = 0; i < r.y.size(); ++i) {
        double want = r.y[i] + (res ? double(res->data()[i]) : 0.0);
        double mag = r.mag[i] + (res ? std::abs(double(res->data()[i])) : 0.0);
        if (relu) want = want > 0 ? want : 0.0;
        const double err = std::abs(double(y.data()[i]) - want);
        if (err > 1e-5 * mag + 1e-6) ++bad;
        if (err > worst) {
            worst = err;
            worst_i = i;
        }
    }
    INFO("worst |kata - naive| = " << worst << " at flat index " << worst_i << " (naive " << r.y[worst_i]
                                   << ")");
    CHECK(bad == 0);
}

// The id of the first (fused) convolution of a graph in execution order.
template <auto const& G>
constexpr int first_conv() {
    for (int t = 0; t < G.num_order; ++t) {
        const op_kind k = G.nodes[std::size_t(G.order[t])].op;
        if (k == op_kind::convolution || k == op_kind::fused_convolution) return G.order[t];
    }
    return -1;
}

// One-convolution nets: the frozen executor on the fused graph against the naive reference (both
// micro-kernels), and against the live executor on the original graph; the frozen executor on the
// unfused graph (packed convolution, then a separate ReLU) agrees too.
template <class Net>
void check_single_conv(bool relu, unsigned seed) {
    constexpr auto& G = Net::graph;
    constexpr int cid = first_conv<G>();
    static_assert(cid >= 0);
    using Fused = convert<Net, FuseConvolutionEpilogueModifier{}>;
    constexpr auto& FG = Fused::graph;
    constexpr int fid = first_conv<FG>();
    using Frozen = cpu::frozen_executor<Fused>;
    static_assert(Frozen::prepared[fid], "the convolution takes the fast path");
    static_assert((FG.nodes[fid].attr.nonlinearity == nonlinearity_kind::relu) ==
                      (G.count(op_kind::relu) == 1),
                  "a trailing ReLU is absorbed");
    static_assert(FG.count(op_kind::relu) == 0);
    static_assert(cpu::frozen_executor<Net>::prepared[cid],
                  "unfused, the convolution takes the fast path too");
    parameter_store store;
    const xt::xarray<float> x = fill<Net>(store, seed);
    constexpr node cn = G.nodes[std::size_t(cid)];
    const xt::xarray<float>& w = store.find(G.input_node(cid, 1).name.view())->data;
    const float* b = cn.attr.has_bias ? store.find(G.input_node(cid, 2).name.view())->data.data() : nullptr;
    const conv_ref r = naive(x, w, b, cn.attr.base_axis, cn.attr.spatial_dims, cn.attr.pad, cn.attr.stride,
                             cn.attr.dilation, G.nodes[std::size_t(G.outputs[0])].shape);
    for (int variant : {0, 1, 2}) {
        INFO("variant (0 best, 1 AVX2 at most, 2 portable): " << variant);
        set_variant(variant);
        Frozen run(store);
        check_ref(run(x), r, relu);
        check_ref(run(x), r, relu);  // a second call: nothing stale
    }
    cpu::simd::force_generic(false);
    cpu::executor<Net> live(store);
    Frozen frozen(store);
    kt::check_close(frozen(x), xt::xarray<float>(live(x)), 1e-4, 1e-4);
    cpu::frozen_executor<Net> unfused(store);
    kt::check_equal(unfused(x), xt::xarray<float>(frozen(x)));
}

// Depthwise nets against the naive reference on the equivalent dense weight (W[o, taps, c] = w[o, taps]
// if c == o): the frozen executor (weights packed at bind time) on the graph as written and with the
// residual / ReLU fused into the convolution (the two agree bit for bit), and the live executor
// (weights packed into the workspace per call) on the graph as written; each with the CPU's best, the
// AVX2 and the portable variant. (The live executor runs a fused node as this convolution plus the
// element-wise pass that fuse_convolution_epilogue.cpp checks.)
template <class Net>
void check_depthwise(bool relu, bool residual, unsigned seed) {
    constexpr auto& G = Net::graph;
    constexpr int cid = first_conv<G>();
    static_assert(cid >= 0);
    static_assert(cpu::frozen_executor<Net>::prepared[cid], "the depthwise weights are packed at bind time");
    using Fused = convert<Net, FuseConvolutionEpilogueModifier{}>;
    constexpr auto& FG = Fused::graph;
    static_assert(cpu::frozen_executor<Fused>::prepared[first_conv<FG>()]);
    static_assert(FG.count(op_kind::relu) == 0 && FG.count(op_kind::add2) == 0, "ReLU and Add2 are absorbed");
    static_assert((FG.count(op_kind::fused_convolution) == 1) ==
                  (G.count(op_kind::relu) + G.count(op_kind::add2) > 0));
    parameter_store store;
    const xt::xarray<float> x = fill<Net>(store, seed);
    constexpr node cn = G.nodes[std::size_t(cid)];
    const xt::xarray<float>& w = store.find(G.input_node(cid, 1).name.view())->data;
    const float* b = cn.attr.has_bias ? store.find(G.input_node(cid, 2).name.view())->data.data() : nullptr;
    const std::size_t C = w.shape()[0], taps = w.size() / C;
    std::vector<std::size_t> dense_shape(w.shape().begin(), w.shape().end());
    dense_shape.back() = C;
    xt::xarray<float> dense = xt::zeros<float>(dense_shape);
    for (std::size_t o = 0; o < C; ++o)
        for (std::size_t t = 0; t < taps; ++t) dense.data()[(o * taps + t) * C + o] = w.data()[o * taps + t];
    const conv_ref r = naive(x, dense, b, cn.attr.base_axis, cn.attr.spatial_dims, cn.attr.pad,
                             cn.attr.stride, cn.attr.dilation, G.nodes[std::size_t(G.outputs[0])].shape);
    const xt::xarray<float>* res = residual ? &x : nullptr;
    for (int variant : {0, 1, 2}) {
        INFO("variant (0 best, 1 AVX2 at most, 2 portable): " << variant);
        set_variant(variant);
        cpu::frozen_executor<Net> frozen(store);
        check_ref(frozen(x), r, relu, res);
        cpu::frozen_executor<Fused> fused(store);
        check_ref(fused(x), r, relu, res);
        check_ref(fused(x), r, relu, res);
        kt::check_equal(fused(x), xt::xarray<float>(frozen(x)));
        cpu::executor<Net> live(store);
        check_ref(live(x), r, relu, res);
    }
    cpu::simd::force_generic(false);
}

}  // namespace

TEST_CASE("Frozen NHWC convolution: odd shapes, tails, stride/pad/dilation, fused ReLU") {
    check_single_conv<network<conv_relu>>(true, 1);
    check_single_conv<network<stem_like>>(false, 2);
    check_single_conv<network<big_pad>>(false, 3);
    check_single_conv<network<wide_c>>(true, 4);
    check_single_conv<network<many_chunks>>(false, 5);
    check_single_conv<network<conv3d_base2>>(true, 6);
    check_single_conv<network<conv1d_cl_net>>(false, 7);
    check_single_conv<network<big_output>>(true, 8);
    check_single_conv<network<narrow_s2>>(true, 9);
    check_single_conv<network<lenet_first>>(false, 10);
}

// The kernel the frozen executor picks for the first convolution of Net (kernels/conv_nhwc.hpp, decided
// at compile time from the op instance).
template <class Net>
constexpr const char* nhwc_path() {
    using Fused = convert<Net, FuseConvolutionEpilogueModifier{}>;
    return cpu::detail::path_name(
        cpu::detail::make_params(cpu::frozen_executor<Fused>::template instance<first_conv<Fused::graph>()>));
}
constexpr bool same(const char* a, const char* b) { return std::string_view(a) == std::string_view(b); }

TEST_CASE("Frozen NHWC convolution, one input channel: the rows kernel") {
    static_assert(same(nhwc_path<network<rows_c1>>(), "nhwc-rows"));
    static_assert(same(nhwc_path<network<rows_c1_pad>>(), "nhwc-rows"));
    static_assert(same(nhwc_path<network<lenet_first>>(), "nhwc"), "7 output columns: < 8, tiles");
    static_assert(same(nhwc_path<network<stem_like>>(), "nhwc-prepad"));
    check_single_conv<network<rows_c1>>(false, 15);
    check_single_conv<network<rows_c1_pad>>(true, 16);
}

TEST_CASE(
    "NHWC depthwise convolution: channel tails, stride 2, dilation, borders only, fused epilogue values") {
    check_depthwise<network<dw_s1>>(true, true, 11);
    check_depthwise<network<dw_s2>>(false, false, 12);
    check_depthwise<network<dw_dilated>>(false, false, 13);
    check_depthwise<network<dw_no_interior>>(true, false, 14);
}

TEST_CASE("Frozen NHWC convolution matches the PyTorch fixture conv1d_cl") {
    const kt::fixture fx = kt::load_fixture("ops/conv1d_cl.npz");
    parameter_store store;
    kt::set_param(store, "W", fx["W"]);
    kt::set_param(store, "b", fx["b"]);
    for (int variant : {0, 1, 2}) {
        set_variant(variant);
        cpu::frozen_executor<network<conv1d_cl_net>> run(store);
        const xt::xarray<float> x = fx["x"];
        kt::check_close(run(x), fx["y"], 1e-5, 1e-5);
    }
    cpu::simd::force_generic(false);
}

// Dilation along H (3, with 1 along W): the other cases dilate W or D only, so a kernel that ignored
// the dilation along H passed them all (issue 15; checked by planting that bug in make_params).
TEST_CASE("Frozen NHWC convolution with dilation along H matches the PyTorch fixture conv2d_cl_dilation_h") {
    const kt::fixture fx = kt::load_fixture("ops/conv2d_cl_dilation_h.npz");
    parameter_store store;
    kt::set_param(store, "W", fx["W"]);
    kt::set_param(store, "b", fx["b"]);
    using Net = network<conv2d_cl_dilation_h_net>;
    static_assert(cpu::frozen_executor<Net>::num_prepared == 1);  // the direct NHWC kernel runs it
    for (int variant : {0, 1, 2}) {
        INFO("variant (0 best, 1 AVX2 at most, 2 portable): " << variant);
        set_variant(variant);
        cpu::frozen_executor<Net> run(store);
        const xt::xarray<float> x = fx["x"];
        kt::check_close(run(x), fx["y"], 1e-5, 1e-5);
    }
    cpu::simd::force_generic(false);
}

// The fused graph on the frozen executor against the original graph on the live executor; the live
// executor runs the fused graph (generic FusedConvolution kernel: convolution, then the epilogue) with
// the unfused graph's values bit for bit.
template <class Net>
void check_block(unsigned seed) {
    using Fused = convert<Net, FuseConvolutionEpilogueModifier{}>;
    using Frozen = cpu::frozen_executor<Fused>;
    parameter_store store;
    const xt::xarray<float> x = fill<Net>(store, seed);
    cpu::executor<Net> live(store);
    const xt::xarray<float> want = live(x);
    cpu::executor<Fused> live_fused(store);
    kt::check_equal(live_fused(x), want);
    for (int variant : {0, 1, 2}) {
        INFO("variant (0 best, 1 AVX2 at most, 2 portable): " << variant);
        set_variant(variant);
        Frozen run(store);
        kt::check_close(run(x), want, 1e-5, 1e-5);
        kt::check_close(run(x), want, 1e-5, 1e-5);
    }
    cpu::simd::force_generic(false);
}

TEST_CASE("Frozen executor: residual Add2 + ReLU fused into the convolution epilogue") {
    using A = network<residual_block<false>>;
    using B = network<residual_block<true>>;
    using D = network<down_block>;
    using FA = convert<A, FuseConvolutionEpilogueModifier{}>;
    using FB = convert<B, FuseConvolutionEpilogueModifier{}>;
    using FD = convert<D, FuseConvolutionEpilogueModifier{}>;
    // absorbed Add2s + ReLUs of a fused graph, and what it has left of them
    constexpr auto absorbed = [](const auto& g) {
        const epilogue_census e = fused_epilogues(g);
        return e.residuals + e.relus;
    };
    constexpr auto left = [](const auto& g) { return g.count(op_kind::add2) + g.count(op_kind::relu); };
    // Both convolutions fast; the second absorbs Add2 (residual = the graph input) and ReLU, the
    // first its ReLU.
    static_assert(cpu::frozen_executor<FA>::num_prepared == 2 && absorbed(FA::graph) == 3 &&
                  left(FA::graph) == 0);
    static_assert(cpu::frozen_executor<FB>::num_prepared == 2 && absorbed(FB::graph) == 3 &&
                  left(FB::graph) == 0);
    static_assert(fused_epilogues(FA::graph).residuals == 1 && fused_epilogues(FB::graph).residuals == 1);
    // Three convolutions; the down-sampling one (run last) absorbs Add2 + ReLU, the 3x3 its ReLU, the
    // 1x1 after it (run before the down-sampling one: the residual) stays a Convolution.
    static_assert(cpu::frozen_executor<FD>::num_prepared == 3 && absorbed(FD::graph) == 3 &&
                  left(FD::graph) == 0);
    static_assert(FD::graph.count(op_kind::fused_convolution) == 2 &&
                  FD::graph.count(op_kind::convolution) == 1);
    // Live executors prepare (pack) nothing.
    static_assert(cpu::executor<FD>::num_prepared == 0);
    check_block<A>(11);
    check_block<B>(12);
    check_block<D>(13);
}

TEST_CASE("Frozen executor: no fusion across a shared, broadcast or output value") {
    using Net = network<no_fusion>;
    using Fused = convert<Net, FuseConvolutionEpilogueModifier{}>;
    using Frozen = cpu::frozen_executor<Fused>;
    // Three fast convolutions, no absorption: c1 is read twice, c2's Add2 broadcasts (its ReLU follows
    // the Add2, not c2), c3 is a graph output.
    static_assert(Frozen::num_prepared == 3);
    static_assert(Fused::graph.count(op_kind::fused_convolution) == 0 &&
                  Fused::graph.count(op_kind::convolution) == 3);
    static_assert(Fused::graph.count(op_kind::relu) == 3 && Fused::graph.count(op_kind::add2) == 1);
    parameter_store store;
    const xt::xarray<float> x = fill<Net>(store, 21);
    cpu::executor<Net> live(store);
    live(x);
    const xt::xarray<float> a0 = live.output<0>(), a1 = live.output<1>(), a2 = live.output<2>();
    Frozen run(store);
    run(x);
    kt::check_close(run.output<0>(), a0, 1e-5, 1e-5);
    kt::check_close(run.output<1>(), a1, 1e-5, 1e-5);
    kt::check_close(run.output<2>(), a2, 1e-5, 1e-5);
}

TEST_CASE("Frozen executor reads parameter values at bind(), not at every call") {
    using Net = network<conv_relu>;
    parameter_store store;
    const xt::xarray<float> x = fill<Net>(store, 31);
    cpu::frozen_executor<Net> run(store);
    const xt::xarray<float> y0 = run(x);
    parameter& w = *store.find("W");
    w.data *= 0.5f;
    parameter& b = *store.find("b");
    b.data *= 0.5f;
    kt::check_equal(run(x), y0);  // frozen: the old values
    run.bind(store);
    cpu::executor<Net> live(store);
    kt::check_close(run(x), xt::xarray<float>(live(x)), 1e-4, 1e-4);
    // relu(0.5 a) = 0.5 relu(a)
    kt::check_close(run(x), xt::xarray<float>(y0 * 0.5f), 1e-5, 1e-5);
}

// ---- grouped convolutions (1 < group, not depthwise): kernels/conv_grouped.hpp -----------------------
// PyTorch fixtures (tools/fixtures/make_op_fixtures.py, conv_nhwc_grouped_cases): y = conv(x) + b and
// y_res_relu = max(conv(x) + b + z, 0), the second through FuseConvolutionEpilogueModifier's fused node.
namespace {

struct grouped_case {
    i64 N, H, W, C, O, G, kh, kw, ph, pw, sh, sw, dh, dw;
    bool bias;
    constexpr i64 oh() const { return (H + 2 * ph - dh * (kh - 1) - 1) / sh + 1; }
    constexpr i64 ow() const { return (W + 2 * pw - dw * (kw - 1) - 1) / sw + 1; }
};
// = the fixtures' shapes (N, H, W, C, O, group, kernel, pad, stride, dilation, bias)
inline constexpr grouped_case grouped4{2, 9, 13, 24, 24, 6, 3, 3, 1, 1, 2, 2, 1, 1, true};
inline constexpr grouped_case grouped4_odd_g{1, 8, 9, 12, 12, 3, 3, 3, 2, 2, 1, 1, 2, 2, true};
inline constexpr grouped_case grouped_3to5{2, 7, 11, 9, 15, 3, 3, 2, 2, 1, 1, 2, 2, 1, false};
inline constexpr grouped_case grouped8_to20{1, 5, 5, 16, 40, 2, 3, 3, 2, 2, 1, 1, 2, 2, true};

template <grouped_case c, bool Res>
constexpr var grouped_net(builder& g) {
    auto x = g.input("x", {c.N, c.H, c.W, c.C}, layout::channel_last);
    var z = Res ? g.input("z", {c.N, c.oh(), c.ow(), c.O}, layout::channel_last) : none;
    const convolution_args a{.pad = {c.ph, c.pw},
                             .stride = {c.sh, c.sw},
                             .dilation = {c.dh, c.dw},
                             .group = c.G,
                             .channel_last = true};
    auto w = g.parameter("W", {c.O, c.kh, c.kw, c.C / c.G});
    var y = c.bias ? F::convolution(x, w, g.parameter("b", {c.O}), a) : F::convolution(x, w, a);
    return Res ? F::relu(y + z) : y;
}

template <class Fused>
constexpr const char* conv_path() {
    return cpu::conv_path_name<cpu::frozen_executor<Fused>::template instance<first_conv<Fused::graph>()>>();
}

template <grouped_case c>
void check_grouped_fixture(const char* file, const char* path) {
    using Plain = convert<network<grouped_net<c, false>>, FuseConvolutionEpilogueModifier{}>;
    using Fused = convert<network<grouped_net<c, true>>, FuseConvolutionEpilogueModifier{}>;
    // One node each (the Add2 and ReLU absorbed), packed at bind time, on the grouped kernel.
    static_assert(Fused::graph.count(op_kind::fused_convolution) == 1 && Fused::graph.num_functions() == 1);
    static_assert(cpu::frozen_executor<Plain>::num_prepared == 1 &&
                  cpu::frozen_executor<Fused>::num_prepared == 1);
    CHECK(std::string_view(conv_path<Plain>()) == path);
    CHECK(std::string_view(conv_path<Fused>()) == path);
    const kt::fixture fx = kt::load_fixture(file);
    parameter_store store;
    kt::set_param(store, "W", fx["W"]);
    if (c.bias) kt::set_param(store, "b", fx["b"]);
    const xt::xarray<float> x = fx["x"], z = fx["z"];
    for (int variant : {0, 1, 2}) {
        INFO("variant (0 best, 1 AVX2 at most, 2 portable): " << variant);
        set_variant(variant);
        cpu::frozen_executor<Plain> plain(store);
        kt::check_close(plain(x), fx["y"], 1e-5, 1e-5);
        cpu::frozen_executor<Fused> fused(store);
        kt::check_close(fused(x, z), fx["y_res_relu"], 1e-5, 1e-5);
        kt::check_close(fused(x, z), fx["y_res_relu"], 1e-5, 1e-5);  // the packed weights are reused
    }
    cpu::simd::force_generic(false);
    // The live executor (im2col + OpenBLAS per group) agrees with the same fixture.
    cpu::executor<network<grouped_net<c, false>>> live(store);
    kt::check_close(live(x), fx["y"], 1e-5, 1e-5);
}

}  // namespace

TEST_CASE("Frozen NHWC grouped convolution, groups of 4: two groups per vector, stride 2, fused epilogue") {
    check_grouped_fixture<grouped4>("ops/conv2d_cl_grouped4.npz", "nhwc-grouped4");
}

TEST_CASE("Frozen NHWC grouped convolution, groups of 4 with an odd group count, dilation 2") {
    check_grouped_fixture<grouped4_odd_g>("ops/conv2d_cl_grouped4_odd_g.npz", "nhwc-grouped");
}

TEST_CASE("Frozen NHWC grouped convolution, groups of 3 to 5: odd widths, asymmetric pad, stride, dilation") {
    check_grouped_fixture<grouped_3to5>("ops/conv2d_cl_grouped_3to5.npz", "nhwc-grouped");
}

TEST_CASE("Frozen NHWC grouped convolution, groups of 8 to 20: partial vectors, dilation 2, pad 2") {
    check_grouped_fixture<grouped8_to20>("ops/conv2d_cl_grouped8_to20.npz", "nhwc-grouped");
}
