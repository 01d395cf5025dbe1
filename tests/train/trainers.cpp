// nnabla's experimental trainers (issue 12, point 1; docs/training.md "Trainers"):
//   * Updater: the exact call order (recorded by callbacks), one update() equals a hand-written step of
//     executor + solver bit for bit (accum_grad = 2), and data parallelism through a fake in-process
//     communicator: half a batch + the other half's gradients (averaged) == the whole batch;
//   * DynamicLossScalingUpdater: overflow injected at chosen steps; the scale sequence is computed by
//     hand, skipped steps leave the parameters bit-identical, and because the scales are powers of two
//     (exact in float) the final parameters equal, bit for bit, a plain Updater that simply skips those
//     batches;
//   * Evaluator: means over val_iter batches against a closed-form forward in double;
//   * Trainer: iteration numbers and callback order;
//   * NaiveRegressionTrainer (closed-form linear target) and NaiveClassificationTrainer (separable
//     clusters): they learn, and write nnabla's monitor files.
#include "trainers_support.hpp"

#include "../support/allocation_counter.hpp"

#include <kata/train/communicator.hpp>

#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include <unistd.h>

using namespace kata;
using namespace kata::test;
using namespace kata::train::kw;

namespace {

std::vector<float> grad_copy(parameter_store& s) {
    std::vector<float> out;
    for (const auto& [name, p] : model_parameters(s))
        if (p->need_grad) out.insert(out.end(), p->grad().begin(), p->grad().end());
    return out;
}

// An in-process stand-in for a 2-process communicator: the other rank's gradients are given.
struct fake_comm {
    std::vector<std::vector<float>> other;
    std::vector<std::string>* log = nullptr;
    int calls = 0;
    bool division = false, inplace = false;
    void all_reduce(std::span<std::span<float>> grads, bool div, bool in) {
        ++calls;
        division = div;
        inplace = in;
        if (log) log->push_back("all_reduce");
        for (std::size_t k = 0; k < grads.size() && k < other.size(); ++k)
            for (std::size_t j = 0; j < grads[k].size(); ++j)
                grads[k][j] = div ? (grads[k][j] + other[k][j]) / 2.0f : grads[k][j] + other[k][j];
    }
    int size() const { return 2; }
    int rank() const { return 0; }
};
static_assert(train::communicator<fake_comm>);
// kata's communicators bind to the Updater's comm argument (the MPI one: tests/mpi/data_parallel.cpp).
static_assert(train::communicator<train::single_process_communicator>);
static_assert(train::communicator<train::Communicator>);

}  // namespace

TEST_CASE(
    "Updater: the documented call order, accum_grad times data_feeder/forward/backward, then comm, update") {
    parameter_store store;
    create_parameters<Net6>(store);
    train::cpu_executor<Train6> step(store);
    train::Sgd solver(0.1f);
    solver.set_parameters(store);
    xt::xarray<float> x = xt::zeros<float>({6, 3}), t = xt::zeros<float>({6, 2});
    std::vector<std::string> log;
    fake_comm fake;
    fake.log = &log;
    for (const auto& [name, p] : solver.get_parameters()) fake.other.emplace_back(p->grad().size(), 0.0f);
    auto grad_sum = [&] {
        double s = 0;
        for (float g : grad_copy(store)) s += std::abs(g);
        return s;
    };
    std::int64_t feeds = 0;
    auto rec = [&](const char* what) {
        return [&, what](std::int64_t i) { log.push_back(std::string(what) + std::to_string(i)); };
    };
    train::Updater updater(
        solver, train::loss(step, x, t),
        data_feeder =
            [&] {
                fill_batch(feeds++, x, t);
                log.push_back(grad_sum() == 0 ? "feed(zero grads)" : "feed");
            },
        forward_callback_on_start = rec("fs"), forward_callback_on_finish = rec("ff"),
        backward_callback_on_start = rec("bs"),
        backward_callback_on_finish = std::vector<std::function<void(std::int64_t)>>{rec("bf"), rec("bf'")},
        comm_callback_on_start = rec("cs"), comm_callback_on_finish = rec("cf"),
        update_callback_on_start = rec("us"), update_callback_on_finish = [&] { log.push_back("uf"); },
        accum_grad = 2, comm = &fake, clear_buffer = false);
    // Leave non-zero gradients behind so that zero_grad is visible at the first feed.
    step.execute(x, t);
    updater.update(7);
    const std::vector<std::string> expected = {"feed(zero grads)",
                                               "fs7",
                                               "ff7",
                                               "bs7",
                                               "bf7",
                                               "bf'7",
                                               "feed",
                                               "fs7",
                                               "ff7",
                                               "bs7",
                                               "bf7",
                                               "bf'7",
                                               "cs7",
                                               "all_reduce",
                                               "cf7",
                                               "us7",
                                               "uf"};
    CHECK(log == expected);
    CHECK(fake.calls == 1);
    CHECK(fake.division);  // the mean: kata's fix of upstream's NameError / sum (docs/training.md)
    CHECK(fake.inplace);
}

