// Mixed precision training (issue 12, point 2; docs/training.md "Mixed precision"):
//   * binary16 rounding (kata/exec/half_rounding.hpp) against its closed form over every finite binary16
//     value and every midpoint between neighbours (ties to even, subnormals, 65504, overflow to inf),
//     and the F16C path against the portable one and against the compiler's _Float16 conversion (2^18 floats);
//   * a large loss scale overflows the fp16 gradients (not the float32 ones): check_inf_or_nan_grad sees
//     it, DynamicLossScalingUpdater skips those steps (parameters bit-identical) and halves the scale;
//   * a real fp16 run (MLP regression onto small targets, so that gradients are small): without loss
//     scaling gradients underflow to zero and the loss stays measurably above float32's; with dynamic
//     loss scaling the loss curve follows float32's within the bound derived in that test.
#include <doctest/doctest.h>

#include <kata/cpu.hpp>
#include <kata/parameters.hpp>
#include <kata/pf.hpp>
#include <kata/train.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

using namespace kata;
using namespace kata::train::kw;
using exec::float_to_half_bits;
using exec::half_bits_to_float;

namespace {

// The closed form of binary16 bits h: (-1)^s 2^(e-15) (1 + m/1024), or 2^-24 m when e = 0.
double half_value(std::uint16_t h) {
    const int s = h >> 15, e = (h >> 10) & 0x1f, m = h & 0x3ff;
    const double v = e == 0 ? std::ldexp(double(m), -24) : std::ldexp(1.0 + double(m) / 1024.0, e - 15);
    return s ? -v : v;
}

}  // namespace

TEST_CASE("binary16 rounding: every value, every midpoint (ties to even), subnormals, 65504, overflow") {
    const float inf = std::numeric_limits<float>::infinity();
    for (std::uint32_t h = 0; h <= 0x7bffu; ++h) {
        const float a = half_bits_to_float(std::uint16_t(h));
        REQUIRE(double(a) == half_value(std::uint16_t(h)));
        REQUIRE(float_to_half_bits(a) == h);                                         // exact values stay
        REQUIRE(float_to_half_bits(-a) == (h | 0x8000u));                            // sign-symmetric
        const double b = h == 0x7bffu ? 65536.0 : half_value(std::uint16_t(h + 1));  // next (2^16: overflow)
        const float mid = float((double(a) + b) / 2);  // exact: 12 significant bits
        REQUIRE(double(mid) == (double(a) + b) / 2);
        const std::uint32_t up = h + 1;                         // 0x7c00 is +inf
        CHECK(float_to_half_bits(mid) == ((h & 1u) ? up : h));  // tie: to the even one
        CHECK(float_to_half_bits(std::nextafter(mid, 0.0f)) == h);
        CHECK(float_to_half_bits(std::nextafter(mid, inf)) == up);
    }
    // Named edges, also through the bulk path (F16C where the CPU has it) and the portable one.
    const float v[] = {65504.0f,        65519.996f,      65520.0f,   1e5f,     -1e5f,
                       0x1p-24f,        0x1p-25f,        0x1.8p-25f, 0x1p-14f, 0x1.ffcp-15f,
                       1.0f + 0x1p-11f, 1.0f + 0x3p-11f, -0.0f,      0x1p-30f};
    const float want[] = {65504.0f, 65504.0f, inf,      inf,  -inf,           0x1p-24f, 0.0f,
                          0x1p-24f, 0x1p-14f, 0x1p-14f, 1.0f, 1.0f + 0x1p-9f, -0.0f,    0.0f};
    for (bool generic : {false, true}) {
        exec::detail::force_generic_half() = generic;
        float b[std::size(v)];
        std::copy(std::begin(v), std::end(v), b);
        exec::round_to_half(b, std::int64_t(std::size(b)));
        for (std::size_t k = 0; k < std::size(v); ++k) {
            CHECK(std::bit_cast<std::uint32_t>(b[k]) == std::bit_cast<std::uint32_t>(want[k]));
            CHECK(exec::round_to_half(v[k]) == want[k]);
        }
        float n[9] = {std::numeric_limits<float>::quiet_NaN(), inf, -inf, 1, 2, 3, 4, 5, 6};
        exec::round_to_half(n, 9);
        CHECK(std::isnan(n[0]));
        CHECK(n[1] == inf);
        CHECK(n[2] == -inf);
    }
    exec::detail::force_generic_half() = false;
    // kata::exec::half (the raw-bits storage type) converts through the same functions, at compile time too.
    static_assert(exec::to_float(exec::to_half(65504.0f)) == 65504.0f);
    static_assert(exec::to_half(65520.0f).bits == 0x7c00u);
    static_assert(exec::to_half(-0x1p-24f).bits == 0x8001u);
    static_assert(exec::to_float(exec::half{0x3c01u}) == 1.0f + 0x1p-10f);
}

