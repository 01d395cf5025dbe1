// check_lenet: checks the output of the LeNet firmware (embedded/firmware/lenet.cpp, run under QEMU or as
// the host build) against kata's CPU executor and against PyTorch's float64 logits.
//
//     check_lenet <firmware output file> <tests/fixtures/embedded/lenet_fashion.npz>
//
// The firmware prints each logit's exact float bits; this program runs cpu::executor<LeNet> on the
// fixture's parameters and input, and requires |firmware - cpu| <= atol + rtol |cpu| and the same
// against the fixture's torch logits "y", with rtol 1e-5 (issue #14: "float: within 1e-5 relative") and
// atol 1e-6 for logits near 0 (float32 sums of ~400 products: a few ulp of the largest partial sums).
// It also requires the firmware's own report: 10 logits, "reference_mismatches 0", "heap_allocations"
// 0 (or -1: a board that links no allocator, checked on the ELF instead), and "done".
// Exit status 0 when everything holds, 1 otherwise (with the reasons on stderr).
#include <kata/cpu.hpp>
#include <kata/io/npz.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "../../../examples/models/lenet.hpp"

namespace {
constexpr double k_rtol = 1e-5, k_atol = 1e-6;
}

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: check_lenet <firmware output> <lenet.npz>\n");
        return 1;
    }
    std::ifstream in(argv[1]);
    if (!in) {
        std::fprintf(stderr, "check_lenet: cannot read %s\n", argv[1]);
        return 1;
    }
    float logits[10];
    bool seen[10]{};
    std::map<std::string, long long> values;
    bool done = false;
    for (std::string line; std::getline(in, line);) {
        std::istringstream ls(line);
        std::string key;
        ls >> key;
        if (key == "logit") {
            int k;
            std::string dec, bits;
            ls >> k >> dec >> bits;
            if (k < 0 || k >= 10 || bits.size() != 10) continue;
            const std::uint32_t b = std::uint32_t(std::stoul(bits, nullptr, 16));
            std::memcpy(&logits[k], &b, sizeof b);
            seen[k] = true;
        } else if (key == "done") {
            done = true;
        } else if (!key.empty() && key != "board") {
            long long v;
            if (ls >> v) values[key] = v;
        }
    }
    int failures = 0;
    auto fail = [&](const std::string& why) {
        std::fprintf(stderr, "check_lenet: %s\n", why.c_str());
        ++failures;
    };
    for (int k = 0; k < 10; ++k)
        if (!seen[k]) fail("logit " + std::to_string(k) + " missing from the firmware's output");
    if (!done) fail("the firmware did not print 'done'");
    if (values["reference_mismatches"] != 0)
        fail("the firmware reports mismatches against its stored reference");
    if (!values.count("heap_allocations") ||
        (values["heap_allocations"] != 0 && values["heap_allocations"] != -1))
        fail("heap_allocations must be 0 (or -1: not counted), got " +
             std::to_string(values["heap_allocations"]));
    if (failures) return 1;

    using LeNet = kata::network<kata::models::lenet<1>>;
    const std::vector<std::byte> bytes = kata::io::read_file_bytes(argv[2]);
    kata::parameter_store store;
    xt::xarray<float> x, y_torch;
    for (const auto& e : kata::io::read_npz(bytes, argv[2])) {
        // LeNet's parameters ("layer/leaf"), the input and the logits; other arrays (calibration and
        // test images of lenet_fashion.npz) are not this check's business.
        if (e.name.find('/') == std::string::npos && e.name != "x" && e.name != "y") continue;
        xt::xarray<float> a = kata::io::to_xarray<float>(e.array, e.name);
        if (e.name == "x")
            x = a;
        else if (e.name == "y")
            y_torch = a;
        else
            store.create_or_replace(e.name, std::vector<std::size_t>(a.shape().begin(), a.shape().end()),
                                    kata::initializer::from_array(a));
    }
    kata::cpu::executor<LeNet> run(store);
    const xt::xarray<float> y_cpu = run(x);
    double worst_cpu = 0, worst_torch = 0;
    for (int k = 0; k < 10; ++k) {
        const double f = logits[k], c = y_cpu.data()[k], t = y_torch.data()[k];
        worst_cpu = std::max(worst_cpu, std::fabs(f - c) / std::max(std::fabs(c), 1e-30));
        worst_torch = std::max(worst_torch, std::fabs(f - t) / std::max(std::fabs(t), 1e-30));
        if (!(std::fabs(f - c) <= k_atol + k_rtol * std::fabs(c)))
            fail("logit " + std::to_string(k) + ": firmware " + std::to_string(f) + ", CPU executor " +
                 std::to_string(c));
        if (!(std::fabs(f - t) <= k_atol + k_rtol * std::fabs(t)))
            fail("logit " + std::to_string(k) + ": firmware " + std::to_string(f) + ", PyTorch " +
                 std::to_string(t));
    }
    std::printf(
        "check_lenet: 10 logits; max relative difference vs the CPU executor %.3g, vs PyTorch (float64) "
        "%.3g; tolerance rtol %g + atol %g\n",
        worst_cpu, worst_torch, k_rtol, k_atol);
    return failures ? 1 : 0;
}