TEST_CASE("Updater: one update equals a hand-written executor + solver step, bit for bit") {
    parameter_store a, b;
    create_parameters<Net6>(a);
    copy_parameters(a, b);
    REQUIRE(bitwise_equal(a, b));
    train::cpu_executor<Train6> step_a(a), step_b(b);
    train::Adam solver_a(0.01f), solver_b(0.01f);
    solver_a.set_parameters(a);
    solver_b.set_parameters(b);
    xt::xarray<float> x = xt::zeros<float>({6, 3}), t = xt::zeros<float>({6, 2});
    std::int64_t next = 0;
    train::Updater updater(
        solver_a, train::loss(step_a, x, t), data_feeder = [&] { fill_batch(next++, x, t); }, accum_grad = 2);
    for (std::int64_t i = 0; i < 4; ++i) {
        updater.update(i);
        solver_b.zero_grad();
        for (int k = 0; k < 2; ++k) {
            fill_batch(2 * i + k, x, t);
            step_b.execute(x, t);
        }
        solver_b.update();
    }
    CHECK(bitwise_equal(a, b));
    // And the parameters did move.
    parameter_store fresh;
    create_parameters<Net6>(fresh);
    CHECK_FALSE(bitwise_equal(a, fresh));
}

TEST_CASE(
    "Updater with a communicator: half a batch + the other half's averaged gradients == the whole batch") {
    using Train3 = train::training_graph<network<mlp_loss3>>;
    parameter_store whole, rank0, rank1;
    create_parameters<Net6>(whole);
    copy_parameters(whole, rank0);
    copy_parameters(whole, rank1);
    train::cpu_executor<Train6> step6(whole);
    train::cpu_executor<Train3> step0(rank0), step1(rank1);
    train::Sgd s6(0.5f), s0(0.5f);
    s6.set_parameters(whole);
    s0.set_parameters(rank0);
    train::Sgd s1(0.5f);
    s1.set_parameters(rank1);
    xt::xarray<float> x6 = xt::zeros<float>({6, 3}), t6 = xt::zeros<float>({6, 2});
    xt::xarray<float> x3 = xt::zeros<float>({3, 3}), t3 = xt::zeros<float>({3, 2});
    fill_batch(5, x6, t6);
    // The other rank: the second half of the batch, its gradients in the solver's order.
    fill_batch(5, x3, t3, 3);
    s1.zero_grad();
    step1.execute(x3, t3);
    fake_comm fake;
    for (const auto& [name, p] : s1.get_parameters())
        fake.other.emplace_back(p->grad().begin(), p->grad().end());
    train::Updater u6(s6, train::loss(step6, x6, t6));
    train::Updater u0(
        s0, train::loss(step0, x3, t3), data_feeder = [&] { fill_batch(5, x3, t3, 0); }, comm = &fake);
    u6.update(0);
    u0.update(0);
    const auto pw = model_parameters(whole), p0 = model_parameters(rank0);
    REQUIRE(pw.size() == p0.size());
    for (std::size_t k = 0; k < pw.size(); ++k)
        for (std::size_t j = 0; j < pw[k].second->data.size(); ++j)
            CHECK(p0[k].second->data.data()[j] ==
                  doctest::Approx(pw[k].second->data.data()[j]).epsilon(1e-6));
    CHECK_FALSE(bitwise_equal(whole, rank1));  // the step changed something
}