TEST_CASE("binary16 rounding: F16C path == portable path == the compiler's _Float16 on random floats") {
    std::mt19937 rng(12);
    std::vector<float> x(1 << 18);
    for (float& f : x) {
        f = std::bit_cast<float>(std::uint32_t(rng()));
        if (std::isnan(f)) f = 1.0f;
    }
    // Denser around the binary16 range (exponents 2^-26 .. 2^17).
    for (std::size_t i = 0; i < x.size(); i += 2)
        x[i] = std::ldexp(float(rng() % 0x1000000u) / float(0x1000000u), int(rng() % 44) - 26) *
               ((rng() & 1) ? -1.0f : 1.0f);
    std::vector<float> fast = x, slow = x;
    exec::round_to_half(fast.data(), std::int64_t(fast.size()));
    exec::detail::force_generic_half() = true;
    exec::round_to_half(slow.data(), std::int64_t(slow.size()));
    exec::detail::force_generic_half() = false;
    std::size_t mismatch = 0, compiler_mismatch = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        mismatch += std::bit_cast<std::uint32_t>(fast[i]) != std::bit_cast<std::uint32_t>(slow[i]);
        compiler_mismatch +=
            std::bit_cast<std::uint32_t>(float(_Float16(x[i]))) != std::bit_cast<std::uint32_t>(slow[i]);
    }
    CHECK(mismatch == 0);
    CHECK(compiler_mismatch == 0);
}

// ----- training ------------------------------------------------------------------------------------

namespace {

constexpr std::int64_t batch = 64, features = 16, hidden = 32, outputs = 4;
// The loss is weighted by 2^-16 (a loss term's weight, as in multi-task losses): its values stay normal
// binary16 numbers while the gradients of the activations fall into binary16's subnormal range.
constexpr double loss_weight = 0x1p-16;

template <int WeightLog2>
constexpr var regressor(builder& g) {
    auto x = g.input("x", {batch, features});
    auto h = F::tanh(PF::affine(x, hidden, {.name = "fc1"}));
    h = F::tanh(PF::affine(h, hidden, {.name = "fc2"}));
    auto y = PF::affine(h, outputs, {.name = "fc3"});
    auto t = g.input("t", {batch, outputs});
    return F::mul_scalar(F::mean(F::squared_error(y, t)), WeightLog2 == 0 ? 1.0 : loss_weight);
}
using Net = network<regressor<-16>>;
using NetUnweighted = network<regressor<0>>;  // the overflow test: gradients of ordinary size
using Train32 = train::training_graph<Net>;
using Train16 = train::training_graph<Net, train::loss_seed::one, train::precision::half>;
using Train16Scaled = train::training_graph<Net, train::loss_seed::scale, train::precision::half>;
using Train16Overflow = train::training_graph<NetUnweighted, train::loss_seed::scale, train::precision::half>;
using Train32Overflow = train::training_graph<NetUnweighted, train::loss_seed::scale>;

// Batch i: inputs in (-1, 1), targets `amplitude` times a fixed smooth function of them (a teacher).
void fill(std::int64_t i, xt::xarray<float>& x, xt::xarray<float>& t, double amplitude = 1.0) {
    for (std::int64_t r = 0; r < batch; ++r) {
        const double k = double(i) * double(batch) + double(r);
        for (std::int64_t c = 0; c < features; ++c)
            x(r, c) = float(std::sin(0.37 * k * double(c + 1) + 0.11 * double(c)));
        for (std::int64_t o = 0; o < outputs; ++o) {
            double s = 0;
            for (std::int64_t c = 0; c < features; ++c)
                s += std::cos(0.5 * double(o * features + c)) * double(x(r, c));
            t(r, o) = float(amplitude * std::tanh(0.5 * s));
        }
    }
}

std::size_t zero_gradients(parameter_store& s) {
    std::size_t n = 0;
    for (const auto& [name, p] : s.get_parameters(true))
        if (name.front() != '@') n += std::size_t(std::count(p->grad().begin(), p->grad().end(), 0.0f));
    return n;
}
std::size_t gradient_count(parameter_store& s) {
    std::size_t n = 0;
    for (const auto& [name, p] : s.get_parameters(true))
        if (name.front() != '@') n += p->grad().size();
    return n;
}

}  // namespace

