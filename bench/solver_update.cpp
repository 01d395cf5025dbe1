// Adam's update on ~25M floats: kata's solver against the same rule written as xtensor expressions
// and as a plain hand loop.
//
//   solver_update [rounds] [reps] [n]        (defaults 11 rounds, 3 reps, 25,000,000 floats)
//
// Issue #11 asks for update rules as xtensor expressions unless a hand loop is faster; this measures it.
// Variants (single thread, the same float operations in the same order):
//   kata    kata::S::Adam::update() on a parameter_store parameter: the rule written once over a generic
//           value type and run as one fused loop over xsimd batches (kata/train/elementwise.hpp)
//   blocks  the rule as three xt::noalias assignments (m, v, w) over 1-D adaptors, run block by block
//           (2048 floats) so that the later assignments read m and v from cache
//   whole   the three assignments over whole-tensor adaptors (m, v, w streamed from memory three times)
//   loop    one fused plain loop over raw __restrict pointers; g++ does not vectorise it: std::sqrt may
//           set errno, which is control flow in the loop (-fno-math-errno, which kata does not set,
//           would change that)
// Rounds run the variants in rotated order (kata blocks whole loop, blocks whole loop kata, ...); each
// round takes the median of `reps` updates per variant; the program prints the median over rounds of
// each variant, the ratio of those medians to kata's and the median of the per-round ratios (steadier
// on a shared machine). Before timing, one step of each variant from the same state is compared.
// The target solver_update_xsimd is the same program compiled with XTENSOR_USE_XSIMD (xtensor's own
// SIMD assignment path; kata's library targets do not define it).
#include <kata/detail/xtensor_fix.hpp>
#include <kata/train/solvers.hpp>

#include <xtensor/xadapt.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xnoalias.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

constexpr float alpha = 1e-4f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;

struct buffers {
    std::vector<float> w, g, m, v;
    explicit buffers(std::size_t n) : w(n), g(n), m(n), v(n) {
        for (std::size_t i = 0; i < n; ++i) {
            w[i] = 0.01f * float(i % 101) - 0.5f;
            g[i] = 0.001f * float(i % 37) - 0.018f;
            m[i] = 0.0001f * float(i % 13);
            v[i] = 0.00001f * float(i % 7 + 1);
        }
    }
};

/// A non-owning 1-D xtensor view of n floats at p (fixed rank, no allocation).
template <class T>
auto view1d(T* p, std::size_t n) noexcept {
    return xt::adapt(p, n, xt::no_ownership(), std::array<std::size_t, 1>{n});
}

void adam_whole(buffers& b, std::uint32_t t) {
    const std::size_t n = b.w.size();
    auto w = view1d(b.w.data(), n);
    auto g = view1d(static_cast<const float*>(b.g.data()), n);
    auto m = view1d(b.m.data(), n);
    auto v = view1d(b.v.data(), n);
    const float alpha_t = alpha * kata::train::detail::adam_bias_correction(beta1, beta2, t);
    xt::noalias(m) = beta1 * m + (1 - beta1) * g;
    xt::noalias(v) = beta2 * v + (1 - beta2) * g * g;
    xt::noalias(w) = w - alpha_t * m / (xt::sqrt(v) + eps);
}

void adam_loop(buffers& b, std::uint32_t t) {
    const std::size_t n = b.w.size();
    float* __restrict w = b.w.data();
    const float* __restrict g = b.g.data();
    float* __restrict m = b.m.data();
    float* __restrict v = b.v.data();
    const float alpha_t = alpha * kata::train::detail::adam_bias_correction(beta1, beta2, t);
    const float c1 = 1 - beta1, c2 = 1 - beta2;
    for (std::size_t i = 0; i < n; ++i) {
        m[i] = beta1 * m[i] + c1 * g[i];
        v[i] = beta2 * v[i] + c2 * g[i] * g[i];
        w[i] = w[i] - alpha_t * m[i] / (std::sqrt(v[i]) + eps);
    }
}

void adam_blocks(buffers& b, std::uint32_t t) {
    constexpr std::size_t block = 2048;
    const std::size_t n = b.w.size();
    const float alpha_t = alpha * kata::train::detail::adam_bias_correction(beta1, beta2, t);
    for (std::size_t off = 0; off < n; off += block) {
        const std::size_t len = std::min(block, n - off);
        auto w = view1d(b.w.data() + off, len);
        auto g = view1d(static_cast<const float*>(b.g.data()) + off, len);
        auto m = view1d(b.m.data() + off, len);
        auto v = view1d(b.v.data() + off, len);
        xt::noalias(m) = beta1 * m + (1 - beta1) * g;
        xt::noalias(v) = beta2 * v + (1 - beta2) * g * g;
        xt::noalias(w) = w - alpha_t * m / (xt::sqrt(v) + eps);
    }
}

