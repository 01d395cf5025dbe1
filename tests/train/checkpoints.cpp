// Checkpoints (issue 12, point 6; docs/training.md "Checkpoints"):
//   * resume: 4 epochs straight vs 2 epochs, everything destroyed, then train() again with max_epoch 4
//     from the same model_save_path: parameters (bit for bit), Adam's state, the loss scale and its
//     counter continue exactly (a DynamicLossScalingUpdater with an overflow at one step, so the scale
//     is not its initial value);
//   * fault injection: a save that fails at any of its file writes (a throwing test hook), and a
//     process killed by SIGKILL in the middle of a save (fork), leave the previous checkpoint the
//     newest complete one, loadable, with its values.
#include "trainers_support.hpp"

#include <csignal>
#include <filesystem>
#include <stdexcept>
#include <string_view>

#include <sys/wait.h>
#include <unistd.h>

using namespace kata;
using namespace kata::test;
using namespace kata::train::kw;

namespace {

struct run_result {
    parameter_store params;
    float scale = 0;
    std::int64_t counter = 0;
    std::optional<train::checkpoint_info> resumed;
};

// A whole training run, built from nothing: store, executor, solver, updater, trainer.
run_result train_run(const std::filesystem::path& dir, std::int64_t epochs) {
    parameter_store store;
    create_parameters<Net6>(store);
    train::cpu_executor<Train6Scaled> step(store);
    train::Adam solver(0.01f);
    solver.set_parameters(store);
    xt::xarray<float> x = xt::zeros<float>({6, 3}), t = xt::zeros<float>({6, 2});
    std::int64_t current = 0;
    parameter& w2 = *store.find("fc2/affine/W");
    train::DynamicLossScalingUpdater dls(
        solver, train::loss(step, x, t), data_feeder = [&] { fill_batch(current, x, t); }, scale = 16.0,
        N = 4,
        backward_callback_on_finish =
            [&](std::int64_t i) {
                if (i == 4) w2.grad().data()[1] = std::numeric_limits<float>::quiet_NaN();
            });
    train::Trainer trainer(
        dls, nullptr, dir.string(), max_epoch = epochs, iter_per_epoch = 3,
        update_callback_on_start = [&](std::int64_t i) { current = i; });
    trainer.train();
    run_result r;
    copy_parameters(store, r.params);
    r.scale = dls.scale();
    r.counter = dls.counter();
    r.resumed = trainer.resumed_from();
    return r;
}

int failing_write = 0;  // which atomic write of a save fails (1-based), 0: none
int writes_seen = 0;
void throw_at_nth_write(std::string_view stage) {
    if (stage == "before_rename" && ++writes_seen == failing_write)
        throw std::runtime_error("injected fault");
}
void kill_at_nth_write(std::string_view stage) {
    if (stage == "written" && ++writes_seen == failing_write) ::kill(::getpid(), SIGKILL);
}

std::filesystem::path fresh_dir(const char* name) {
    const auto dir =
        std::filesystem::temp_directory_path() / (std::string(name) + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    return dir;
}

}  // namespace

TEST_CASE("Trainer resumes from the newest checkpoint and continues bit for bit") {
    const auto straight_dir = fresh_dir("kata_ckpt_straight"), split_dir = fresh_dir("kata_ckpt_split");
    const run_result straight = train_run(straight_dir, 4);
    CHECK_FALSE(straight.resumed);
    const run_result first_half = train_run(split_dir, 2);
    CHECK_FALSE(first_half.resumed);
    CHECK_FALSE(bitwise_equal(const_cast<parameter_store&>(first_half.params),
                              const_cast<parameter_store&>(straight.params)));
    const run_result resumed = train_run(split_dir, 4);
    REQUIRE(resumed.resumed);
    CHECK(resumed.resumed->iteration == 5);
    CHECK(resumed.resumed->epoch == 1);
    CHECK(bitwise_equal(const_cast<parameter_store&>(resumed.params),
                        const_cast<parameter_store&>(straight.params)));
    CHECK(resumed.scale == straight.scale);
    CHECK(resumed.counter == straight.counter);
    CHECK(straight.scale == 32.0f);  // 16: x2 after i = 3, /2 at the NaN (i = 4), x2 after i = 8
    CHECK(straight.counter == 3);
    // The checkpoint files: one directory per epoch, each complete.
    for (const char* d :
         {"checkpoint_00000002", "checkpoint_00000005", "checkpoint_00000008", "checkpoint_00000011"})
        for (const char* f : {"params.npz", "solver_0.npz", "state.npz"})
            CHECK(std::filesystem::exists(split_dir / d / f));
    // A finished run resumes at its end and trains nothing more.
    const run_result again = train_run(split_dir, 4);
    REQUIRE(again.resumed);
    CHECK(again.resumed->iteration == 11);
    CHECK(bitwise_equal(const_cast<parameter_store&>(again.params),
                        const_cast<parameter_store&>(straight.params)));
    std::filesystem::remove_all(straight_dir);
    std::filesystem::remove_all(split_dir);
}

TEST_CASE("a save that fails at any file, or a process killed while saving, leaves the previous checkpoint") {
    const auto dir = fresh_dir("kata_ckpt_fault");
    parameter_store store;
    create_parameters<Net6>(store);
    train::cpu_executor<Train6Scaled> step(store);
    train::Adam solver(0.01f);
    solver.set_parameters(store);
    xt::xarray<float> x = xt::zeros<float>({6, 3}), t = xt::zeros<float>({6, 2});
    std::int64_t current = 0;
    train::DynamicLossScalingUpdater dls(
        solver, train::loss(step, x, t), data_feeder = [&] { fill_batch(current, x, t); });
    train::updater_base* updaters[] = {&dls};
    for (current = 0; current < 3; ++current) dls.update(current);
    parameter_store saved;
    copy_parameters(store, saved);
    train::save_checkpoint(dir, 2, 0, updaters);
    for (current = 3; current < 6; ++current) dls.update(current);  // the live parameters move on
    REQUIRE_FALSE(bitwise_equal(store, saved));

    SUBCASE("a thrown failure at each of the three writes") {
        for (int n = 1; n <= 3; ++n) {
            failing_write = n;
            writes_seen = 0;
            io::detail::atomic_write_fault_hook = throw_at_nth_write;
            CHECK_THROWS_WITH(train::save_checkpoint(dir, 5, 1, updaters), "injected fault");
            io::detail::atomic_write_fault_hook = nullptr;
            const auto newest = train::newest_checkpoint(dir);
            REQUIRE(newest);
            CHECK(newest->iteration == 2);
        }
    }
    SUBCASE("SIGKILL in the middle of each of the three writes") {
        for (int n = 1; n <= 3; ++n) {
            const pid_t child = ::fork();
            REQUIRE(child >= 0);
            if (child == 0) {
                failing_write = n;
                writes_seen = 0;
                io::detail::atomic_write_fault_hook = kill_at_nth_write;
                try {
                    train::save_checkpoint(dir, 5, 1, updaters);
                } catch (...) {
                }
                ::_exit(0);  // not reached when the kill happened
            }
            int status = 0;
            REQUIRE(::waitpid(child, &status, 0) == child);
            CHECK(WIFSIGNALED(status));
            CHECK(WTERMSIG(status) == SIGKILL);
            const auto newest = train::newest_checkpoint(dir);
            REQUIRE(newest);
            CHECK(newest->iteration == 2);
        }
    }
    // The previous checkpoint loads, with its values.
    const auto newest = train::newest_checkpoint(dir);
    REQUIRE(newest);
    const train::checkpoint_info info = train::load_checkpoint(newest->dir, updaters);
    CHECK(info.iteration == 2);
    CHECK(bitwise_equal(store, saved));
    std::filesystem::remove_all(dir);
}