TEST_CASE("Updater with kata's single_process_communicator: the same step as without a communicator") {
    parameter_store with, without;
    create_parameters<Net6>(with);
    copy_parameters(with, without);
    train::cpu_executor<Train6> step_w(with), step_o(without);
    train::Adam sw(0.01f), so(0.01f);
    sw.set_parameters(with);
    so.set_parameters(without);
    xt::xarray<float> x = xt::zeros<float>({6, 3}), t = xt::zeros<float>({6, 2});
    train::single_process_communicator single;
    train::Updater uw(
        sw, train::loss(step_w, x, t), data_feeder = [&] { fill_batch(7, x, t); }, comm = &single);
    train::Updater uo(
        so, train::loss(step_o, x, t), data_feeder = [&] { fill_batch(7, x, t); });
    for (int i = 0; i < 3; ++i) {
        uw.update(i);
        uo.update(i);
    }
    CHECK(bitwise_equal(with, without));
    parameter_store fresh;
    create_parameters<Net6>(fresh);
    CHECK_FALSE(bitwise_equal(with, fresh));  // the steps changed the parameters
}

TEST_CASE(
    "DynamicLossScalingUpdater: injected overflow skips the step, scale sequence by hand, parameters exact") {
    parameter_store scaled, plain;
    create_parameters<Net6>(scaled);
    copy_parameters(scaled, plain);
    train::cpu_executor<Train6Scaled> step_s(scaled);
    train::cpu_executor<Train6> step_p(plain);
    REQUIRE(scaled.find(train::loss_scale_key) != nullptr);
    train::Adam solver_s(0.01f), solver_p(0.01f);
    solver_s.set_parameters(scaled);
    solver_p.set_parameters(plain);
    xt::xarray<float> x = xt::zeros<float>({6, 3}), t = xt::zeros<float>({6, 2});
    std::int64_t current = 0;
    const std::set<std::int64_t> overflow = {1, 5, 6};
    parameter& w2 = *scaled.find("fc2/affine/W");
    train::DynamicLossScalingUpdater dls(
        solver_s, train::loss(step_s, x, t), data_feeder = [&] { fill_batch(current, x, t); }, scale = 8.0,
        scaling_factor = 2.0, N = 3, weight_decay = 0.01f,
        backward_callback_on_finish =
            [&](std::int64_t i) {
                if (overflow.count(i)) w2.grad().data()[3] = std::numeric_limits<float>::infinity();
            });
    // By hand: N = 3 clean updates double the scale, an overflow halves it and restarts the count.
    const std::vector<float> expected_scale = {8, 4, 4, 4, 8, 4, 2, 2, 2, 4};
    std::vector<float> scales;
    for (std::int64_t i = 0; i < 10; ++i) {
        current = i;
        parameter_store before;
        copy_parameters(scaled, before);
        const bool updated = dls.try_update(i);
        CHECK(updated == (overflow.count(i) == 0));
        if (!updated) CHECK(bitwise_equal(scaled, before));  // skipped: untouched
        if (updated) CHECK_FALSE(bitwise_equal(scaled, before));
        scales.push_back(dls.scale());
    }
    CHECK(scales == expected_scale);
    CHECK(dls.skipped() == 3);
    CHECK(dls.counter() == 0);
    // The reference: a plain Updater (loss gradient seeded with 1) that skips the overflowing batches,
    // weight decay applied before the update like the loss-scaling updater does.
    train::Updater plain_updater(
        solver_p, train::loss(step_p, x, t), data_feeder = [&] { fill_batch(current, x, t); },
        update_callback_on_start = [&] { solver_p.weight_decay(0.01f); });
    for (std::int64_t i = 0; i < 10; ++i)
        if (!overflow.count(i)) {
            current = i;
            plain_updater.update(i);
        }
    CHECK(bitwise_equal(scaled, plain));
}

