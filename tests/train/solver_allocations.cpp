// The solvers allocate nothing per step in steady state: after set_parameters and one warm-up call,
// update(), zero_grad(), weight_decay(), clip_grad_by_norm(), scale_grad(), check_inf_or_nan_grad(),
// check_inf_grad(), check_nan_grad(), set_learning_rate() and learning_rate() make no allocation, for
// each of the ten solvers, on parameters of a few elements (the scalar tail only) and of many SIMD batches
// plus a tail.
//
// Every allocation entry point of the C and C++ runtimes is counted (tests/support/allocation_counter.hpp).
#include <doctest/doctest.h>

#include <kata/train/solvers.hpp>

#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "../support/allocation_counter.hpp"

namespace {

/// One training step's solver calls, as DynamicLossScalingUpdater and the trainers make them.
bool step(kata::train::solver& s, std::vector<kata::parameter*>& params, int k) {
    s.zero_grad();
    for (kata::parameter* p : params)
        for (std::size_t i = 0; i < p->grad().size(); ++i)
            p->grad().data()[i] = 0.01f * float((i + k) % 17) - 0.05f;
    bool bad = s.check_inf_or_nan_grad();
    bad |= s.check_inf_grad();
    bad |= s.check_nan_grad();
    s.scale_grad(0.5f);
    s.weight_decay(1e-4f);
    s.clip_grad_by_norm(1.0f);
    s.set_learning_rate(s.learning_rate() * 0.99f);
    s.update();
    return bad;
}

TEST_CASE("solver steps allocate nothing after set_parameters and one warm-up step") {
    std::vector<std::unique_ptr<kata::train::solver>> solvers;
    solvers.push_back(std::make_unique<kata::S::Sgd>());
    solvers.push_back(std::make_unique<kata::S::Momentum>());
    solvers.push_back(std::make_unique<kata::S::Nesterov>());
    solvers.push_back(std::make_unique<kata::S::Adagrad>());
    solvers.push_back(std::make_unique<kata::S::Adadelta>());
    solvers.push_back(std::make_unique<kata::S::RMSprop>());
    solvers.push_back(std::make_unique<kata::S::Adam>());
    solvers.push_back(std::make_unique<kata::S::AdamW>());
    solvers.push_back(std::make_unique<kata::S::AMSGRAD>(kata::S::AMSGRAD::args{.bias_correction = true}));
    solvers.push_back(std::make_unique<kata::S::SgdW>());
    for (auto& s : solvers) {
        INFO("solver " << std::string(s->name()));
        kata::parameter_store store;
        store.get_or_create("conv/W", {16, 3, 3, 3}, kata::initializer::normal(0, 0.1));
        store.get_or_create("conv/b", {7}, kata::initializer::constant(0.5f));
        store.get_or_create("fc/W", {10007}, kata::initializer::uniform());
        store.get_or_create("frozen", {5}, kata::initializer::constant(1), /*need_grad=*/false);
        s->set_parameters(store);
        std::vector<kata::parameter*> params;
        for (auto& [name, p] : s->get_parameters()) params.push_back(p);
        step(*s, params, 0);  // warm-up (nothing should be needed, but the first call may set things up)

        const counts before = counts::now();
        bool bad = false;
        for (int k = 1; k <= 5; ++k) bad |= step(*s, params, k);
        const float lr = s->learning_rate();
        const counts after = counts::now();
        INFO("allocations during 5 steady-state steps: " << describe(before, after));
        CHECK(after.total() - before.total() == 0);
        CHECK_FALSE(bad);
        CHECK(lr > 0);
        CHECK(std::isfinite(params[0]->data.data()[0]));
    }
    // The counters work: allocations are seen.
    const counts c0 = counts::now();
    static void* volatile sink;
    sink = ::operator new(64);
    ::operator delete(sink);
    sink = std::malloc(32);
    std::free(sink);
    const counts c1 = counts::now();
    CHECK(c1.c[k_new] > c0.c[k_new]);
    CHECK(c1.c[k_malloc] > c0.c[k_malloc]);
    // ... and set_parameters, which allocates the states, is seen allocating.
    kata::parameter p;
    p.data = xt::zeros<float>({4});
    p.grad() = xt::zeros<float>({4});
    kata::S::Adam adam;
    const counts c2 = counts::now();
    adam.set_parameters({{"p", &p}});
    CHECK(counts::now().total() > c2.total());
}

}  // namespace
