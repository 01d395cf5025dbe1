// bench/suite_worker.cpp -- kata's side of the benchmark suite (bench/suite.py, tools/bench_suite.sh).
//
//     suite_<net>_b<batch> WEIGHTS.npz IO.npz TOLERANCE
//
// Deploys one network the way a user would: the network as written (channel-first, test-mode batch
// normalizations; examples/models/), its parameters created and then loaded from WEIGHTS.npz (exported
// from the PyTorch twin by bench/suite_export.py; load_mode::strict, so a name or shape that does not
// match fails), converted for inference (BN folded into the convolutions, channel-last; the replaced
// parameters dropped) and run by the frozen executor (weights packed once, the store's copies of the
// packed ones erased: one copy of the weights).
//
// Before anything is timed it runs IO.npz's input "x" (NCHW, transposed once to NHWC here) and compares
// the output with "y" (PyTorch's float64 forward of the same network and weights, rounded to float32):
// normwise relative error ||out - y|| / ||y|| must be <= TOLERANCE, else it prints FAIL and exits with
// status 2: a benchmark of a wrong network is worthless.
//
// Then, one command per stdin line (the protocol of bench/resnet50_cpu.cpp, plus rss):
//   "<reps>" -> the median milliseconds of <reps> forward passes (timed here, in C++)
//   "rss"    -> "<VmHWM kB> <VmRSS kB>" of this process (peak and current resident memory)
//
// Built with -DKATA_CPU_PROFILE (targets suite_profile_<net>_b<batch>): after the check it runs
// argv[4] passes (default 200) and prints the per-layer profile (bench/profile_report.hpp) instead.
//
// Compile-time choices (bench/CMakeLists.txt): KATA_SUITE_NET 1 ResNet-50, 2 MobileNetV2-like, 3 LeNet-5,
// 4 ResNeXt-style dilated; KATA_SUITE_BATCH; KATA_SUITE_RELU6 (MobileNetV2 with ReLU6; see
// examples/models/mobilenet_v2.hpp).
#include <kata/converters.hpp>
#include <kata/converters/apply_conversion.hpp>
#include <kata/cpu.hpp>
#include <kata/parameters.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#ifndef KATA_SUITE_NET
#define KATA_SUITE_NET 1
#endif
#ifndef KATA_SUITE_BATCH
#define KATA_SUITE_BATCH 1
#endif
#ifndef KATA_SUITE_RELU6
#define KATA_SUITE_RELU6 0
#endif

#if KATA_SUITE_NET == 1
#include "../examples/models/resnet50.hpp"
using Net = kata::network<kata::models::resnet50_net<KATA_SUITE_BATCH>>;
#elif KATA_SUITE_NET == 2
#include "../examples/models/mobilenet_v2.hpp"
using Net = kata::network<kata::models::mobilenet_v2_net<KATA_SUITE_BATCH, bool(KATA_SUITE_RELU6)>>;
#elif KATA_SUITE_NET == 3
#include "../examples/models/lenet.hpp"
using Net = kata::network<kata::models::lenet<KATA_SUITE_BATCH>>;
#elif KATA_SUITE_NET == 4
#include "../examples/models/resnext.hpp"
using Net = kata::network<kata::models::resnext_dilated_net<KATA_SUITE_BATCH>>;
#else
#error "KATA_SUITE_NET must be 1..4"
#endif

#ifdef KATA_CPU_PROFILE
#include "profile_report.hpp"
#endif

using Run = kata::convert<Net, kata::BatchNormalizationFoldingModifier{}, kata::ChannelLastModifier{},
                          kata::FuseConvolutionEpilogueModifier{}>;
static_assert(Run::graph.count(kata::op_kind::batch_normalization) == 0, "every BN is folded");

