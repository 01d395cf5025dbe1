// bench/conv_layers.cpp -- ResNet-50's distinct convolution layers (NHWC, batch from KATA_BENCH_BATCH)
// through the im2col + OpenBLAS kernel and through the direct NHWC kernel (kernels/conv_nhwc.hpp) with
// the CPU's micro-kernel (AVX-512, else AVX2 + FMA) and with the portable one (simd::force_generic),
// interleaved; prints ms, GFLOP/s, the speed ratios, the time to pack the weights and the max |diff|.
// A few MobileNetV2-like and LeNet layers follow ResNet-50's.
//     OPENBLAS_CORETYPE=SkylakeX build-bench/bench/conv_layers [reps]
//     build-bench/bench/conv_layers [reps] dw      MobileNetV2's depthwise 3x3 layers instead
//     build-bench/bench/conv_layers [reps] grouped the suite's ResNeXt-style grouped 3x3 layers instead
#include <kata/cpu.hpp>
#include <kata/cpu/kernels/conv_grouped.hpp>
#include <kata/cpu/kernels/conv_nhwc.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string_view>
#include <vector>

#ifndef KATA_BENCH_BATCH
#define KATA_BENCH_BATCH 1
#endif

using namespace kata;

template <std::int64_t H, std::int64_t C, std::int64_t O, std::int64_t k, std::int64_t s>
constexpr var one_conv(builder& g) {
    auto x = g.input("x", {KATA_BENCH_BATCH, H, H, C}, layout::channel_last);
    return F::convolution(x, g.parameter("W", {O, k, k, C}), g.parameter("b", {O}),
                          {.pad = {k / 2, k / 2}, .stride = {s, s}, .channel_last = true});
}

template <auto Fn>
void bench_layer(const char* name, int reps) {
    using Net = network<Fn>;
    constexpr auto& G = Net::graph;
    constexpr int id = G.order[0];
    constexpr cpu::op_instance I = cpu::instance_of<G>(id);
    constexpr auto p = cpu::detail::make_params(I);
    std::mt19937 rng(1);
    std::normal_distribution<float> nd(0.f, 1.f);
    std::vector<float> x(std::size_t(I.in[0].numel())), w(std::size_t(I.in[1].numel())), b(std::size_t(p.O));
    for (auto& v : x) v = std::max(0.f, nd(rng));
    for (auto& v : w) v = nd(rng) * 0.05f;
    for (auto& v : b) v = nd(rng);
    const std::size_t ny = std::size_t(I.out.numel());
    float* y0 = static_cast<float*>(std::aligned_alloc(64, ny * 4 + 64));
    float* y1 = static_cast<float*>(std::aligned_alloc(64, ny * 4 + 64));
    const std::size_t ws = cpu::kernel<op_kind::convolution>::workspace_bytes<I>() + 64;
    std::byte* wsp = static_cast<std::byte*>(std::aligned_alloc(64, (ws + 63) / 64 * 64));
    float* packed =
        static_cast<float*>(std::aligned_alloc(64, std::size_t(cpu::detail::packed_floats(p)) * 4 + 64));
    float* zero =
        static_cast<float*>(std::aligned_alloc(64, std::size_t(cpu::detail::scratch_floats(p)) * 4 + 64));
    void* ins[3] = {x.data(), w.data(), b.data()};
    auto t_blas = [&] { cpu::kernel<op_kind::convolution>::run<I>(cpu::kernel_io{ins, y0, wsp}); };
    auto t_pack = [&] { cpu::detail::pack(p, w.data(), b.data(), packed); };
    auto t_nhwc = [&] { cpu::detail::forward(p, x.data(), packed, nullptr, false, y1, zero); };
    auto t_port = [&] {
        cpu::simd::force_generic(true);
        cpu::detail::forward(p, x.data(), packed, nullptr, false, y1, zero);
        cpu::simd::force_generic(false);
    };
    auto time = [&](auto&& f) {
        auto t0 = std::chrono::steady_clock::now();
        f();
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    };
    for (int i = 0; i < 3; ++i) {
        t_blas();
        t_pack();
        t_port();
        t_nhwc();
    }
    std::vector<double> ta, tp, tn, tg;
    for (int i = 0; i < reps; ++i) {
        ta.push_back(time(t_blas));
        tp.push_back(time(t_pack));
        tg.push_back(time(t_port));
        tn.push_back(time(t_nhwc));
    }
    auto med = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        return v[v.size() / 2];
    };
    double diff = 0, mag = 0;
    for (std::size_t i = 0; i < ny; ++i) {
        diff = std::max(diff, double(std::abs(y0[i] - y1[i])));
        mag = std::max(mag, double(std::abs(y0[i])));
    }
    const double gf = 2.0 * double(p.M) * double(p.K) * double(p.O) / 1e6;
    std::printf(
        "%-22s blas %7.3f ms (%5.1f GF/s)  nhwc portable %7.3f ms (%5.1f GF/s)  nhwc %7.3f ms (%5.1f GF/s)  "
        "nhwc/portable %.2f  nhwc/blas %.2f  pack %6.3f ms  maxdiff/max %.1e\n",
        name, med(ta), gf / med(ta), med(tg), gf / med(tg), med(tn), gf / med(tn), med(tn) / med(tg),
        med(tn) / med(ta), med(tp), diff / mag);
    std::free(y0);
    std::free(y1);
    std::free(wsp);
    std::free(packed);
    std::free(zero);
}

