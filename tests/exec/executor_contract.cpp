// The executor's contract with its callers (issue 15, points 2, 3 and 13; kata/exec/executor.hpp):
// * a parameter replaced after bind() with another shape (parameter_store::create_or_replace) is
//   refused at the next call with binding_error naming the parameter and both shapes, before anything
//   runs; values replaced with the same shape are used (live). Guards against the old behaviour: the
//   kernels, instantiated for the bound shape, read the new buffer out of bounds (AddressSanitizer:
//   heap-buffer-overflow in the Affine bias copy at batch 16), without any error.
// * one executor is not re-entrant: a second call while one is running throws instead of racing. The
//   test makes the overlap deterministic with a backend whose ReLU kernel blocks the first call until
//   the main thread has tried a second one. Guards against the old behaviour: the second call ran on
//   the same buffers (wrong results, ThreadSanitizer reports on the input pointers and the arena).
// * a failed bind on a converted network names apply_conversion as what derives the missing
//   parameter. Guards against the old message, which only said "is not in the parameter store".
// References are closed forms computed here in double precision (x W + b, relu).
#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <thread>
#include <type_traits>

#include <kata/converters.hpp>
#include <kata/cpu.hpp>

#include "../support/fixtures.hpp"

using namespace kata;
namespace kt = kata::test;

namespace {

constexpr var affine_net(builder& g) {
    auto x = g.input("x", {16, 13});
    return F::affine(x, g.parameter("fc/W", {13, 7}), g.parameter("fc/b", {7}));
}
using AffineNet = network<affine_net>;

xt::xarray<float> ramp(std::vector<std::size_t> shape, float scale, float shift) {
    xt::xarray<float> a = xt::zeros<float>(shape);
    for (std::size_t i = 0; i < a.size(); ++i)
        a.data()[i] = shift + scale * float(int((i * 29 + 5) % 17) - 8);
    return a;
}

// y = x W + b, in double.
void check_affine(const xt::xarray<float>& y, const xt::xarray<float>& x, const xt::xarray<float>& W,
                  const xt::xarray<float>& b) {
    REQUIRE(y.shape(0) == 16);
    REQUIRE(y.shape(1) == 7);
    for (std::size_t r = 0; r < 16; ++r)
        for (std::size_t j = 0; j < 7; ++j) {
            double acc = b(j);
            for (std::size_t k = 0; k < 13; ++k) acc += double(x(r, k)) * double(W(k, j));
            CHECK(y(r, j) == doctest::Approx(acc).epsilon(1e-5));
        }
}

template <class Executor>
void check_replaced_shape_is_refused(const char* who) {
    parameter_store store;
    const xt::xarray<float> x = ramp({16, 13}, 0.25f, 0.1f);
    const xt::xarray<float> W = ramp({13, 7}, 0.05f, -0.02f);
    const xt::xarray<float> b = ramp({7}, 0.5f, 0.3f);
    kt::set_param(store, "fc/W", W);
    kt::set_param(store, "fc/b", b);
    Executor run(store);
    check_affine(run(x), x, W, b);

    // A bias of another length: refused, naming the parameter, the new shape and the bound one.
    kt::set_param(store, "fc/b", ramp({8}, 0.5f, 0.3f));
    CHECK_THROWS_WITH_AS(run(x),
                         doctest::Contains((std::string(who) +
                                            ": parameter 'fc/b' was replaced after bind() and now has shape "
                                            "(8,) but the executor bound it with (7,)")
                                               .c_str()),
                         exec::binding_error);
    // A smaller weight (the old code read past its end) and a rank change.
    kt::set_param(store, "fc/b", b);
    kt::set_param(store, "fc/W", ramp({13, 5}, 0.05f, 0.0f));
    CHECK_THROWS_WITH_AS(run(x),
                         doctest::Contains("parameter 'fc/W' was replaced after bind() and now has "
                                           "shape (13,5) but the executor bound it with (13,7)"),
                         exec::binding_error);
    kt::set_param(store, "fc/W", ramp({91}, 0.05f, 0.0f));
    CHECK_THROWS_WITH_AS(run(x),
                         doctest::Contains("'fc/W' was replaced after bind() and now has shape (91,)"),
                         exec::binding_error);
    // Restoring the shape (new values) makes the executor usable again; a frozen executor's Affine reads
    // the source at every call too (it does not prepare its parameters).
    const xt::xarray<float> W2 = ramp({13, 7}, -0.03f, 0.01f);
    kt::set_param(store, "fc/W", W2);
    check_affine(run(x), x, W2, b);
}

// A backend whose ReLU kernel blocks the first call that reaches it until the test releases it.
std::atomic<bool> relu_entered{false};
std::atomic<bool> relu_release{false};
std::atomic<bool> relu_blocked_once{false};

struct blocking_relu {
    template <exec::op_instance I>
    static constexpr std::size_t workspace_bytes() {
        return cpu::kernel<op_kind::relu>::template workspace_bytes<I>();
    }
    template <exec::op_instance I>
    static void run(const exec::kernel_io& io) {
        if (!relu_blocked_once.exchange(true)) {
            relu_entered = true;
            while (!relu_release) std::this_thread::yield();
        }
        cpu::kernel<op_kind::relu>::template run<I>(io);
    }
};
struct blocking_backend {
    template <op_kind K>
    using kernel = std::conditional_t<K == op_kind::relu, blocking_relu, cpu::kernel<K>>;
    static constexpr std::string_view executor_name = "blocking_executor";
};

constexpr var relu_net(builder& g) {
    auto x = g.input("x", {3, 5});
    return F::relu(F::add_scalar(x, 0.5));
}
using BlockingExecutor =
    exec::executor<network<relu_net>, blocking_backend, exec::heap_arena, store_parameters>;

void check_relu(const float* y, const xt::xarray<float>& x) {
    for (std::size_t i = 0; i < x.size(); ++i) CHECK(y[i] == std::max(0.0f, x.data()[i] + 0.5f));
}

// Converted network (BN folded): the executor reads conv/w-folded and conv/b-folded.
constexpr var conv_bn(builder& g) {
    auto x = g.input("x", {1, 3, 7, 6});
    auto h = PF::convolution(x, 5, {3, 2}, {.pad = {1, 0}, .name = "c1"});
    return F::relu(PF::batch_normalization(h, {.batch_stat = false, .name = "bn"}));
}
using Folded = convert<network<conv_bn>, BatchNormalizationFoldingModifier{}>;

}  // namespace