TEST_CASE("Updater and DynamicLossScalingUpdater steps allocate nothing once warm") {
    parameter_store a, b;
    create_parameters<Net6>(a);
    create_parameters<Net6>(b);
    train::cpu_executor<Train6> step_a(a);
    train::cpu_executor<Train6Scaled> step_b(b);
    train::Adam sa(0.01f), sb(0.01f);
    sa.set_parameters(a);
    sb.set_parameters(b);
    xt::xarray<float> x = xt::zeros<float>({6, 3}), t = xt::zeros<float>({6, 2});
    std::int64_t current = 0;
    std::int64_t observed = 0;
    train::Updater u(
        sa, train::loss(step_a, x, t), data_feeder = [&] { fill_batch(current, x, t); },
        update_callback_on_finish = [&](std::int64_t i) { observed += i; }, accum_grad = 2);
    parameter& w = *b.find("fc1/affine/W");
    train::DynamicLossScalingUpdater d(
        sb, train::loss(step_b, x, t), data_feeder = [&] { fill_batch(current, x, t); }, N = 2,
        weight_decay = 1e-3f,
        backward_callback_on_finish =
            [&](std::int64_t i) {
                if (i % 3 == 0) w.grad().data()[0] = std::numeric_limits<float>::infinity();
            });
    for (current = 0; current < 3; ++current) {  // warm-up
        u.update(current);
        d.update(current);
    }
    const counts before = counts::now();
    for (current = 3; current < 9; ++current) {  // clean, overflowing and growing steps
        u.update(current);
        d.update(current);
    }
    const counts after = counts::now();
    CHECK_MESSAGE(after.total() == before.total(), "allocations in 6 steps: " << describe(before, after));
    CHECK(d.skipped() == 3);
    CHECK(observed == 36);
}

TEST_CASE("DynamicLossScalingUpdater refuses a loss whose gradient seed is compiled in") {
    parameter_store store;
    create_parameters<Net6>(store);
    train::cpu_executor<Train6> step(store);
    train::Sgd solver(0.1f);
    solver.set_parameters(store);
    xt::xarray<float> x = xt::zeros<float>({6, 3}), t = xt::zeros<float>({6, 2});
    CHECK_THROWS_WITH_AS(train::DynamicLossScalingUpdater(solver, train::loss(step, x, t)),
                         doctest::Contains("loss_seed::scale"), std::invalid_argument);
}

TEST_CASE("Evaluator: per-root means over val_iter batches equal a closed-form forward in double") {
    parameter_store store;
    create_parameters<Net6>(store);
    cpu::executor<Net6> eval(store);
    xt::xarray<float> x = xt::zeros<float>({6, 3}), t = xt::zeros<float>({6, 2});
    std::int64_t next = 0;
    std::vector<std::pair<std::int64_t, float>> finished;
    int started = 0;
    train::Evaluator ev(
        train::loss(eval, x, t), data_feeder = [&] { fill_batch(100 + next++, x, t); }, val_iter = 3,
        callback_on_start = [&](std::int64_t, float v) { started += v == 0.0f; },
        callback_on_finish = [&](std::int64_t i, float v) { finished.emplace_back(i, v); });
    ev.evaluate(41);
    // Closed form: y = tanh(x W1 + b1) W2 + b2, loss = mean((y - t)^2), averaged over the 3 batches.
    const auto& W1 = store.find("fc1/affine/W")->data;
    const auto& b1 = store.find("fc1/affine/b")->data;
    const auto& W2 = store.find("fc2/affine/W")->data;
    const auto& b2 = store.find("fc2/affine/b")->data;
    double total = 0;
    for (int k = 0; k < 3; ++k) {
        fill_batch(100 + k, x, t);
        double sum = 0;
        for (std::size_t r = 0; r < 6; ++r)
            for (std::size_t o = 0; o < 2; ++o) {
                double y = b2(o);
                for (std::size_t h = 0; h < 4; ++h) {
                    double a = b1(h);
                    for (std::size_t c = 0; c < 3; ++c) a += double(x(r, c)) * double(W1(c, h));
                    y += std::tanh(a) * double(W2(h, o));
                }
                sum += (y - t(r, o)) * (y - t(r, o));
            }
        total += sum / 12.0;
    }
    REQUIRE(finished.size() == 1);
    CHECK(started == 1);
    CHECK(finished[0].first == 41);
    CHECK(finished[0].second == doctest::Approx(total / 3.0).epsilon(1e-5));
    CHECK(total > 0.01);  // not a trivial zero
    // Finish callbacks pair with roots: a count mismatch is refused.
    CHECK_THROWS_AS(train::Evaluator(train::loss(eval, x, t),
                                     callback_on_finish = train::callbacks<std::int64_t, float>{
                                         [](std::int64_t, float) {}, [](std::int64_t, float) {}}),
                    std::invalid_argument);
}