// This session's per-layer choices (kernels/conv_nhwc.hpp, make_params) against the same kernel with
// them switched off (the params as before them), interleaved A B A B, medians; `conv_layers reps ab`.
template <std::int64_t Bt, std::int64_t H, std::int64_t C, std::int64_t O, std::int64_t k, std::int64_t s,
          std::int64_t pad>
constexpr var one_conv_b(builder& g) {
    auto x = g.input("x", {Bt, H, H, C}, layout::channel_last);
    return F::convolution(x, g.parameter("W", {O, k, k, C}), g.parameter("b", {O}),
                          {.pad = {pad, pad}, .stride = {s, s}, .channel_last = true});
}

constexpr cpu::detail::params before_session(cpu::detail::params p) {
    p.rows = false;
    return p;
}

template <auto Fn>
void bench_ab(const char* name, int reps) {
    using Net = network<Fn>;
    constexpr auto& G = Net::graph;
    constexpr cpu::op_instance I = cpu::instance_of<G>(G.order[0]);
    constexpr auto pb = cpu::detail::make_params(I);
    constexpr auto pa = before_session(pb);
    std::mt19937 rng(1);
    std::normal_distribution<float> nd(0.f, 1.f);
    std::vector<float> x(std::size_t(I.in[0].numel())), w(std::size_t(I.in[1].numel())), b(std::size_t(pb.O));
    for (auto& v : x) v = std::max(0.f, nd(rng));
    for (auto& v : w) v = nd(rng) * 0.05f;
    for (auto& v : b) v = nd(rng);
    const std::size_t ny = std::size_t(I.out.numel());
    auto falloc = [](cpu::detail::i64 n) {
        return static_cast<float*>(std::aligned_alloc(64, (std::size_t(n) * 4 + 127) / 64 * 64));
    };
    float* y0 = falloc(cpu::detail::i64(ny));
    float* y1 = falloc(cpu::detail::i64(ny));
    float* packed = falloc(cpu::detail::packed_floats(pb));
    float* scratch = falloc(std::max(cpu::detail::scratch_floats(pa), cpu::detail::scratch_floats(pb)));
    cpu::detail::pack(pb, w.data(), b.data(), packed);
    auto t_a = [&] { cpu::detail::forward(pa, x.data(), packed, nullptr, true, y0, scratch); };
    auto t_b = [&] { cpu::detail::forward(pb, x.data(), packed, nullptr, true, y1, scratch); };
    auto time = [&](auto&& f) {
        auto t0 = std::chrono::steady_clock::now();
        f();
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    };
    for (int i = 0; i < 2; ++i) {
        t_a();
        t_b();
    }
    std::vector<double> ta, tb;
    for (int i = 0; i < reps; ++i) {
        ta.push_back(time(t_a));
        tb.push_back(time(t_b));
    }
    auto med = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        return v[v.size() / 2];
    };
    double diff = 0, mag = 0;
    for (std::size_t i = 0; i < ny; ++i) {
        diff = std::max(diff, double(std::abs(y0[i] - y1[i])));
        mag = std::max(mag, double(std::abs(y0[i])));
    }
    const double gf = 2.0 * double(pb.M) * double(pb.K) * double(pb.O) / 1e6;
    std::printf(
        "%-30s before %8.3f ms (%5.1f GF/s)  after %8.3f ms (%5.1f GF/s)  after/before %.2f  path %-10s "
        "maxdiff/max %.1e\n",
        name, med(ta), gf / med(ta), med(tb), gf / med(tb), med(tb) / med(ta), cpu::detail::path_name(pb),
        diff / mag);
    for (float* f : {y0, y1, packed, scratch}) std::free(f);
}