TEST_CASE(
    "fp16 overflow under a large loss scale: detected, step skipped, parameters untouched, scale halved") {
    parameter_store s16, s32;
    create_parameters<NetUnweighted>(s16);
    for (const auto& [name, p] : s16.get_parameters(false))
        s32.get_or_create(name, std::vector<std::size_t>(p->data.shape().begin(), p->data.shape().end()),
                          initializer::constant(0.0f), p->need_grad)
            .data = p->data;
    train::cpu_executor<Train16Overflow> step16(s16);
    train::cpu_executor<Train32Overflow> step32(s32);
    xt::xarray<float> x = xt::zeros<float>({batch, features}), t = xt::zeros<float>({batch, outputs});
    fill(0, x, t, 30.0);
    // Scale 2^15: the seed is representable in fp16, the scaled gradients of this batch (targets up to 30)
    // are not.
    train::Sgd solver16(0.1f), solver32(0.1f);
    solver16.set_parameters(s16);
    solver32.set_parameters(s32);
    for (parameter_store* s : {&s16, &s32}) s->find(train::loss_scale_key)->data.fill(0x1p15f);
    solver16.zero_grad();
    solver32.zero_grad();
    step16.execute(x, t);
    step32.execute(x, t);
    CHECK(solver16.check_inf_or_nan_grad());        // fp16: some scaled gradient passed 65504
    CHECK_FALSE(solver32.check_inf_or_nan_grad());  // the same step in float32 is finite
    // A seed above 65504 is already inf in fp16 (nnabla casts the seed to half as well).
    s16.find(train::loss_scale_key)->data.fill(0x1p16f);
    solver16.zero_grad();
    step16.execute(x, t);
    CHECK(solver16.check_inf_or_nan_grad());

    // DynamicLossScalingUpdater from 2^16 on the same batch: skips and halves until the scaled gradients
    // fit; a skipped step leaves every parameter bit-identical.
    std::int64_t current = 0;
    train::DynamicLossScalingUpdater dls(
        solver16, train::loss(step16, x, t), data_feeder = [&] { fill(0, x, t, 30.0); }, scale = 65536.0,
        scaling_factor = 2.0, N = 1000);
    std::vector<float> scales;
    int skipped = 0;
    for (; current < 8; ++current) {
        std::vector<std::uint32_t> before;
        for (const auto& [name, p] : s16.get_parameters(true))
            for (float v : p->data) before.push_back(std::bit_cast<std::uint32_t>(v));
        const bool updated = dls.try_update(current);
        scales.push_back(dls.scale());
        std::vector<std::uint32_t> after;
        for (const auto& [name, p] : s16.get_parameters(true))
            for (float v : p->data) after.push_back(std::bit_cast<std::uint32_t>(v));
        CHECK((before == after) == !updated);
        if (updated) break;
        ++skipped;
    }
    // 2^16 (inf seed) and 2^15 must overflow: the first step is then skipped at least twice.
    REQUIRE(skipped >= 2);
    CHECK(dls.skipped() == skipped);
    for (int k = 0; k < int(scales.size()); ++k)
        CHECK(scales[std::size_t(k)] == std::ldexp(65536.0f, -std::min(k + 1, skipped)));
    MESSAGE("fp16 overflow: " << skipped << " skipped steps from scale 2^16, first update at scale "
                              << dls.scale());
}