namespace {

// VmHWM and VmRSS of this process in kB, from /proc/self/status.
std::pair<long, long> resident_kb() {
    std::ifstream f("/proc/self/status");
    std::string line;
    long hwm = -1, rss = -1;
    while (std::getline(f, line)) {
        if (line.rfind("VmHWM:", 0) == 0) hwm = std::atol(line.c_str() + 6);
        if (line.rfind("VmRSS:", 0) == 0) rss = std::atol(line.c_str() + 6);
    }
    return {hwm, rss};
}

const kata::io::npz_entry& entry(const std::vector<kata::io::npz_entry>& es, const std::string& name,
                                 const std::string& file) {
    for (const auto& e : es)
        if (e.name == name) return e;
    std::fprintf(stderr, "FAIL %s: no array '%s'\n", file.c_str(), name.c_str());
    std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: %s WEIGHTS.npz IO.npz TOLERANCE%s\n", argv[0],
#ifdef KATA_CPU_PROFILE
                     " [passes]"
#else
                     ""
#endif
        );
        return 1;
    }
    const double tol = std::atof(argv[3]);

    // The deploy path: parameters of the written network, loaded from the file, converted, frozen.
    kata::parameter_store store;
    kata::create_parameters<Net>(store);
    store.load(argv[1], kata::load_mode::strict);
    // One copy of the weights (issue #17 point 4): the conversion drops the trained parameters it
    // replaced, the frozen executor erases the ones it packed from the store as it packs them.
    kata::apply_conversion<Run>(store, kata::replaced_parameters::drop);
    kata::cpu::frozen_executor<Run> run(store, kata::cpu::consume_parameters);

    // Input (NCHW in the file, like every other engine's) -> NHWC, the converted graph's layout.
    const std::vector<std::byte> io_bytes = kata::io::read_file_bytes(argv[2]);
    const auto io = kata::io::read_npz(io_bytes, argv[2]);
    const auto& xe = entry(io, "x", argv[2]);
    const auto& ye = entry(io, "y", argv[2]);
    constexpr kata::shape_t in_shape = [] {
        for (std::size_t i = 0; i < Net::graph.size(); ++i)
            if (Net::graph.nodes[i].op == kata::op_kind::input) return Net::graph.nodes[i].shape;
        return kata::shape_t{};
    }();
    if (xe.array.dtype != kata::io::npy_dtype::f4 || ye.array.dtype != kata::io::npy_dtype::f4 ||
        xe.array.element_count() != std::size_t(in_shape.numel())) {
        std::fprintf(stderr, "FAIL %s: x must be float32 with %lld elements, y float32\n", argv[2],
                     (long long)in_shape.numel());
        return 2;
    }
    std::vector<std::size_t> nchw(in_shape.dims, in_shape.dims + in_shape.rank);
    xt::xarray<float> x0 = xt::zeros<float>(nchw);
    std::memcpy(x0.data(), xe.array.data.data(), x0.size() * sizeof(float));
    xt::xarray<float> x = xt::transpose(x0, {0, 2, 3, 1});
    x0 = xt::xarray<float>();

    auto out = run(x);
    const auto* ref = reinterpret_cast<const float*>(ye.array.data.data());
    if (out.size() != ye.array.element_count()) {
        std::fprintf(stderr, "FAIL output has %zu elements, the reference %zu\n", std::size_t(out.size()),
                     ye.array.element_count());
        return 2;
    }
    double num = 0, den = 0, maxabs = 0;
    for (std::size_t i = 0; i < out.size(); ++i) {
        const double d = double(out.data()[i]) - double(ref[i]);
        num += d * d;
        den += double(ref[i]) * double(ref[i]);
        maxabs = std::max(maxabs, std::fabs(d));
    }
    const double err = std::sqrt(num / std::max(den, 1e-300));
    if (!(err <= tol)) {
        std::fprintf(stderr,
                     "FAIL kata output differs from the reference: normwise %.3e > %.1e (max abs %.3e)\n",
                     err, tol, maxabs);
        return 2;
    }

#ifdef KATA_CPU_PROFILE
    const int passes = argc > 4 ? std::atoi(argv[4]) : 200;
    for (int i = 0; i < 3; ++i) run(x);
    run.profile_ns_.fill(0);
    std::vector<double> wall;
    for (int i = 0; i < passes; ++i) {
        auto t0 = std::chrono::steady_clock::now();
        run(x);
        wall.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(wall.begin(), wall.end());
    std::printf("verified: normwise error %.3e (max abs %.3e)\n", err, maxabs);
    kata_bench::print_profile<Run>(run, passes);
    std::printf("wall median %.3f ms (min %.3f) over %d passes\n", wall[wall.size() / 2], wall[0], passes);
#else
    for (int i = 0; i < 2; ++i) run(x);
    std::printf("ready %.3e %.3e\n", err, maxabs);
    std::fflush(stdout);
    std::string line;
    std::vector<double> ms;
    while (std::getline(std::cin, line)) {
        if (line == "rss") {
            const auto [hwm, rss] = resident_kb();
            std::printf("%ld %ld\n", hwm, rss);
        } else {
            const int reps = std::max(1, std::atoi(line.c_str()));
            ms.clear();
            for (int i = 0; i < reps; ++i) {
                auto t0 = std::chrono::steady_clock::now();
                run(x);
                ms.push_back(
                    std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
            }
            std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
            std::printf("%.5f\n", ms[ms.size() / 2]);
        }
        std::fflush(stdout);
    }
#endif
}
