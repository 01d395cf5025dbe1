// bench/onednn_layers.cpp -- oneDNN's per-layer rate on the convolution shapes of kata's profiles
// (ResNet-50 at batch 1, the MobileNetV2-like stem and narrow pointwise layers, LeNet-5 at batch 64),
// so that a layer of bench/resnet50_profile.cpp or of the suite's profiles can be compared with a
// production kernel library on the same machine (issue #17 point 2). Not a kata program: it links only
// Debian's oneDNN (libdnnl-dev, installed by tools/deps.sh's kata_install_bench_deps).
//
//     OMP_NUM_THREADS=2 build-bench/bench/onednn_layers [reps]
//
// Each layer: forward inference, fp32, source and weights in the layouts oneDNN picks for the shape
// (format_tag::any, reordered once before timing, as onnxruntime and OpenVINO do at load time), bias;
// the median of `reps` timed executions after 3 warm-ups. Prints ms, GFLOP/s and the implementation
// oneDNN chose (e.g. jit:avx2). First line: the machine's measured fp32 peak (12 independent AVX2 FMA
// chains per thread, as many threads as oneDNN uses), the 100 % of the "% of peak" columns in RESULTS.md.
#include <immintrin.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

struct layer {
    const char* name;
    long batch, h, c, o, k, s, pad;
};

// The ResNet-50 rows of bench/conv_layers.cpp (batch 1, "same" padding) and the small-network layers.
const layer layers[] = {
    {"stem 7x7/2 3->64", 1, 224, 3, 64, 7, 2, 3},
    {"56 1x1 64->64", 1, 56, 64, 64, 1, 1, 0},
    {"56 3x3 64->64", 1, 56, 64, 64, 3, 1, 1},
    {"56 1x1 64->256", 1, 56, 64, 256, 1, 1, 0},
    {"56 1x1 256->64", 1, 56, 256, 64, 1, 1, 0},
    {"56 1x1 256->128", 1, 56, 256, 128, 1, 1, 0},
    {"56 3x3/2 128->128", 1, 56, 128, 128, 3, 2, 1},
    {"56 1x1/2 256->512", 1, 56, 256, 512, 1, 2, 0},
    {"28 1x1 128->512", 1, 28, 128, 512, 1, 1, 0},
    {"28 1x1 512->128", 1, 28, 512, 128, 1, 1, 0},
    {"28 3x3 128->128", 1, 28, 128, 128, 3, 1, 1},
    {"28 1x1 512->256", 1, 28, 512, 256, 1, 1, 0},
    {"28 3x3/2 256->256", 1, 28, 256, 256, 3, 2, 1},
    {"28 1x1/2 512->1024", 1, 28, 512, 1024, 1, 2, 0},
    {"14 1x1 256->1024", 1, 14, 256, 1024, 1, 1, 0},
    {"14 1x1 1024->256", 1, 14, 1024, 256, 1, 1, 0},
    {"14 3x3 256->256", 1, 14, 256, 256, 3, 1, 1},
    {"14 1x1 1024->512", 1, 14, 1024, 512, 1, 1, 0},
    {"14 3x3/2 512->512", 1, 14, 512, 512, 3, 2, 1},
    {"14 1x1/2 1024->2048", 1, 14, 1024, 2048, 1, 2, 0},
    {"7 1x1 512->2048", 1, 7, 512, 2048, 1, 1, 0},
    {"7 1x1 2048->512", 1, 7, 2048, 512, 1, 1, 0},
    {"7 3x3 512->512", 1, 7, 512, 512, 3, 1, 1},
    {"mbv2 stem 3x3/2 3->32", 1, 224, 3, 32, 3, 2, 1},
    {"mbv2 112 1x1 32->16", 1, 112, 32, 16, 1, 1, 0},
    {"mbv2 56 1x1 24->144", 1, 56, 24, 144, 1, 1, 0},
    {"mbv2 56 1x1 144->24", 1, 56, 144, 24, 1, 1, 0},
    {"mbv2 28 1x1 192->32", 1, 28, 192, 32, 1, 1, 0},
    {"lenet b64 5x5 1->6 (28x28, pad 2)", 64, 28, 1, 6, 5, 1, 2},
    {"lenet b64 5x5 6->16 (14x14)", 64, 14, 6, 16, 5, 1, 0},
};

