// The ResNet-50 reference check shared by the plain and the converted network's tests: logits
// against PyTorch's float64 logits (tests/fixtures/resnet50/reference.npz, made by
// tools/fixtures/resnet50_reference.py from the synthetic weights), normwise within 1e-4 relative
// error and the same top-5 classes.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numeric>
#include <vector>

#include "fixtures.hpp"

namespace kata::test {

inline void check_resnet50_logits(const float* y, std::size_t n, fixture& ref) {
    const auto& want = ref["logits"];
    REQUIRE(n == want.size());
    double max_err = 0, max_ref = 0;
    for (std::size_t i = 0; i < n; ++i) {
        max_err = std::max(max_err, std::abs(double(y[i]) - double(want.data()[i])));
        max_ref = std::max(max_ref, std::abs(double(want.data()[i])));
    }
    INFO("max |kata - torch| = " << max_err << ", max |torch| = " << max_ref);
    CHECK(max_err / max_ref < 1e-4);
    std::vector<int> idx(n);
    std::iota(idx.begin(), idx.end(), 0);
    std::partial_sort(idx.begin(), idx.begin() + 5, idx.end(), [&](int a, int b) { return y[a] > y[b]; });
    for (int k = 0; k < 5; ++k) CHECK(idx[std::size_t(k)] == int(ref["top5"](k)));
}

}  // namespace kata::test
