// check_lenet_int8: checks the output of the int8 LeNet firmware (embedded/firmware/lenet_int8.cpp, under
// QEMU or as the host build) against the int8 executor on the host.
//
//     check_lenet_int8 <firmware output file>
//
// This program is built with the host's copy of the same generated lenet_int8_weights.hpp and runs
// kata::embedded::executor<lenet_int8<1>, table> on the same quantized image: int8 inference is integer
// arithmetic, so every printed code must be equal (bit for bit, not within a tolerance). The host
// kernels themselves are checked against the independent numpy reference in tests/embedded/int8_lenet.cpp.
// It also requires the firmware's own report: 10 codes, "reference_mismatches 0" (dequantized logits
// within the stated bound of PyTorch's float logits), "heap_allocations" 0 (or -1: not counted), "done".
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <kata/embedded/backend.hpp>

#include "../../../examples/models/lenet_int8.hpp"
#include "lenet_int8_weights.hpp"

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: check_lenet_int8 <firmware output>\n");
        return 1;
    }
    std::ifstream in(argv[1]);
    if (!in) {
        std::fprintf(stderr, "check_lenet_int8: cannot read %s\n", argv[1]);
        return 1;
    }
    int codes[10];
    bool seen[10]{};
    std::map<std::string, long long> values;
    bool done = false;
    for (std::string line; std::getline(in, line);) {
        std::istringstream ls(line);
        std::string key;
        ls >> key;
        if (key == "qlogit") {
            int k, v;
            if (ls >> k >> v && k >= 0 && k < 10) {
                codes[k] = v;
                seen[k] = true;
            }
        } else if (key == "done") {
            done = true;
        } else if (!key.empty() && key != "board" && key != "logit") {
            long long v;
            if (ls >> v) values[key] = v;
        }
    }
    int failures = 0;
    auto fail = [&](const std::string& why) {
        std::fprintf(stderr, "check_lenet_int8: %s\n", why.c_str());
        ++failures;
    };
    for (int k = 0; k < 10; ++k)
        if (!seen[k]) fail("code " + std::to_string(k) + " missing from the firmware's output");
    if (!done) fail("the firmware did not print 'done'");
    if (values["reference_mismatches"] != 0)
        fail("the firmware reports dequantized logits outside the stated bound of the float logits");
    if (!values.count("heap_allocations") ||
        (values["heap_allocations"] != 0 && values["heap_allocations"] != -1))
        fail("heap_allocations must be 0 (or -1: not counted)");
    if (failures) return 1;

    using LeNetInt8 = kata::models::lenet_int8<1>;
    static kata::embedded::executor<LeNetInt8, kata_lenet_int8::parameters> run;
    run.execute(kata_lenet_int8::x);
    const std::int8_t* q = run.output_data<0>();
    for (int k = 0; k < 10; ++k)
        if (codes[k] != int(q[k]))
            fail("code " + std::to_string(k) + ": firmware " + std::to_string(codes[k]) +
                 ", host int8 executor " + std::to_string(int(q[k])));
    if (!failures) std::printf("check_lenet_int8: 10 int8 logits equal to the host int8 executor's\n");
    return failures ? 1 : 0;
}