namespace {

// One training run from the parameters of `init`: the float32 loss of a fixed evaluation batch every
// `eval_every` steps (a float32 executor on the current master weights, so every run is measured the
// same way), and the mean fraction of parameter gradients that are exactly zero at the update.
struct run_result {
    std::vector<double> eval;
    double zero_fraction = 0;
    float final_scale = 0;
    std::int64_t skipped = 0;
};
constexpr int eval_every = 10;

template <class Train, bool Scaled>
run_result train_run(parameter_store& init, int steps, float lr) {
    parameter_store s;
    for (const auto& [name, p] : init.get_parameters(false))
        s.get_or_create(name, std::vector<std::size_t>(p->data.shape().begin(), p->data.shape().end()),
                        initializer::constant(0.0f), p->need_grad)
            .data = p->data;
    train::cpu_executor<Train> step(s);
    cpu::executor<Net> evaluate(s);
    xt::xarray<float> ex = xt::zeros<float>({batch, features}), et = xt::zeros<float>({batch, outputs});
    fill(1000, ex, et);
    train::Momentum solver(lr, 0.9f);
    solver.set_parameters(s);
    xt::xarray<float> x = xt::zeros<float>({batch, features}), t = xt::zeros<float>({batch, outputs});
    std::int64_t current = 0;
    run_result r;
    double zeros = 0;
    auto feed = [&] { fill(current, x, t); };
    auto count = [&] { zeros += double(zero_gradients(s)) / double(gradient_count(s)); };
    auto measure = [&] {
        if (current % eval_every != 0) return;
        evaluate.execute(ex, et);
        r.eval.push_back(double(*evaluate.output_data<0>()) / loss_weight);
    };
    if constexpr (Scaled) {
        train::DynamicLossScalingUpdater u(solver, train::loss(step, x, t), data_feeder = feed,
                                           scale = 0x1p15, scaling_factor = 2.0, N = 2000,
                                           update_callback_on_start = count);
        for (; current < steps; ++current) {
            measure();
            u.update(current);
        }
        r.final_scale = u.scale();
        r.skipped = u.skipped();
    } else {
        train::Updater u(solver, train::loss(step, x, t), data_feeder = feed,
                         update_callback_on_start = count);
        for (; current < steps; ++current) {
            measure();
            u.update(current);
        }
    }
    measure();
    r.zero_fraction = zeros / double(steps - r.skipped);
    return r;
}

}  // namespace

// The bound: with the loss scale, every scaled gradient is a normal binary16 number, so each rounding
// on the way from the inputs through the loss to a weight gradient has a relative error of at most
// u = 2^-11. A path passes each kernel of the step at most once, plus the binary16 copy of a weight, so
// to first order each update direction is perturbed by at most (kernels + 1) u relative, and so is the
// loss reached: |L_fp16(t) - L_fp32(t)| <= (kernels + 1) u L_fp32(t) at every evaluation point. Without
// loss scaling the weighted loss's output gradient 2^-16 * 2 e / 256 is below 2^-25 (rounds to 0) once
// the errors |e| are below 0.25: the gradients vanish and the loss stays far outside that bound.
constexpr int kernels_in_step = [] {
    int n = 0;
    for (const node& v : Train16::graph.nodes) n += v.op != op_kind::input && v.op != op_kind::parameter;
    return n;
}();
TEST_CASE("fp16 training: gradients underflow without loss scaling, dynamic loss scaling follows float32") {
    constexpr int steps = 300;
    constexpr double eps = double(kernels_in_step + 1) * 0x1p-11;
    const float lr = 0.05f / float(loss_weight);  // the unweighted loss's step, exactly (loss_weight = 2^-16)
    parameter_store init;
    create_parameters<Net>(init);
    const run_result f32 = train_run<Train32, false>(init, steps, lr);
    const run_result f16 = train_run<Train16, false>(init, steps, lr);
    const run_result dls = train_run<Train16Scaled, true>(init, steps, lr);
    REQUIRE(f32.eval.size() == std::size_t(steps / eval_every + 1));
    double worst_dls = 0;
    for (std::size_t k = 0; k < f32.eval.size(); ++k) {
        CHECK(std::abs(dls.eval[k] - f32.eval[k]) <= eps * f32.eval[k]);
        worst_dls = std::max(worst_dls, std::abs(dls.eval[k] - f32.eval[k]) / f32.eval[k]);
        if (k % 5 == 0)
            MESSAGE("step " << k * eval_every << ": loss f32 " << f32.eval[k] << ", fp16 " << f16.eval[k]
                            << ", fp16 + loss scaling " << dls.eval[k]);
    }
    const double last32 = f32.eval.back(), last16 = f16.eval.back(), last_dls = dls.eval.back();
    CHECK(f32.eval.back() < 0.01 * f32.eval.front());  // float32 does learn
    CHECK(std::abs(last16 - last32) > eps * last32);   // without scaling: outside the bound
    CHECK(f16.zero_fraction > 0.5);                    // most gradients underflowed
    CHECK(f32.zero_fraction == 0.0);
    CHECK(dls.zero_fraction < 1e-3);
    CHECK(dls.skipped == 0);  // 2^15 keeps every scaled gradient below 65504 here
    MESSAGE("after " << steps << " steps: loss f32 " << last32 << ", fp16 without scaling " << last16 << " ("
                     << last16 / last32 << "x), fp16 with dynamic loss scaling " << last_dls
                     << " (largest relative gap over the curve " << worst_dls << ", bound " << eps << " from "
                     << kernels_in_step << " kernels"
                     << "); zero gradients: f32 " << f32.zero_fraction << ", fp16 " << f16.zero_fraction
                     << ", fp16 + scaling " << dls.zero_fraction);
}
