// Two executors over one parameter store, on two threads at once (issue 15, point 3): built with
// -fsanitize=thread (tests/CMakeLists.txt, ctest tsan_two_executors_one_store, label sanitize), so a data
// race between them (the store, kata's thread pool that both executors' kernels share, OpenBLAS
// set-up, the arenas) fails the test through ThreadSanitizer's report (halt_on_error), and each thread's
// outputs must equal, bit for bit, what the same executor computes alone (kata's pool partitions work
// independently of scheduling: tests/ops/cpu_threads.cpp). One executor per thread is the contract
// (kata/exec/executor.hpp); a live and a frozen executor are mixed on purpose.
#include <doctest/doctest.h>

#include <thread>
#include <vector>

#include <kata/cpu.hpp>

using namespace kata;

namespace {

constexpr var net(builder& g) {
    auto x = g.input("x", {2, 4, 9, 7});
    auto h = PF::convolution(x, 6, {3, 3}, {.pad = {1, 1}, .group = 2, .name = "c1"});
    h = F::relu(PF::batch_normalization(h, {.batch_stat = false, .name = "bn1"}));
    h = F::max_pooling(h, {2, 2});
    return PF::affine(h, 5, {.name = "fc"});
}
using Net = network<net>;

xt::xarray<float> input(float shift) {
    xt::xarray<float> x = xt::zeros<float>({2, 4, 9, 7});
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = shift + 0.1f * float(int((i * 31 + 7) % 19) - 9);
    return x;
}

template <class Executor>
void run_many(Executor& run, const xt::xarray<float>& x, const xt::xarray<float>& want, int calls, int& bad) {
    for (int c = 0; c < calls; ++c) {
        const auto y = run(x);
        for (std::size_t i = 0; i < want.size(); ++i) bad += y.data()[i] != want.data()[i];
    }
}

}  // namespace

TEST_CASE("a live and a frozen executor over one store, on two threads: no race, same results as alone") {
    parameter_store store;
    create_parameters<Net>(store);
    // Non-trivial values everywhere (BN statistics not 0/1, variances positive).
    for (auto& [name, p] : store.get_parameters(false))
        for (std::size_t i = 0; i < p->data.size(); ++i) p->data.data()[i] = 0.3f + 0.05f * float(i % 13);
    cpu::executor<Net> live(store);
    cpu::frozen_executor<Net> frozen(store);
    const xt::xarray<float> x1 = input(0.2f), x2 = input(-0.4f);
    const xt::xarray<float> want1 = live(x1);
    const xt::xarray<float> want2 = frozen(x2);
    int bad1 = 0, bad2 = 0;
    std::thread t1([&] { run_many(live, x1, want1, 40, bad1); });
    std::thread t2([&] { run_many(frozen, x2, want2, 40, bad2); });
    t1.join();
    t2.join();
    CHECK(bad1 == 0);
    CHECK(bad2 == 0);
}
