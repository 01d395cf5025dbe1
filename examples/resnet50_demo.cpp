// ResNet-50 on the CPU with kata: the README's demo.
//
//   resnet50_demo                               synthetic weights (examples/models/synthetic_weights.hpp)
//   resnet50_demo weights.npz                   kata's names (examples/models/resnet50.hpp), e.g. a file
//                                               that kata's parameter_store::save wrote
//   resnet50_demo --torchvision state_dict.npz  torchvision's resnet50 state dict saved with numpy.savez
//                                               (names such as layer1.0.bn1.running_mean, fc.weight as
//                                               (out, in)), renamed and reshaped on load by
//                                               examples/models/resnet50_torchvision.hpp
//
// Builds ResNet-50 (torchvision layout) as a compile-time graph at batch 1, fills it with the chosen
// weights (a torchvision file must provide every parameter: strict load), then converts it for inference with
// nnabla's graph converters:
//
//     using Inference = kata::convert<ResNet50, kata::BatchNormalizationFoldingModifier{},
//                                     kata::ChannelLastModifier{}, kata::FuseConvolutionEpilogueModifier{}>;
//
// (every batch normalization folded into its convolution, the whole network in NHWC, each residual
// Add2 and ReLU fused into the convolution before it: FusedConvolution nodes). The converted
// network is a new graph type whose parameters kata::apply_conversion computes from the trained ones;
// it lives in resnet50_demo_inference.cpp (a TU of its own, for compile time: see its header).
// The demo runs both networks on the same image (NCHW for the original, NHWC for the converted one),
// shows that their outputs agree, prints the CPU latencies (medians of interleaved runs after warm-up)
// and the top-5 classes. The original runs on kata's default (live) executor, which reads the
// parameters at every call; the converted network runs on the frozen executor, which packs the
// weights once and runs every convolution as a direct NHWC kernel with bias, residual and ReLU fused
// (what bench/ compares against PyTorch).
#include <kata/cpu.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <optional>
#include <string_view>
#include <vector>

#include "models/resnet50.hpp"
#include "models/resnet50_torchvision.hpp"
#include "models/synthetic_weights.hpp"
#include "resnet50_demo_inference.hpp"

using ResNet50 = kata::network<kata::models::resnet50_net<1>>;