TEST_CASE("Trainer: iterations, epochs, evaluation after each epoch, callbacks") {
    parameter_store store;
    create_parameters<Net6>(store);
    train::cpu_executor<Train6> step(store);
    cpu::executor<Net6> eval(store);
    train::Sgd solver(0.1f);
    solver.set_parameters(store);
    xt::xarray<float> x = xt::zeros<float>({6, 3}), t = xt::zeros<float>({6, 2});
    std::vector<std::string> log;
    std::int64_t current = 0;
    train::Updater u(
        solver, train::loss(step, x, t), data_feeder = [&] { fill_batch(current, x, t); },
        update_callback_on_start = [&](std::int64_t i) { log.push_back("u" + std::to_string(i)); });
    train::Evaluator ev(
        train::loss(eval, x, t), data_feeder = [&] { fill_batch(999, x, t); },
        callback_on_finish = [&](std::int64_t i, float) { log.push_back("e" + std::to_string(i)); });
    train::Trainer trainer(
        u, ev, max_epoch = 2, iter_per_epoch = 3, callback_on_start = [&] { log.push_back("start"); },
        callback_on_finish = [&] { log.push_back("finish"); },
        update_callback_on_start =
            [&](std::int64_t i) {
                current = i;
                log.push_back("s" + std::to_string(i));
            },
        update_callback_on_finish = [&](std::int64_t i) { log.push_back("f" + std::to_string(i)); });
    trainer.train();
    const std::vector<std::string> expected = {"start", "s0", "u0", "f0", "s1", "u1",    "f1", "s2",
                                               "u2",    "f2", "e2", "s3", "u3", "f3",    "s4", "u4",
                                               "f4",    "s5", "u5", "f5", "e5", "finish"};
    CHECK(log == expected);
    CHECK_THROWS_AS(train::Trainer(u, nullptr, max_epoch = 1), std::invalid_argument);  // no iter_per_epoch
}

namespace {

// A data iterator of the interface the naive trainers read: `auto [x, t] = it.next()`, size, batch_size.
template <class Label, class Make>
struct fake_iterator {
    std::int64_t n, batch;
    Make make;  // make(sample index, x row, label row)
    std::vector<std::size_t> xshape, tshape;
    std::int64_t pos = 0;
    std::pair<xt::xarray<float>, xt::xarray<Label>> next() {
        xt::xarray<float> x = xt::zeros<float>(xshape);
        xt::xarray<Label> t = xt::zeros<Label>(tshape);
        const std::size_t xr = x.size() / std::size_t(batch), tr = t.size() / std::size_t(batch);
        for (std::int64_t b = 0; b < batch; ++b) {
            make(pos, x.data() + std::size_t(b) * xr, t.data() + std::size_t(b) * tr);
            pos = (pos + 1) % n;
        }
        return {x, t};
    }
    std::int64_t size() const { return n; }
    std::int64_t batch_size() const { return batch; }
    void seek(int /*epoch*/, std::size_t position) { pos = std::int64_t(position); }
};

constexpr var linear8(builder& g) {
    auto x = g.input("x", {8, 3});
    return PF::affine(x, 2, {.name = "lin"});
}
constexpr var classifier8(builder& g) {
    auto x = g.input("x", {8, 2});
    return PF::affine(F::tanh(PF::affine(x, 8, {.name = "h"})), 3, {.name = "out"});
}

int count_lines(const std::filesystem::path& p) {
    std::ifstream in(p);
    int n = 0;
    for (std::string line; std::getline(in, line);) n += !line.empty();
    return n;
}

}  // namespace

