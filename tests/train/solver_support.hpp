// tests/train/solver_support.hpp: shared helpers of the solver tests (tests/train/solver*.cpp).
//
//   npz_fixture fx("adam")              -> tests/fixtures/train/adam.npz
//   (tools/fixtures/make_solver_fixtures.py) fx.f32("custom/init/conv/W"), fx.i64(key), fx.scalar(key),
//   fx.has(key) make_solver(stem, fx, run)          -> the solver of that fixture; run "default" constructs
//   it with no
//                                          arguments (checks kata's defaults), "custom" from <run>/args/*
//   replay(fx, run, solver, options)    -> replays the fixture's call sequence on a parameter_store and
//                                          compares every parameter, state, counter and the learning rate
//                                          after every step with nnabla's; returns the mismatches
//
// Tolerance (replay_tolerance): both sides compute in float32 with the same formulas; they differ by
// operation order (xtensor vs nnabla's loops, the sum of squares of clip_grad_by_norm, compiler
// contraction), i.e. a few float32 roundings (2^-24 = 6e-8 relative each) per operation and step.
// After STEPS = 6 steps of <= ~8 operations each the accumulated difference stays below
// 1e-6 * (|expected| + max|expected of the array|) (about 16 roundings): 1e-6 relative to the
// element, plus the same relative to the array's largest magnitude for elements where a subtraction
// cancelled (w - step near zero). Measured worst: 0.17 of that bound (the MESSAGE of the fixture
// test); rules that are wrong by a little exceed it hundreds of times (the last fixture test).
#pragma once

#include <doctest/doctest.h>

#include <kata/detail/xtensor_fix.hpp>
#include <kata/io/npz.hpp>
#include <kata/io/parameter_store.hpp>
#include <kata/train/solvers.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <xtensor/xarray.hpp>

