// The solvers' gradient operations against closed forms: check_inf_or_nan_grad (inf, -inf and NaN
// injected), clip_grad_by_norm (per parameter), weight_decay (at once, or fused and reverting),
// scale_grad, zero_grad; which parameters they touch (need_grad=false and unallocated gradients are
// skipped, set_parameters allocates missing gradients); the update counter's cap; nnabla's defaults
// and names.
#include "solver_support.hpp"

#include <limits>

namespace {

using kata::parameter;
using kata::parameter_store;

parameter make(std::vector<std::size_t> shape, float value, bool need_grad = true) {
    parameter p;
    p.data = xt::empty<float>(shape);
    p.data.fill(value);
    p.grad() = xt::zeros<float>(shape);
    p.need_grad = need_grad;
    return p;
}

TEST_CASE("check_inf_or_nan_grad finds inf, -inf and NaN in computed gradients only") {
    parameter a = make({3, 5}, 1), b = make({7}, 2), frozen = make({4}, 3, false);
    kata::S::Adam s;
    s.set_parameters({{"a", &a}, {"b", &b}, {"frozen", &frozen}});
    CHECK_FALSE(s.check_inf_or_nan_grad());
    CHECK_FALSE(s.check_inf_grad());
    CHECK_FALSE(s.check_nan_grad());

    const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
    struct injected {
        float value;
        bool is_inf, is_nan;
    };
    for (const injected c :
         {injected{inf, true, false}, injected{-inf, true, false}, injected{nan, false, true},
          injected{-nan, false, true}, injected{std::numeric_limits<float>::max(), false, false},
          injected{std::numeric_limits<float>::denorm_min(), false, false}}) {
        for (std::size_t where : {std::size_t(0), std::size_t(6)}) {
            INFO("value " << c.value << " at b[" << where << "]");
            s.zero_grad();
            b.grad()(where) = c.value;
            CHECK(s.check_inf_or_nan_grad() == (c.is_inf || c.is_nan));
            CHECK(s.check_inf_grad() == c.is_inf);
            CHECK(s.check_nan_grad() == c.is_nan);
        }
    }
    // A large gradient (many SIMD batches and a tail) with the NaN at the end.
    parameter big = make({10007}, 1);
    s.set_parameters({{"big", &big}}, {.reset = false});
    s.zero_grad();
    CHECK_FALSE(s.check_inf_or_nan_grad());
    big.grad()(big.grad().size() - 1) = nan;
    CHECK(s.check_inf_or_nan_grad());

    // Not computed: need_grad=false, or no gradient buffer. nnabla skips gradients it never wrote.
    s.zero_grad();
    frozen.grad().fill(inf);
    CHECK_FALSE(s.check_inf_or_nan_grad());
    a.grad()(1, 1) = nan;
    CHECK(s.check_inf_or_nan_grad());
    a.release_grad();  // released buffer: no gradient computed
    CHECK_FALSE(s.check_inf_or_nan_grad());
}

TEST_CASE("clip_grad_by_norm clips each parameter by its own norm") {
    parameter a = make({2, 2}, 1), b = make({3}, 1), c = make({2}, 1), z = make({5}, 1);
    kata::S::Sgd s(1.0f);
    s.set_parameters({{"a", &a}, {"b", &b}, {"c", &c}, {"z", &z}});
    a.grad() = xt::xarray<float>{{3, 0}, {0, 4}};  // norm 5 -> clipped to 2: (1.2, 0, 0, 1.6)
    b.grad() = xt::xarray<float>{1, 1, -1};        // norm sqrt(3) < 2: unchanged
    c.grad() = xt::xarray<float>{2, 0};            // norm exactly 2: unchanged (nnabla: sum > clip^2)
    s.clip_grad_by_norm(2.0f);
    kata::test::comparison cmp;
    kata::test::compare_into(cmp, "a", a.grad(), xt::xarray<float>{{1.2f, 0}, {0, 1.6f}});
    CHECK_MESSAGE(cmp.worst <= 1.0, cmp.message);
    CHECK(b.grad() == xt::xarray<float>{1, 1, -1});
    CHECK(c.grad() == xt::xarray<float>{2, 0});
    CHECK(z.grad() == xt::zeros<float>({5}));  // zero norm: unchanged
    // Global-norm clipping would have scaled b too; per-parameter clipping leaves it. Large gradient:
    parameter big = make({10009}, 1);
    s.set_parameters({{"big", &big}});
    big.grad().fill(0.5f);  // norm 0.5 * sqrt(n)
    s.clip_grad_by_norm(1.0f);
    double sum = 0;  // in double: independent of kata's float sum
    for (float v : big.grad()) sum += double(v) * v;
    // The clip factor comes from a float sum of 10009 squares (nnabla's too): 1e-5 covers its rounding.
    CHECK(std::sqrt(sum) == doctest::Approx(1.0).epsilon(1e-5));
    CHECK(big.grad()(0) == big.grad()(big.grad().size() - 1));
    // nnabla's formula with an inf gradient: norm inf, so finite entries become 0 and inf becomes NaN.
    big.grad().fill(0.5f);
    big.grad()(3) = std::numeric_limits<float>::infinity();
    s.clip_grad_by_norm(1.0f);
    CHECK(std::isnan(big.grad()(3)));
    CHECK(big.grad()(0) == 0.0f);
}

TEST_CASE("weight_decay adds rate * w at once, fused solvers record the rate for the next update only") {
    SUBCASE("non-fused: g <- g + r * w, accumulating, skipping parameters without gradient") {
        parameter a = make({3}, 2), frozen = make({3}, 2, false);
        a.data = xt::xarray<float>{2, -4, 0.5f};
        kata::S::Momentum s;
        CHECK_FALSE(s.weight_decay_is_fused());
        s.set_parameters({{"a", &a}, {"frozen", &frozen}});
        a.grad() = xt::xarray<float>{1, 1, 1};
        s.weight_decay(0.5f);
        s.weight_decay(0.25f);
        CHECK(a.grad() == xt::xarray<float>{1 + 1.0f + 0.5f, 1 - 2.0f - 1.0f, 1 + 0.25f + 0.125f});
        CHECK(frozen.grad() == xt::zeros<float>({3}));
        // Rate 0 is a no-op (nnabla returns early: an inf weight does not turn the gradient into NaN).
        a.data(0) = std::numeric_limits<float>::infinity();
        s.weight_decay(0.0f);
        CHECK(a.grad()(0) == 2.5f);
    }
    SUBCASE("fused (SgdW): the last rate before update() wins, then the default returns") {
        parameter a = make({2}, 1);
        kata::S::SgdW s({.lr = 0.5f, .momentum = 0.0f, .wd = 0.0f});
        CHECK(s.weight_decay_is_fused());
        s.set_parameters({{"a", &a}});
        s.weight_decay(0.1f);
        s.weight_decay(0.2f);
        CHECK(a.grad() == xt::zeros<float>({2}));  // nothing happens before update
        s.update();                                // w <- w - 0 - (lr/lr0) * 0.2 * w = 0.8
        CHECK(a.data == xt::xarray<float>{0.8f, 0.8f});
        s.update();  // default wd 0 again
        CHECK(a.data == xt::xarray<float>{0.8f, 0.8f});
        s.weight_decay(0.5f);
        a.need_grad = false;
        s.update();  // nothing updated, but the recorded rate expires anyway (as in nnabla)
        a.need_grad = true;
        s.update();
        CHECK(a.data == xt::xarray<float>{0.8f, 0.8f});
    }
    SUBCASE("fused (AdamW): weight_decay(0) overrides a non-zero default for one update") {
        parameter a = make({2}, 1);
        kata::S::AdamW s({.alpha = 0.5f, .wd = 0.1f});
        s.set_parameters({{"a", &a}});
        s.weight_decay(0.0f);
        s.update();  // zero gradient: Adam's term is 0 / (0 + eps) = 0; no decay this time
        CHECK(a.data == xt::xarray<float>{1, 1});
        s.update();  // default 0.1: w <- w - (alpha/alpha0) * 0.1 * w
        CHECK(a.data == xt::xarray<float>{0.9f, 0.9f});
        // eta_t = current / initial learning rate scales the decay.
        s.set_learning_rate(0.25f);
        s.update();
        CHECK(a.data(0) == doctest::Approx(0.9f - 0.5f * 0.1f * 0.9f).epsilon(1e-6));
    }
}

TEST_CASE("scale_grad and zero_grad") {
    parameter a = make({2, 3}, 1), frozen = make({2}, 1, false);
    kata::S::Sgd s;
    s.set_parameters({{"a", &a}, {"frozen", &frozen}});
    a.grad() = xt::xarray<float>{{1, 2, 3}, {-4, 5, 0.5f}};
    frozen.grad().fill(7);
    s.scale_grad(0.5f);
    CHECK(a.grad() == xt::xarray<float>{{0.5f, 1, 1.5f}, {-2, 2.5f, 0.25f}});
    CHECK(frozen.grad() == xt::xarray<float>{7, 7});  // not computed: not scaled
    s.zero_grad();                                    // every registered gradient, as nnabla
    CHECK(a.grad() == xt::zeros<float>({2, 3}));
    CHECK(frozen.grad() == xt::zeros<float>({2}));
}

TEST_CASE("set_parameters allocates a missing gradient, update skips a parameter without gradient") {
    parameter a;
    a.data = xt::xarray<float>{1, 2, 3};
    a.release_grad();  // not allocated (a lazily allocated gradient)
    kata::S::Adam s(0.1f);
    s.set_parameters({{"a", &a}});
    REQUIRE(a.has_grad());
    CHECK(a.grad() == xt::zeros<float>({3}));
    a.grad().fill(1);
    s.update();
    CHECK(s.get_states().at("a").t == 1);
    const xt::xarray<float> after = a.data;
    a.release_grad();  // released after set_parameters: nothing computed
    s.weight_decay(0.5f);
    s.clip_grad_by_norm(0.1f);
    s.scale_grad(2);
    s.zero_grad();
    s.update();
    CHECK(a.data == after);
    CHECK(s.get_states().at("a").t == 1);  // t advances only for updated parameters (nnabla)
}

TEST_CASE("a need_grad=false parameter is never updated, even with momentum in its state") {
    parameter a = make({2}, 1);
    kata::S::Momentum s(1.0f, 0.5f);
    s.set_parameters({{"a", &a}});
    a.grad().fill(1);
    s.update();  // m = 1, w = 0
    CHECK(a.data == xt::zeros<float>({2}));
    a.need_grad = false;  // e.g. fixed for fine-tuning
    s.zero_grad();
    s.update();
    CHECK(a.data == xt::zeros<float>({2}));  // a zero-gradient momentum step would have moved it by -0.5
    CHECK(s.get_states().at("a").t == 1);
}

TEST_CASE("the update counter saturates at 2^32 - 2 as nnabla's") {
    parameter a = make({2}, 1);
    kata::S::Adam s;
    s.set_parameters({{"a", &a}});
    auto st = s.get_states();
    st.at("a").t = std::numeric_limits<std::uint32_t>::max() - 2;
    s.set_states(st);
    a.grad().fill(1);
    s.update();
    CHECK(s.get_states().at("a").t == std::numeric_limits<std::uint32_t>::max() - 1);
    s.update();
    CHECK(s.get_states().at("a").t == std::numeric_limits<std::uint32_t>::max() - 1);
    CHECK(std::isfinite(a.data(0)));
}

TEST_CASE("nnabla's names, defaults and state names") {
    // Defaults of nnabla 1.39 (its signatures); learning_rate() is the float32 value, as nnabla's.
    CHECK(kata::S::Sgd().learning_rate() == 0.001f);
    CHECK(kata::S::Momentum().momentum() == 0.9f);
    CHECK(kata::S::Nesterov().momentum() == 0.9f);
    CHECK(kata::S::Adagrad().learning_rate() == 0.01f);
    CHECK(kata::S::Adagrad().eps() == 1e-8f);
    CHECK(kata::S::Adadelta().learning_rate() == 1.0f);
    CHECK(kata::S::Adadelta().decay() == 0.95f);
    CHECK(kata::S::Adadelta().eps() == 1e-6f);
    CHECK(kata::S::RMSprop().decay() == 0.9f);
    CHECK(kata::S::RMSprop().eps() == 1e-8f);
    CHECK(kata::S::Adam().beta2() == 0.999f);
    CHECK(kata::S::AMSGRAD().bias_correction() == false);
    CHECK(kata::S::AMSGRAD(0.1f, 0.8f, 0.9f, 1e-3f, true).bias_correction());
    struct expect {
        std::unique_ptr<kata::train::solver> s;
        const char* name;
        std::vector<std::string_view> states;
        bool fused;
    };
    expect all[] = {{std::make_unique<kata::S::Sgd>(), "Sgd", {}, false},
                    {std::make_unique<kata::S::Momentum>(), "Momentum", {"m"}, false},
                    {std::make_unique<kata::S::Nesterov>(), "Nesterov", {"m"}, false},
                    {std::make_unique<kata::S::Adagrad>(), "Adagrad", {"v"}, false},
                    {std::make_unique<kata::S::Adadelta>(), "Adadelta", {"e_sqr_grad", "e_sqr_delta"}, false},
                    {std::make_unique<kata::S::RMSprop>(), "RMSprop", {"v"}, false},
                    {std::make_unique<kata::S::Adam>(), "Adam", {"mean", "var"}, false},
                    {std::make_unique<kata::S::AdamW>(), "AdamW", {"mean", "var"}, true},
                    {std::make_unique<kata::S::AMSGRAD>(), "AMSGRAD", {"m", "v", "v_hat"}, false},
                    {std::make_unique<kata::S::SgdW>(), "SgdW", {"m"}, true}};
    for (auto& e : all) {
        CHECK(e.s->name() == e.name);
        CHECK(std::vector<std::string_view>(e.s->state_names().begin(), e.s->state_names().end()) ==
              e.states);
        CHECK(e.s->weight_decay_is_fused() == e.fused);
        e.s->set_learning_rate(0.25f);
        CHECK(e.s->learning_rate() == 0.25f);
    }
}

}  // namespace