TEST_CASE("NaiveRegressionTrainer learns a closed-form linear map and writes the monitor files") {
    // y = x A + c, exactly: the least-squares optimum is (A, c) with zero loss.
    const float A[3][2] = {{0.5f, -1.25f}, {2.0f, 0.75f}, {-0.3f, 1.1f}};
    const float c[2] = {0.2f, -0.4f};
    auto make = [&](std::int64_t k, float* x, float* t) {
        const double freq[3] = {0.9, 2.3, 3.7};  // distinct: the features are linearly independent
        for (int j = 0; j < 3; ++j) x[j] = float(std::sin(freq[j] * double(k) + 0.5 * j));
        for (int o = 0; o < 2; ++o) t[o] = c[o] + x[0] * A[0][o] + x[1] * A[1][o] + x[2] * A[2][o];
    };
    fake_iterator<float, decltype(make)> train_it{64, 8, make, {8, 3}, {8, 2}};
    fake_iterator<float, decltype(make)> valid_it{32, 8, make, {8, 3}, {8, 2}};
    parameter_store store;
    create_parameters<network<linear8>>(store);
    train::Sgd solver(0.2f);
    solver.set_parameters(store);
    const auto dir = std::filesystem::temp_directory_path() / "kata_naive_regression";
    std::filesystem::remove_all(dir);
    train::NaiveRegressionTrainer<linear8> trainer(solver, store, tdata = &train_it, vdata = &valid_it,
                                                   monitor_path = (dir / "monitor").string(), max_epoch = 40);
    CHECK(trainer.iter_per_epoch() == 8);  // tdata.size() / batch_size()
    CHECK(trainer.val_iter() == 4);
    trainer.train();
    const auto& W = store.find("lin/affine/W")->data;
    const auto& b = store.find("lin/affine/b")->data;
    for (int j = 0; j < 3; ++j)
        for (int o = 0; o < 2; ++o) CHECK(W(j, o) == doctest::Approx(A[j][o]).epsilon(0.01));
    for (int o = 0; o < 2; ++o) CHECK(b(o) == doctest::Approx(c[o]).epsilon(0.01));
    CHECK(trainer.last_valid_loss() < 1e-4f);
    // 320 iterations: Training-loss lines at 9, 19, ..., 319 (nnabla's interval rule); one Valid-loss per epoch.
    CHECK(count_lines(dir / "monitor" / "Training-loss.series.txt") == 32);
    CHECK(count_lines(dir / "monitor" / "Valid-loss.series.txt") == 40);
    CHECK(count_lines(dir / "monitor" / "Training-time.timer.txt") == 32);
    std::ifstream first(dir / "monitor" / "Training-loss.series.txt");
    std::int64_t it = -1;
    first >> it;
    CHECK(it == 9);
    std::filesystem::remove_all(dir);
}

TEST_CASE("NaiveClassificationTrainer separates three clusters and reports training and validation error") {
    auto make = [](std::int64_t k, float* x, std::int32_t* t) {
        const int cls = int(k % 3);
        const double cx[3] = {-1.5, 1.5, 0.0}, cy[3] = {-1.0, -1.0, 1.6};
        x[0] = float(cx[cls] + 0.45 * std::sin(2.3 * double(k)));
        x[1] = float(cy[cls] + 0.45 * std::cos(1.7 * double(k)));
        t[0] = cls;
    };
    fake_iterator<std::int32_t, decltype(make)> train_it{96, 8, make, {8, 2}, {8, 1}};
    auto make_valid = [&](std::int64_t k, float* x, std::int32_t* t) {
        make(k + 1000, x, t);
    };  // unseen samples
    fake_iterator<std::int32_t, decltype(make_valid)> valid_it{48, 8, make_valid, {8, 2}, {8, 1}};
    parameter_store store;
    create_parameters<network<classifier8>>(store);
    train::Adam solver(0.02f);
    solver.set_parameters(store);
    const auto dir = std::filesystem::temp_directory_path() / "kata_naive_classification";
    std::filesystem::remove_all(dir);
    train::NaiveClassificationTrainer<classifier8> trainer(
        solver, store, tdata = &train_it, vdata = &valid_it, monitor_path = (dir / "monitor").string(),
        max_epoch = 10, val_iter = 6);
    trainer.train();
    CHECK(trainer.last_valid_error() <= 0.02f);
    CHECK(trainer.last_training_error() <= 0.125f);
    CHECK(trainer.last_valid_loss() < 0.2f);
    CHECK(count_lines(dir / "monitor" / "Training-error.series.txt") == 12);  // 120 iterations
    CHECK(count_lines(dir / "monitor" / "Valid-error.series.txt") == 10);
    std::filesystem::remove_all(dir);
}

