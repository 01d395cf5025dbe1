// bench/resnet50_deploy_rss.cpp -- peak resident memory of the ResNet-50 batch-1 deploy path
// (issue #17 point 4: one copy of the weights), both ways in one program so that one invocation can
// interleave them (tools: bench/deploy_rss.sh runs A B A B ... and takes medians).
//
//     resnet50_deploy_rss save WEIGHTS.npz    writes the synthetic weights of ResNet-50 as written
//     resnet50_deploy_rss keep WEIGHTS.npz    the deploy path as before: load, apply_conversion
//                                             (every copy kept), frozen executor bound to the store
//     resnet50_deploy_rss drop WEIGHTS.npz    one copy: apply_conversion(..., replaced_parameters::drop),
//                                             frozen executor built with consume_parameters
//
// Built with -DKATA_DEPLOY_RSS_BASELINE against an older include/ (before the one-copy API), only
// save and keep exist: the "before" of bench/RESULTS.md.
//
// Each run loads the .npz into an empty store (merge load: the deployed program needs no initializer
// pass), converts (BN folded, NHWC, epilogues fused: the demo's network), builds the frozen executor
// and runs one synthetic image. It prints, after each phase, the process's VmRSS and VmHWM (peak) from
// /proc/self/status, the bytes the store holds and the executor's storage split, and a checksum of the
// logits (the two modes must print the same one: same arithmetic on the same values).
#include <kata/converters.hpp>
#include <kata/converters/apply_conversion.hpp>
#include <kata/cpu.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <memory>
#include <utility>

#include "../examples/models/resnet50.hpp"
#include "../examples/models/synthetic_weights.hpp"

using Net = kata::network<kata::models::resnet50_net<1>>;
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

double store_mib(const kata::parameter_store& store) {
    double bytes = 0;
    for (const auto& [name, p] : store.get_parameters(false)) bytes += double(p->data.size() * sizeof(float));
    return bytes / (1 << 20);
}

void phase(const char* what, const kata::parameter_store& store) {
    const auto [hwm, rss] = resident_kb();
    std::printf("%-10s rss %7.1f MiB  peak %7.1f MiB  store %3zu parameters %7.1f MiB\n", what, rss / 1024.0,
                hwm / 1024.0, store.size(), store_mib(store));
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s save|keep|drop WEIGHTS.npz\n", argv[0]);
        return 1;
    }
    const std::string mode = argv[1];
    kata::parameter_store store;
    if (mode == "save") {
        kata::models::synthetic_parameters<Net>(store);
        store.save(argv[2]);
        return 0;
    }
    if (mode != "keep" && mode != "drop") {
        std::fprintf(stderr, "unknown mode '%s'\n", mode.c_str());
        return 1;
    }
    const bool one_copy = mode == "drop";
    phase("start", store);
    store.load(argv[2]);
    phase("loaded", store);
    using Exec = kata::cpu::frozen_executor<Run>;
    std::unique_ptr<Exec> run;
#ifdef KATA_DEPLOY_RSS_BASELINE
    if (one_copy) return 1;
    kata::apply_conversion<Run>(store);
    phase("converted", store);
    run = std::make_unique<Exec>(store);
#else
    kata::apply_conversion<Run>(store,
                                one_copy ? kata::replaced_parameters::drop : kata::replaced_parameters::keep);
    phase("converted", store);
    if (one_copy)
        run = std::make_unique<Exec>(store, kata::cpu::consume_parameters);
    else
        run = std::make_unique<Exec>(store);
#endif
    phase("frozen", store);
    xt::xarray<float> x = xt::zeros<float>({1, 224, 224, 3});
    kata::models::synthetic_input("x", x.data(), x.size());
    auto y = (*run)(x);
    double sum = 0, sum_abs = 0;
    std::size_t top = 0;
    for (std::size_t i = 0; i < y.size(); ++i) {
        sum += y.data()[i];
        sum_abs += std::abs(y.data()[i]);
        if (y.data()[i] > y.data()[top]) top = i;
    }
    phase("ran", store);
    std::printf(
        "executor storage %.1f MiB: activations %.1f, scratch %.1f, packed weights %.1f, staging %.1f\n",
        Exec::storage_bytes / 1048576.0, Exec::arena_bytes / 1048576.0, Exec::workspace_bytes / 1048576.0,
        Exec::prepared_bytes / 1048576.0, Exec::staging_bytes / 1048576.0);
    std::printf("logits checksum %.9g %.9g argmax %zu\n", sum, sum_abs, top);
    const auto [hwm, rss] = resident_kb();
    std::printf("PEAK_KB %ld\n", hwm);
    return 0;
}