__attribute__((target("avx2,fma"))) float fma_chains(long iters) {
    __m256 a[12];
    for (int i = 0; i < 12; ++i) a[i] = _mm256_set1_ps(0.001f * float(i));
    const __m256 m = _mm256_set1_ps(0.9999f), c = _mm256_set1_ps(0.0001f);
    for (long i = 0; i < iters; ++i)
#pragma GCC unroll 12
        for (int j = 0; j < 12; ++j) a[j] = _mm256_fmadd_ps(a[j], m, c);
    __m256 s = a[0];
    for (int i = 1; i < 12; ++i) s = _mm256_add_ps(s, a[i]);
    return _mm256_cvtss_f32(s);
}

// GFLOP/s of `threads` threads running fma_chains at once (median of 5).
double fma_peak(int threads) {
    const long iters = 20'000'000;
    std::vector<double> t;
    for (int rep = 0; rep < 5; ++rep) {
        std::vector<std::thread> pool;
        std::vector<float> sink(static_cast<std::size_t>(threads));
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < threads; ++i)
            pool.emplace_back([&, i] { sink[std::size_t(i)] = fma_chains(iters); });
        for (auto& th : pool) th.join();
        t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(t.begin(), t.end());
    return double(threads) * double(iters) * 12 * 16 / t[2] / 1e9;
}

double bench(dnnl::engine& eng, dnnl::stream& st, const layer& L, int reps, const char** impl) {
    using namespace dnnl;
    using tag = memory::format_tag;
    using dt = memory::data_type;
    const long oh = (L.h + 2 * L.pad - L.k) / L.s + 1;
    memory::dims src{L.batch, L.c, L.h, L.h}, wei{L.o, L.c, L.k, L.k}, bia{L.o}, dst{L.batch, L.o, oh, oh};
    auto md_any = [](const memory::dims& d) { return memory::desc(d, dt::f32, tag::any); };
    convolution_forward::desc d(prop_kind::forward_inference, algorithm::convolution_direct, md_any(src),
                                md_any(wei), memory::desc(bia, dt::f32, tag::a), md_any(dst), {L.s, L.s},
                                {L.pad, L.pad}, {L.pad, L.pad});
    convolution_forward::primitive_desc pd(d, eng);
    *impl = pd.impl_info_str();
    // Inputs in plain NHWC / OIHW, reordered once into the chosen layouts (not timed).
    memory src_user({src, dt::f32, tag::nhwc}, eng), wei_user({wei, dt::f32, tag::oihw}, eng);
    memory src_m(pd.src_desc(), eng), wei_m(pd.weights_desc(), eng), bia_m(pd.bias_desc(), eng),
        dst_m(pd.dst_desc(), eng);
    auto fill = [](memory& m, float scale) {
        float* p = static_cast<float*>(m.get_data_handle());
        const std::size_t n = m.get_desc().get_size() / sizeof(float);
        for (std::size_t i = 0; i < n; ++i) p[i] = scale * float(int(i * 2654435761u % 1000) - 500) / 500.f;
    };
    fill(src_user, 1.f);
    fill(wei_user, 0.05f);
    fill(bia_m, 0.1f);
    reorder(src_user, src_m).execute(st, src_user, src_m);
    reorder(wei_user, wei_m).execute(st, wei_user, wei_m);
    st.wait();
    convolution_forward conv(pd);
    std::unordered_map<int, memory> args{
        {DNNL_ARG_SRC, src_m}, {DNNL_ARG_WEIGHTS, wei_m}, {DNNL_ARG_BIAS, bia_m}, {DNNL_ARG_DST, dst_m}};
    for (int i = 0; i < 3; ++i) conv.execute(st, args);
    st.wait();
    std::vector<double> t;
    for (int i = 0; i < reps; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        conv.execute(st, args);
        st.wait();
        t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    const int reps = argc > 1 ? std::atoi(argv[1]) : 21;
    dnnl::engine eng(dnnl::engine::kind::cpu, 0);
    dnnl::stream st(eng);
    const dnnl::version_t* v = dnnl_version();
    const char* omp = std::getenv("OMP_NUM_THREADS");
    const int threads = omp ? std::max(1, std::atoi(omp)) : int(std::thread::hardware_concurrency());
    std::printf("fp32 peak (AVX2 FMA chains, %d threads): %.1f GFLOP/s\n", threads, fma_peak(threads));
    std::printf("oneDNN %d.%d.%d, median of %d\n", v->major, v->minor, v->patch, reps);
    for (const layer& L : layers) {
        const char* impl = "";
        const double ms = bench(eng, st, L, reps, &impl);
        const long oh = (L.h + 2 * L.pad - L.k) / L.s + 1;
        const double flops = 2.0 * double(L.batch) * double(oh * oh) * double(L.o) * double(L.c * L.k * L.k);
        std::printf("%-36s %9.3f ms  %6.1f GFLOP/s  %s\n", L.name, ms, flops / (ms * 1e6), impl);
    }
}