TEST_CASE("NaiveRegressionTrainer resumes from its checkpoint bit for bit (data iterators repositioned)") {
    auto make = [](std::int64_t k, float* x, float* t) {
        for (int j = 0; j < 3; ++j) x[j] = float(std::sin(0.7 * double(k) * (j + 1) + j));
        t[0] = x[0] - 0.5f * x[2];
        t[1] = 0.3f * x[1] + 0.1f;
    };
    using iterator = fake_iterator<float, decltype(make)>;
    const auto root =
        std::filesystem::temp_directory_path() / ("kata_naive_resume_" + std::to_string(::getpid()));
    std::filesystem::remove_all(root);
    auto run = [&](const std::string& dir, std::int64_t epochs, parameter_store& out) {
        iterator train_it{44, 8, make, {8, 3}, {8, 2}};  // batches cross epoch ends: seek must follow
        iterator valid_it{24, 8, make, {8, 3}, {8, 2}};
        parameter_store store;
        create_parameters<network<linear8>>(store);
        train::Adam solver(0.05f);
        solver.set_parameters(store);
        train::NaiveRegressionTrainer<linear8> trainer(solver, store, tdata = &train_it, vdata = &valid_it,
                                                       model_save_path = (root / dir).string(),
                                                       max_epoch = epochs);
        trainer.train();
        copy_parameters(store, out);
    };
    parameter_store straight, resumed, half;
    run("straight", 4, straight);
    run("split", 2, half);
    run("split", 4, resumed);
    CHECK_FALSE(bitwise_equal(half, straight));
    CHECK(bitwise_equal(resumed, straight));
    std::filesystem::remove_all(root);
}

TEST_CASE("Naive trainers pass update_callback_on_start/_finish to their Trainer: a learning-rate schedule") {
    // kata extension (examples/train_fashion_mnist.cpp's cosine decay): the callbacks see every iteration,
    // start before and finish after its update. A schedule "0.2 for the first epoch, 0 afterwards" set
    // on start must give, bit for bit, the parameters of one epoch at 0.2 (SGD with lr 0 leaves w as it
    // is); set after the update (or not at all) the ninth update would still move them.
    auto make = [](std::int64_t k, float* x, float* t) {
        for (int j = 0; j < 3; ++j) x[j] = float(std::cos(0.9 * double(k) * (j + 1) - j));
        t[0] = 0.7f * x[0] - x[1];
        t[1] = 0.25f * x[2] + 0.3f;
    };
    using iterator = fake_iterator<float, decltype(make)>;
    std::vector<std::string> log;
    auto run = [&](std::int64_t epochs, bool schedule, parameter_store& out) {
        iterator train_it{64, 8, make, {8, 3}, {8, 2}};
        parameter_store store;
        create_parameters<network<linear8>>(store);
        train::Sgd solver(0.2f);
        solver.set_parameters(store);
        train::NaiveRegressionTrainer<linear8> trainer(
            solver, store, tdata = &train_it, max_epoch = epochs,
            update_callback_on_start =
                [&](std::int64_t i) {
                    if (schedule) solver.set_learning_rate(i < 8 ? 0.2f : 0.0f);
                    log.push_back("start " + std::to_string(i));
                },
            update_callback_on_finish =
                [&](std::int64_t i) { log.push_back("finish " + std::to_string(i)); });
        trainer.train();
        copy_parameters(store, out);
    };
    parameter_store one_epoch, scheduled, constant;
    run(1, false, one_epoch);
    log.clear();
    run(3, true, scheduled);
    REQUIRE(log.size() == 48);
    for (std::size_t i = 0; i < 24; ++i) {
        CHECK(log[2 * i] == "start " + std::to_string(i));
        CHECK(log[2 * i + 1] == "finish " + std::to_string(i));
    }
    run(3, false, constant);
    CHECK(bitwise_equal(scheduled, one_epoch));
    CHECK_FALSE(bitwise_equal(constant, one_epoch));
}