TEST_CASE("a parameter replaced with another shape after bind() is refused at the next call (live)") {
    check_replaced_shape_is_refused<cpu::executor<AffineNet>>("kata::cpu::executor");
}
TEST_CASE("a parameter replaced with another shape after bind() is refused at the next call (frozen)") {
    check_replaced_shape_is_refused<cpu::frozen_executor<AffineNet>>("kata::cpu::executor");
}

TEST_CASE("a second call of one executor while a call is running throws, the running call is unharmed") {
    parameter_store store;
    BlockingExecutor run(store);
    const xt::xarray<float> x1 = ramp({3, 5}, 0.3f, -0.1f);
    const xt::xarray<float> x2 = ramp({3, 5}, -0.2f, 0.05f);
    relu_entered = false;
    relu_release = false;
    relu_blocked_once = false;
    std::thread first([&] { run.execute(x1); });
    while (!relu_entered) std::this_thread::yield();
    // The first call is inside its ReLU kernel: a second entry is refused (execute and bind).
    CHECK_THROWS_WITH_AS(run.execute(x2),
                         "blocking_executor: called while another call of the same executor is running (one "
                         "executor is not re-entrant: give each thread its own executor; executors may share "
                         "a parameter store)",
                         exec::binding_error);
    CHECK_THROWS_AS(run.bind(store), exec::binding_error);
    relu_release = true;
    first.join();
    check_relu(run.output_data<0>(), x1);
    // The flag is released after a call, and after a call that failed (wrong input shape).
    run.execute(x2);
    check_relu(run.output_data<0>(), x2);
    const xt::xarray<float> wrong = xt::zeros<float>({5, 3});
    CHECK_THROWS_AS(run.execute(wrong), exec::binding_error);
    run.execute(x1);
    check_relu(run.output_data<0>(), x1);
}

TEST_CASE(
    "a converted network bound before apply_conversion says that apply_conversion derives the parameter") {
    parameter_store store;
    create_parameters<network<conv_bn>>(store);
    using E = cpu::executor<Folded>;
    CHECK_THROWS_WITH_AS(
        E{store},
        doctest::Contains("parameter 'c1/conv/w-folded' with shape (5,3,3,2) is not in the "
                          "parameter store (the graph conversion derives it from the trained "
                          "parameters: call kata::apply_conversion<Net>(store) before binding)"),
        exec::binding_error);
    // A parameter that no conversion derives keeps the plain message.
    parameter_store empty;
    CHECK_THROWS_WITH_AS(
        cpu::executor<network<conv_bn>>{empty},
        "kata::cpu::executor: parameter 'c1/conv/W' with shape (5,3,3,2) is not in the parameter "
        "store",
        exec::binding_error);
}