namespace kata::test {

inline std::filesystem::path train_fixture_dir() {
#ifdef KATA_FIXTURE_DIR
    return std::filesystem::path(KATA_FIXTURE_DIR) / "train";
#else
    return std::filesystem::path(__FILE__).parent_path().parent_path() / "fixtures" / "train";
#endif
}

/// The four parameters every fixture registers, in registration order (see the fixture script).
struct fixture_param {
    const char* name;
    bool need_grad;
};
inline constexpr fixture_param fixture_params[] = {
    {"conv/W", true}, {"conv/b", true}, {"block/x/W", true}, {"frozen", false}};
inline constexpr std::size_t fixture_steps = 6;

class npz_fixture {
public:
    explicit npz_fixture(std::string_view stem)
        : path_((train_fixture_dir() / (std::string(stem) + ".npz")).string()),
          bytes_(io::read_file_bytes(path_)) {
        for (auto& e : io::read_npz(bytes_, path_)) entries_.emplace(e.name, e.array);
    }
    const std::string& path() const { return path_; }
    bool has(const std::string& key) const { return entries_.count(key) != 0; }
    xt::xarray<float> f32(const std::string& key) const {
        return io::to_xarray<float>(at(key), path_ + ": " + key);
    }
    xt::xarray<std::int64_t> i64(const std::string& key) const {
        return io::to_xarray<std::int64_t>(at(key), path_ + ": " + key);
    }
    float scalar(const std::string& key) const { return f32(key).data()[0]; }

private:
    const io::npy_view& at(const std::string& key) const {
        auto it = entries_.find(key);
        if (it == entries_.end()) throw std::out_of_range(path_ + ": no array '" + key + "'");
        return it->second;
    }
    std::string path_;
    std::vector<std::byte> bytes_;
    std::map<std::string, io::npy_view> entries_;
};

/// Row k of a (STEPS, *shape) array, as an array of `shape`.
template <class T>
xt::xarray<T> row(const xt::xarray<T>& a, std::size_t k) {
    std::vector<std::size_t> shape(a.shape().begin() + 1, a.shape().end());
    xt::xarray<T> r = xt::empty<T>(shape);
    std::memcpy(r.data(), a.data() + k * r.size(), r.size() * sizeof(T));
    return r;
}

inline std::unique_ptr<train::solver> make_solver(std::string_view stem, const npz_fixture& fx,
                                                  const std::string& run) {
    using namespace kata::train;
    const bool custom = run != "default";
    auto a = [&](const char* k) { return fx.scalar(run + "/args/" + k); };
    if (stem == "sgd")
        return custom ? std::make_unique<Sgd>(Sgd::args{.lr = a("lr")}) : std::make_unique<Sgd>();
    if (stem == "momentum")
        return custom ? std::make_unique<Momentum>(Momentum::args{.lr = a("lr"), .momentum = a("momentum")})
                      : std::make_unique<Momentum>();
    if (stem == "nesterov")
        return custom ? std::make_unique<Nesterov>(Nesterov::args{.lr = a("lr"), .momentum = a("momentum")})
                      : std::make_unique<Nesterov>();
    if (stem == "adagrad")
        return custom ? std::make_unique<Adagrad>(Adagrad::args{.lr = a("lr"), .eps = a("eps")})
                      : std::make_unique<Adagrad>();
    if (stem == "adadelta")
        return custom ? std::make_unique<Adadelta>(
                            Adadelta::args{.lr = a("lr"), .decay = a("decay"), .eps = a("eps")})
                      : std::make_unique<Adadelta>();
    if (stem == "rmsprop")
        return custom ? std::make_unique<RMSprop>(
                            RMSprop::args{.lr = a("lr"), .decay = a("decay"), .eps = a("eps")})
                      : std::make_unique<RMSprop>();
    if (stem == "adam")
        return custom ? std::make_unique<Adam>(Adam::args{
                            .alpha = a("alpha"), .beta1 = a("beta1"), .beta2 = a("beta2"), .eps = a("eps")})
                      : std::make_unique<Adam>();
    if (stem == "adamw")
        return custom ? std::make_unique<AdamW>(AdamW::args{.alpha = a("alpha"),
                                                            .beta1 = a("beta1"),
                                                            .beta2 = a("beta2"),
                                                            .eps = a("eps"),
                                                            .wd = a("wd")})
                      : std::make_unique<AdamW>();
    if (stem == "amsgrad")
        return custom ? std::make_unique<AMSGRAD>(AMSGRAD::args{.alpha = a("alpha"),
                                                                .beta1 = a("beta1"),
                                                                .beta2 = a("beta2"),
                                                                .eps = a("eps"),
                                                                .bias_correction = a("bias_correction") != 0})
                      : std::make_unique<AMSGRAD>();
    if (stem == "sgdw")
        return custom ? std::make_unique<SgdW>(
                            SgdW::args{.lr = a("lr"), .momentum = a("momentum"), .wd = a("wd")})
                      : std::make_unique<SgdW>();
    throw std::invalid_argument("make_solver: unknown solver " + std::string(stem));
}

inline constexpr const char* solver_stems[] = {"sgd",     "momentum", "nesterov", "adagrad", "adadelta",
                                               "rmsprop", "adam",     "adamw",    "amsgrad", "sgdw"};

inline constexpr double replay_tolerance = 1e-6;

/// The worst |a - b| / (tol * (|b| + max|B|)) over an array (<= 1: within tolerance), with where.
struct comparison {
    double worst = 0;  // in units of the tolerance
    std::string message;
};
inline void compare_into(comparison& c, const std::string& what, const xt::xarray<float>& a,
                         const xt::xarray<float>& b) {
    if (a.shape() != b.shape()) {
        c.worst = INFINITY;
        c.message += what + ": shape differs\n";
        return;
    }
    double scale = 0;
    for (float v : b) scale = std::max(scale, double(std::fabs(v)));
    for (std::size_t i = 0; i < a.size(); ++i) {
        const double x = a.data()[i], y = b.data()[i];
        const double bound = replay_tolerance * (std::fabs(y) + scale);
        const double r = x == y ? 0.0 : (bound > 0 ? std::fabs(x - y) / bound : INFINITY);
        if (!(r <= 1.0)) {
            std::ostringstream m;
            m.precision(9);
            m << what << "[" << i << "]: kata " << x << ", nnabla " << y << " (" << r << " x tolerance)\n";
            if (c.message.size() < 2000) c.message += m.str();
        }
        if (!(r <= c.worst)) c.worst = std::isnan(r) ? INFINITY : r;
    }
}

/// Options of replay: garbage_in_frozen fills the need_grad=false parameter's gradient with NaN at
/// every step (kata must ignore it, as nnabla ignores a gradient it never computed).
struct replay_options {
    bool garbage_in_frozen = true;
};

/// Replays <run> of the fixture on `s` (see the fixture script for the call order) and compares each
/// step with nnabla. Returns the comparison (worst ratio and the failing elements).
inline comparison replay(const npz_fixture& fx, const std::string& run, train::solver& s,
                         replay_options opt = {}) {
    parameter_store store;
    std::vector<train::named_parameter> list;
    for (const auto& fp : fixture_params) {
        const xt::xarray<float> init = fx.f32(run + "/init/" + fp.name);
        parameter& p = store.create_or_replace(
            fp.name, std::vector<std::size_t>(init.shape().begin(), init.shape().end()),
            initializer::from_array(init), fp.need_grad);
        list.emplace_back(fp.name, &p);
    }
    s.set_parameters(list);
    const auto set_lr = fx.f32(run + "/set_lr"), scale = fx.f32(run + "/scale"), clip = fx.f32(run + "/clip");
    const auto wd = fx.f32(run + "/wd");
    comparison c;
    for (std::size_t k = 0; k < fixture_steps; ++k) {
        const std::string step = "step " + std::to_string(k) + ": ";
        if (!std::isnan(set_lr(k))) s.set_learning_rate(set_lr(k));
        s.zero_grad();
        for (const auto& fp : fixture_params) {
            parameter& p = *store.find(fp.name);
            if (!fp.need_grad) {
                if (opt.garbage_in_frozen) p.grad().fill(NAN);
                continue;
            }
            const bool has = fx.f32(run + "/has_grad/" + fp.name)(k) != 0;
            p.need_grad =
                has;  // no gradient this step: nnabla leaves it unwritten, kata is told by need_grad
            if (has) p.grad() = row(fx.f32(run + "/grad/" + fp.name), k);
        }
        if (!std::isnan(scale(k))) s.scale_grad(scale(k));
        for (std::size_t j = 0; j < 2; ++j)
            if (!std::isnan(wd(k, j))) s.weight_decay(wd(k, j));
        if (!std::isnan(clip(k))) s.clip_grad_by_norm(clip(k));
        s.update();
        for (const auto& fp : fixture_params) store.find(fp.name)->need_grad = fp.need_grad;

        const train::solver_states states = s.get_states();
        for (const auto& fp : fixture_params) {
            const std::string name = fp.name;
            compare_into(c, step + "data of " + name, store.find(name)->data,
                         row(fx.f32(run + "/data/" + name), k));
            const train::solver_state& st = states.at(name);
            const std::int64_t t = fx.i64(run + "/t/" + name)(k);
            if (st.t != t) {
                c.worst = INFINITY;
                c.message += step + "t of " + name + ": kata " + std::to_string(st.t) + ", nnabla " +
                             std::to_string(t) + "\n";
            }
            for (std::string_view sn : s.state_names())
                compare_into(c, step + "state " + std::string(sn) + " of " + name,
                             st.pstate.at(std::string(sn)),
                             row(fx.f32(run + "/state/" + name + "/" + std::string(sn)), k));
        }
        xt::xarray<float> lr = xt::xarray<float>::from_shape({1});
        lr(0) = s.learning_rate();
        xt::xarray<float> want = xt::xarray<float>::from_shape({1});
        want(0) = fx.f32(run + "/lr")(k);
        compare_into(c, step + "learning_rate", lr, want);
    }
    return c;
}

}  // namespace kata::test