struct kata_adam {
    kata::parameter_store store;
    kata::S::Adam adam{kata::S::Adam::args{.alpha = alpha, .beta1 = beta1, .beta2 = beta2, .eps = eps}};
    kata::parameter* p;
    explicit kata_adam(const buffers& init) {
        const std::size_t n = init.w.size();
        p = &store.get_or_create("w", {n});
        std::copy(init.w.begin(), init.w.end(), p->data.begin());
        adam.set_parameters(store);
        std::copy(init.g.begin(), init.g.end(), p->grad().begin());
        auto st = adam.get_states();
        std::copy(init.m.begin(), init.m.end(), st.at("w").pstate.at("mean").begin());
        std::copy(init.v.begin(), init.v.end(), st.at("w").pstate.at("var").begin());
        adam.set_states(st);
    }
};

double median(std::vector<double> x) {
    std::sort(x.begin(), x.end());
    const std::size_t k = x.size() / 2;
    return x.size() % 2 ? x[k] : 0.5 * (x[k - 1] + x[k]);
}

template <class F>
double time_ms(F&& f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

/// One step of each variant from the same state: the largest difference in units of float32 epsilon
/// relative to |w| (0 = bitwise equal).
void agreement(std::size_t n) {
    buffers a(n), b(n), c(n);
    kata_adam k(a);
    k.adam.update();
    adam_blocks(a, 1);
    adam_whole(b, 1);
    adam_loop(c, 1);
    double worst[3] = {};
    for (std::size_t i = 0; i < n; ++i) {
        const double x = k.p->data(i), scale = std::max(1e-30, double(std::fabs(x))) * 1.1920929e-7;
        worst[0] = std::max(worst[0], std::fabs(double(a.w[i]) - x) / scale);
        worst[1] = std::max(worst[1], std::fabs(double(b.w[i]) - x) / scale);
        worst[2] = std::max(worst[2], std::fabs(double(c.w[i]) - x) / scale);
    }
    std::printf("agreement after one step (%zu floats), in float32 epsilons of |w| from kata: blocks %.2f, "
                "whole %.2f, "
                "loop %.2f\n",
                n, worst[0], worst[1], worst[2]);
}

}  // namespace

int main(int argc, char** argv) {
    const int rounds = argc > 1 ? std::atoi(argv[1]) : 11;
    const int reps = argc > 2 ? std::atoi(argv[2]) : 3;
    const std::size_t n = argc > 3 ? std::size_t(std::atoll(argv[3])) : 25'000'000;
#ifdef XTENSOR_USE_XSIMD
    const char* simd = "XTENSOR_USE_XSIMD";
#else
    const char* simd = "no XTENSOR_USE_XSIMD";
#endif
    std::printf("Adam update, %zu floats (%.0f MB per buffer), %d rounds x %d reps, %s\n", n, n * 4 / 1e6,
                rounds, reps, simd);
    agreement(100'003);

    buffers init(n);
    kata_adam k(init);
    buffers blocks(n), whole(n), loop(n);
    std::uint32_t t_blocks = 0, t_whole = 0, t_loop = 0;
    constexpr int variants = 4;
    const char* names[variants] = {"kata", "blocks", "whole", "loop"};
    auto run = [&](int variant) {
        std::vector<double> ms;
        for (int r = 0; r < reps; ++r) {
            switch (variant) {
            case 0: ms.push_back(time_ms([&] { k.adam.update(); })); break;
            case 1: ms.push_back(time_ms([&] { adam_blocks(blocks, ++t_blocks); })); break;
            case 2: ms.push_back(time_ms([&] { adam_whole(whole, ++t_whole); })); break;
            default: ms.push_back(time_ms([&] { adam_loop(loop, ++t_loop); })); break;
            }
        }
        return median(ms);
    };
    for (int v = 0; v < variants; ++v) run(v);  // warm-up: page in every buffer

    std::vector<double> t[variants], ratio[variants];
    for (int r = 0; r < rounds; ++r) {
        double round_ms[variants];
        for (int j = 0; j < variants; ++j) {
            const int v = (r + j) % variants;
            round_ms[v] = run(v);
            t[v].push_back(round_ms[v]);
        }
        std::printf("round %2d:", r);
        for (int v = 0; v < variants; ++v) {
            ratio[v].push_back(round_ms[v] / round_ms[0]);
            std::printf("  %s %8.2f ms", names[v], round_ms[v]);
        }
        std::printf("\n");
    }
    for (int v = 0; v < variants; ++v)
        std::printf("median %-6s %8.2f ms  (%.2f GB/s of required traffic: 4 reads + 3 writes per float)\n",
                    names[v], median(t[v]), 7.0 * 4 * n / (median(t[v]) * 1e6));
    for (int v = 1; v < variants; ++v)
        std::printf("%-6s / kata: ratio of medians %.3f, median of per-round ratios %.3f\n", names[v],
                    median(t[v]) / median(t[0]), median(ratio[v]));
    // Keep the results observable.
    std::printf("checksum %.6g %.6g %.6g %.6g\n", double(k.p->data(n / 2)), double(blocks.w[n / 2]),
                double(whole.w[n / 2]), double(loop.w[n / 2]));
}