// Depthwise 3x3 (group == C == O, pad 1): main's direct loop (depthwise_cl, weights (C, taps)) against
// the packed depthwise kernel (dw_nhwc_forward: AVX2 + FMA where the CPU has it), interleaved.
template <std::int64_t H, std::int64_t C, std::int64_t s>
constexpr var one_dw(builder& g) {
    auto x = g.input("x", {KATA_BENCH_BATCH, H, H, C}, layout::channel_last);
    return F::convolution(x, g.parameter("W", {C, 3, 3, 1}), g.parameter("b", {C}),
                          {.pad = {1, 1}, .stride = {s, s}, .group = C, .channel_last = true});
}

template <auto Fn>
void bench_dw(const char* name, int reps) {
    using Net = network<Fn>;
    constexpr auto& G = Net::graph;
    constexpr cpu::op_instance I = cpu::instance_of<G>(G.order[0]);
    constexpr cpu::detail::geometry g = cpu::detail::conv_geometry<I>();
    std::mt19937 rng(1);
    std::normal_distribution<float> nd(0.f, 1.f);
    std::vector<float> x(std::size_t(I.in[0].numel())), w(std::size_t(I.in[1].numel())), b(std::size_t(g.O));
    for (auto& v : x) v = nd(rng);
    for (auto& v : w) v = nd(rng) * 0.3f;
    for (auto& v : b) v = nd(rng);
    const std::size_t ny = std::size_t(I.out.numel());
    std::vector<float> y0(ny), y1(ny);
    float* packed =
        static_cast<float*>(std::aligned_alloc(64, std::size_t(cpu::detail::dw_packed_floats<g>()) * 4 + 64));
    cpu::detail::dw_pack<g>(w.data(), b.data(), packed);
    auto t_old = [&] { cpu::detail::depthwise_cl<g>(x.data(), w.data(), b.data(), y0.data()); };
    auto t_new = [&] { cpu::detail::dw_nhwc_forward<g>(x.data(), packed, nullptr, false, y1.data()); };
    auto time = [&](auto&& f) {
        auto t0 = std::chrono::steady_clock::now();
        f();
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    };
    for (int i = 0; i < 3; ++i) {
        t_old();
        t_new();
    }
    std::vector<double> to, tn;
    for (int i = 0; i < reps; ++i) {
        to.push_back(time(t_old));
        tn.push_back(time(t_new));
    }
    auto med = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        return v[v.size() / 2];
    };
    double diff = 0, mag = 0;
    for (std::size_t i = 0; i < ny; ++i) {
        diff = std::max(diff, double(std::abs(y0[i] - y1[i])));
        mag = std::max(mag, double(std::abs(y0[i])));
    }
    const double gf = 2.0 * double(ny) * double(g.taps) / 1e6;
    std::printf("%-22s old loop %7.3f ms (%5.1f GF/s)  packed %7.3f ms (%5.1f GF/s)  packed/old %.2f  "
                "maxdiff/max %.1e\n",
                name, med(to), gf / med(to), med(tn), gf / med(tn), med(tn) / med(to), diff / mag);
    std::free(packed);
}