namespace {

// The values the store holds, in MiB (gradient buffers, where any exist, not counted).
double parameter_mib(const kata::parameter_store& store) {
    std::size_t n = 0;
    for (const auto& [name, p] : store.get_parameters(false)) n += p->data.size();
    return double(n * sizeof(float)) / (1 << 20);
}

int channel_last_layers(const auto& g) {
    int n = 0;
    for (std::size_t i = 0; i < g.size(); ++i) n += g.nodes[i].attr.channel_last ? 1 : 0;
    return n;
}

template <class F>
double time_ms(F&& f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

std::vector<int> top5(const float* y) {
    std::vector<int> idx(1000);
    std::iota(idx.begin(), idx.end(), 0);
    std::partial_sort(idx.begin(), idx.begin() + 5, idx.end(), [&](int a, int b) { return y[a] > y[b]; });
    idx.resize(5);
    return idx;
}

}  // namespace

int main(int argc, char** argv) {
    bool torchvision = false;
    const char* weights = nullptr;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "--torchvision")
            torchvision = true;
        else if (!a.starts_with("--") && !weights)
            weights = argv[i];
        else {
            std::fprintf(stderr, "usage: %s [[--torchvision] weights.npz]\n", argv[0]);
            return 2;
        }
    }
    if (torchvision && !weights) {
        std::fprintf(stderr,
                     "%s: --torchvision needs a weights file (a torchvision resnet50 state dict .npz)\n",
                     argv[0]);
        return 2;
    }
    kata::parameter_store store;
    try {
        if (torchvision) {
            // Every parameter of the network must come from the file, with kata's shape after the
            // transforms: create them (initial values are overwritten), then load strictly.
            kata::create_parameters<ResNet50>(store);
            store.load(weights, kata::models::resnet50_torchvision_mapping(), kata::load_mode::strict);
            std::printf("loaded %zu parameters from %s (torchvision names and layouts)\n", store.size(),
                        weights);
        } else if (weights) {
            store.load(weights);  // a parameter missing from the file is reported when the executor binds
            std::printf("loaded %zu parameters from %s\n", store.size(), weights);
        } else {
            kata::models::synthetic_parameters<ResNet50>(store);
        }
    } catch (const kata::io_error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    constexpr const auto& g = ResNet50::graph;
    const auto c = demo::inference_resnet50::describe();
    std::printf(
        "ResNet-50 as written (NCHW):       %3d functions: %2d convolutions, %2d batch normalizations, %2d "
        "channel-last layers\n",
        g.num_functions(), g.count(kata::op_kind::convolution), g.count(kata::op_kind::batch_normalization),
        channel_last_layers(g));
    std::printf(
        "converted (BN folded, NHWC, fused): %2d functions: %2d convolutions (%d with fused Add2/ReLU), %2d "
        "batch normalizations, %2d channel-last layers, %d transposes\n",
        c.functions, c.convolutions, c.fused_convolutions, c.batch_normalizations, c.channel_last_layers,
        c.transposes);

    std::optional<kata::cpu::executor<ResNet50>> original_run(std::in_place, store);
    auto& original = *original_run;
    demo::inference_resnet50 converted(
        store);  // apply_conversion: w-folded, b-folded, then their _cl transposes
    std::printf("conversion derived %zu parameters (e.g. layer1/0/conv1/conv/w-folded_cl)\n",
                c.derived_parameters);
    std::printf(
        "activation memory planned at compile time: %.1f MiB (%.1f MiB without reuse), scratch %.1f MiB\n",
        double(original.arena_bytes) / (1 << 20), double(original.plan.naive_bytes) / (1 << 20),
        double(original.workspace_bytes) / (1 << 20));

    xt::xarray<float> x = xt::zeros<float>({1, 3, 224, 224});
    kata::models::synthetic_input("x", x.data(), x.size());
    xt::xarray<float> x_nhwc = xt::transpose(x, {0, 2, 3, 1});

    // Warm-up (first touch of the arenas and BLAS buffers), then interleaved timing.
    for (int i = 0; i < 3; ++i) {
        original(x);
        converted(x_nhwc.data());
    }
    std::vector<double> ta, tb;
    for (int i = 0; i < 15; ++i) {
        ta.push_back(time_ms([&] { original(x); }));
        tb.push_back(time_ms([&] { converted(x_nhwc.data()); }));
    }

    const float* ya = original(x).data();
    const float* yb = converted(x_nhwc.data());
    double diff = 0, mag = 0;
    for (std::size_t i = 0; i < 1000; ++i) {
        diff = std::max(diff, double(std::abs(ya[i] - yb[i])));
        mag = std::max(mag, double(std::abs(ya[i])));
    }
    const auto ka = top5(ya), kb = top5(yb);
    std::printf("outputs agree: max |original - converted| / max |original| = %.2e, same top-5: %s\n",
                diff / mag, ka == kb ? "yes" : "NO");
    std::printf("batch-1 CPU latency, %d threads (median of 15 interleaved runs):\n"
                "    as written, live executor (im2col + OpenBLAS):              %7.2f ms\n"
                "    BN folded + NHWC + fused, frozen executor (direct NHWC):     %7.2f ms (%.2fx faster)\n",
                kata::cpu::num_threads(), median(ta), median(tb), median(ta) / median(tb));
    std::printf("top-5:");
    for (int k : kb) std::printf("  class %d (%.4f)", k, double(yb[k]));
    std::printf("\n");

    // Deploying: the comparison above needed the trained parameters; a deployed process keeps one copy
    // of the weights. The original network goes, then every parameter the converted network does not
    // read and every one its executor packed at bind time (README: "one copy of the weights").
    const std::vector<float> logits(yb, yb + 1000);
    const std::size_t params_before = store.size();
    const double mib_before = parameter_mib(store);
    original_run.reset();
    const std::size_t erased = converted.keep_one_copy(store);
    const float* yc = converted(x_nhwc.data());
    const bool same = std::equal(logits.begin(), logits.end(), yc);
    std::printf(
        "one copy of the weights: %zu parameters erased from the store (%zu -> %zu, %.1f -> %.1f MiB), "
        "the executor runs on its packed weights: logits %s\n",
        erased, params_before, store.size(), mib_before, parameter_mib(store),
        same ? "bit-identical" : "DIFFERENT");
    return diff / mag < 1e-4 && ka == kb && same ? 0 : 1;
}