// Grouped 3x3 (32 groups, ResNeXt): the im2col + OpenBLAS-per-group kernel (what a grouped layer ran on
// before kernels/conv_grouped.hpp) against the direct grouped kernel with the CPU's variant (AVX2 + FMA)
// and with the portable loop; for groups of 4 also the broadcast units (one group per vector, half the
// lanes padding) against the two-groups-per-vector units. Interleaved, medians; bias + ReLU epilogue.
template <std::int64_t H, std::int64_t C, std::int64_t G, std::int64_t s, std::int64_t d>
constexpr var one_grouped(builder& g) {
    auto x = g.input("x", {KATA_BENCH_BATCH, H, H, C}, layout::channel_last);
    return F::convolution(
        x, g.parameter("W", {C, 3, 3, C / G}), g.parameter("b", {C}),
        {.pad = {d, d}, .stride = {s, s}, .dilation = {d, d}, .group = G, .channel_last = true});
}

constexpr cpu::detail::gparams as_bcast(cpu::detail::gparams q) {
    q.pair = false;
    q.units = q.G * q.vpg;
    return q;
}

template <auto Fn>
void bench_grouped(const char* name, int reps) {
    using Net = network<Fn>;
    constexpr auto& G = Net::graph;
    constexpr cpu::op_instance I = cpu::instance_of<G>(G.order[0]);  // live instance: the GEMM path
    constexpr cpu::detail::gparams q = cpu::detail::make_gparams(I);
    constexpr cpu::detail::gparams qb = as_bcast(q);
    std::mt19937 rng(1);
    std::normal_distribution<float> nd(0.f, 1.f);
    std::vector<float> x(std::size_t(I.in[0].numel())), w(std::size_t(I.in[1].numel())),
        b(std::size_t(q.g.O));
    for (auto& v : x) v = std::max(0.f, nd(rng));
    for (auto& v : w) v = nd(rng) * 0.05f;
    for (auto& v : b) v = nd(rng);
    const std::size_t ny = std::size_t(I.out.numel());
    auto falloc = [](std::size_t n) {
        return static_cast<float*>(std::aligned_alloc(64, (n * 4 + 127) / 64 * 64));
    };
    float* y0 = falloc(ny);
    float* y1 = falloc(ny);
    float* y2 = falloc(ny);
    const std::size_t ws = cpu::kernel<op_kind::convolution>::workspace_bytes<I>() + 64;
    std::byte* wsp = static_cast<std::byte*>(std::aligned_alloc(64, (ws + 63) / 64 * 64));
    float* packed = falloc(std::size_t(cpu::detail::grouped_packed_floats(q)));
    float* packed_b = falloc(std::size_t(cpu::detail::grouped_packed_floats(qb)));
    float* scratch = falloc(std::size_t(cpu::detail::grouped_scratch_floats(q)));
    cpu::detail::grouped_pack(q, w.data(), b.data(), packed);
    cpu::detail::grouped_pack(qb, w.data(), b.data(), packed_b);
    void* ins[3] = {x.data(), w.data(), b.data()};
    auto t_gemm = [&] {
        cpu::kernel<op_kind::convolution>::run<I>(cpu::kernel_io{ins, y0, wsp});
        for (std::size_t i = 0; i < ny; ++i) y0[i] = y0[i] > 0.f ? y0[i] : 0.f;  // the separate ReLU pass
    };
    auto t_grp = [&] { cpu::detail::grouped_forward(q, x.data(), packed, nullptr, true, y1, scratch); };
    auto t_bc = [&] { cpu::detail::grouped_forward(qb, x.data(), packed_b, nullptr, true, y2, scratch); };
    auto t_port = [&] {
        cpu::simd::force_generic(true);
        cpu::detail::grouped_forward(q, x.data(), packed, nullptr, true, y2, scratch);
        cpu::simd::force_generic(false);
    };
    auto time = [&](auto&& f) {
        auto t0 = std::chrono::steady_clock::now();
        f();
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    };
    for (int i = 0; i < 2; ++i) {
        t_gemm();
        t_grp();
        t_bc();
        t_port();
    }
    std::vector<double> tg, tn, tb, tp;
    for (int i = 0; i < reps; ++i) {
        tg.push_back(time(t_gemm));
        tn.push_back(time(t_grp));
        if (q.pair) tb.push_back(time(t_bc));
        tp.push_back(time(t_port));
    }
    auto med = [](std::vector<double> v) {
        if (v.empty()) return 0.0;
        std::sort(v.begin(), v.end());
        return v[v.size() / 2];
    };
    t_grp();
    double diff = 0, mag = 0;
    for (std::size_t i = 0; i < ny; ++i) {
        diff = std::max(diff, double(std::abs(y0[i] - y1[i])));
        mag = std::max(mag, double(std::abs(y0[i])));
    }
    const double gf = 2.0 * double(ny) * double(q.g.taps * q.Cg) / 1e6;
    std::printf("%-26s gemm %7.3f ms (%5.1f GF/s)  %-13s %7.3f ms (%5.1f GF/s)  grouped/gemm %.2f", name,
                med(tg), gf / med(tg), cpu::detail::grouped_path_name(q), med(tn), gf / med(tn),
                med(tn) / med(tg));
    if (q.pair) std::printf("  bcast units %7.3f ms (%5.1f GF/s)", med(tb), gf / med(tb));
    std::printf("  portable %7.3f ms  maxdiff/max %.1e\n", med(tp), diff / mag);
    for (float* f : {y0, y1, y2, packed, packed_b, scratch}) std::free(f);
    std::free(wsp);
}

int main(int argc, char** argv) {
    const int reps = argc > 1 ? std::atoi(argv[1]) : 20;
    if (argc > 2 && std::string_view(argv[2]) == "dw") {
        bench_dw<one_dw<112, 32, 1>>("dw 112 3x3 32", reps);
        bench_dw<one_dw<112, 96, 2>>("dw 112 3x3/2 96", reps);
        bench_dw<one_dw<56, 144, 1>>("dw 56 3x3 144", reps);
        bench_dw<one_dw<56, 144, 2>>("dw 56 3x3/2 144", reps);
        bench_dw<one_dw<28, 192, 1>>("dw 28 3x3 192", reps);
        bench_dw<one_dw<14, 384, 1>>("dw 14 3x3 384", reps);
        bench_dw<one_dw<14, 576, 2>>("dw 14 3x3/2 576", reps);
        bench_dw<one_dw<7, 960, 1>>("dw 7 3x3 960", reps);
        return 0;
    }
    if (argc > 2 && std::string_view(argv[2]) == "grouped") {
        bench_grouped<one_grouped<56, 128, 32, 1, 1>>("56 3x3 128 g32 (4 -> 4)", reps);
        bench_grouped<one_grouped<56, 256, 32, 2, 1>>("56 3x3/2 256 g32 (8 -> 8)", reps);
        bench_grouped<one_grouped<28, 256, 32, 1, 1>>("28 3x3 256 g32 (8 -> 8)", reps);
        bench_grouped<one_grouped<28, 256, 32, 1, 2>>("28 3x3 d2 256 g32 (8 -> 8)", reps);
        return 0;
    }
    if (argc > 2 && std::string_view(argv[2]) == "ab") {
        bench_ab<one_conv_b<1, 224, 3, 64, 7, 2, 3>>("stem 7x7/2 3->64", reps);
        bench_ab<one_conv_b<1, 56, 64, 64, 3, 1, 1>>("56 3x3 64->64", reps);
        bench_ab<one_conv_b<1, 56, 128, 128, 3, 2, 1>>("56 3x3/2 128->128", reps);
        bench_ab<one_conv_b<1, 28, 256, 256, 3, 2, 1>>("28 3x3/2 256->256", reps);
        bench_ab<one_conv_b<1, 224, 3, 32, 3, 2, 1>>("mbv2 stem 3x3/2 3->32", reps);
        bench_ab<one_conv_b<1, 56, 144, 24, 1, 1, 0>>("mbv2 56 1x1 144->24", reps);
        bench_ab<one_conv_b<1, 28, 192, 32, 1, 1, 0>>("mbv2 28 1x1 192->32", reps);
        bench_ab<one_conv_b<1, 112, 32, 16, 1, 1, 0>>("mbv2 112 1x1 32->16", reps);
        bench_ab<one_conv_b<8, 28, 3, 16, 3, 1, 1>>("b8 28 3x3 3->16 (pad 1)", reps);
        bench_ab<one_conv_b<64, 28, 1, 6, 5, 1, 2>>("b64 28 5x5 1->6 (pad 2)", reps);
        bench_ab<one_conv_b<64, 28, 1, 6, 5, 1, 0>>("lenet b64 5x5 1->6", reps);
        bench_ab<one_conv_b<64, 12, 6, 16, 5, 1, 0>>("lenet b64 5x5 6->16", reps);
        return 0;
    }
    bench_layer<one_conv<224, 3, 64, 7, 2>>("stem 7x7/2 3->64", reps);
    bench_layer<one_conv<56, 64, 64, 1, 1>>("56 1x1 64->64", reps);
    bench_layer<one_conv<56, 64, 64, 3, 1>>("56 3x3 64->64", reps);
    bench_layer<one_conv<56, 64, 256, 1, 1>>("56 1x1 64->256", reps);
    bench_layer<one_conv<56, 256, 64, 1, 1>>("56 1x1 256->64", reps);
    bench_layer<one_conv<56, 256, 128, 1, 1>>("56 1x1 256->128", reps);
    bench_layer<one_conv<56, 128, 128, 3, 2>>("56 3x3/2 128->128", reps);
    bench_layer<one_conv<56, 256, 512, 1, 2>>("56 1x1/2 256->512", reps);
    bench_layer<one_conv<28, 128, 512, 1, 1>>("28 1x1 128->512", reps);
    bench_layer<one_conv<28, 512, 128, 1, 1>>("28 1x1 512->128", reps);
    bench_layer<one_conv<28, 128, 128, 3, 1>>("28 3x3 128->128", reps);
    bench_layer<one_conv<28, 512, 256, 1, 1>>("28 1x1 512->256", reps);
    bench_layer<one_conv<28, 256, 256, 3, 2>>("28 3x3/2 256->256", reps);
    bench_layer<one_conv<28, 512, 1024, 1, 2>>("28 1x1/2 512->1024", reps);
    bench_layer<one_conv<14, 256, 1024, 1, 1>>("14 1x1 256->1024", reps);
    bench_layer<one_conv<14, 1024, 256, 1, 1>>("14 1x1 1024->256", reps);
    bench_layer<one_conv<14, 256, 256, 3, 1>>("14 3x3 256->256", reps);
    bench_layer<one_conv<14, 1024, 512, 1, 1>>("14 1x1 1024->512", reps);
    bench_layer<one_conv<14, 512, 512, 3, 2>>("14 3x3/2 512->512", reps);
    bench_layer<one_conv<14, 1024, 2048, 1, 2>>("14 1x1/2 1024->2048", reps);
    bench_layer<one_conv<7, 512, 2048, 1, 1>>("7 1x1 512->2048", reps);
    bench_layer<one_conv<7, 2048, 512, 1, 1>>("7 1x1 2048->512", reps);
    bench_layer<one_conv<7, 512, 512, 3, 1>>("7 3x3 512->512", reps);
    bench_layer<one_conv<224, 3, 32, 3, 2>>("mbv2 stem 3x3/2 3->32", reps);
    bench_layer<one_conv<112, 32, 16, 1, 1>>("mbv2 112 1x1 32->16", reps);
    bench_layer<one_conv<56, 24, 144, 1, 1>>("mbv2 56 1x1 24->144", reps);
    bench_layer<one_conv<56, 144, 24, 1, 1>>("mbv2 56 1x1 144->24", reps);
    bench_layer<one_conv<14, 384, 64, 1, 1>>("mbv2 14 1x1 384->64", reps);
    bench_layer<one_conv<7, 960, 160, 1, 1>>("mbv2 7 1x1 960->160", reps);
}
