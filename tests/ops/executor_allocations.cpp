// The CPU executors allocate nothing per call in steady state (issue "Core", point 4).
//
// This executable replaces every allocation entry point of the C and C++ runtimes
// (tests/support/allocation_counter.hpp: glibc interposition, the whole process, OpenBLAS and the pool
// threads included) and counts each by kind. After construction and two warm-up calls (OpenBLAS and the
// thread pool may set themselves up once), further calls must not allocate at all.
//
// Nets: the small every-kernel net of before, and nets whose layers are large enough for the threaded
// paths (a 64->64 3x3 convolution at 56x56 through im2col + GEMM, a 1x1 convolution as a direct GEMM, a
// strided 3x3, a 2048->1000 Affine at batch 1 (small-batch kernel) and at batch 16 (GEMM), pooling over
// the pool), channel-first and channel-last, each run by the live and by the frozen executor (the
// channel-last graph after kata::FuseConvolutionEpilogueModifier: the frozen executor runs its
// convolutions as the direct NHWC kernel with fused epilogues, the live one as convolution + epilogue
// pass); inputs given as a transposed view (gathered into the staging buffer) and as an
// xt::xtensor_fixed (shape checked at compile time).
//
// Independence from the environment: OpenBLAS picks its kernels from OPENBLAS_CORETYPE (Haswell's and
// SkylakeX's drivers differ); the last case re-runs this binary's cases with OPENBLAS_CORETYPE=Haswell
// and with it unset, and each child checks that OpenBLAS really runs the requested core.
#include <doctest/doctest.h>

#include <kata/converters.hpp>
#include <kata/cpu.hpp>

#include <spawn.h>
#include <sys/wait.h>

#include <atomic>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

extern "C" {
// OpenBLAS's name for the kernel set it runs (weak: absent with another BLAS).
char* kata_test_openblas_corename_(void) __asm__("openblas_get_corename") __attribute__((weak));
extern char** environ;
}

#include "../support/allocation_counter.hpp"

using namespace kata;

namespace {
std::string lower(std::string s) {
    for (auto& ch : s) ch = char(std::tolower(static_cast<unsigned char>(ch)));
    return s;
}

// The environment this process runs in; a child started by the last case checks that OpenBLAS took
// the requested core type.
void report_environment() {
    const char* ct = std::getenv("OPENBLAS_CORETYPE");
    const std::string core = kata_test_openblas_corename_ ? kata_test_openblas_corename_() : "(not OpenBLAS)";
    MESSAGE("OPENBLAS_CORETYPE=" << std::string(ct ? ct : "(unset)") << ", OpenBLAS core " << core
                                 << ", kata threads " << cpu::num_threads());
    if (const char* want = std::getenv("KATA_ALLOC_TEST_EXPECT_CORE"); want && kata_test_openblas_corename_)
        CHECK(lower(core) == lower(want));
}

// Two warm-up calls, then `calls` calls that must not allocate; output 0 must be bit-identical from
// call to call (the pool's chunk boundaries do not depend on which thread claims them).
template <class Exec, class... X>
void check_steady_state(Exec& run, int calls, const X&... xs) {
    run(xs...);
    run(xs...);
    const auto y0 = run.template output<0>();
    const std::vector<float> first(y0.data(), y0.data() + y0.size());  // allocates: before counting
    std::size_t mismatches = 0;
    const counts before = counts::now();
    for (int i = 0; i < calls; ++i) {
        const auto y = run(xs...);
        for (std::size_t j = 0; j < first.size(); ++j) mismatches += y.data()[j] != first[j];
    }
    const counts after = counts::now();
    INFO("allocations during " << calls << " steady-state calls: " << describe(before, after));
    CHECK(after.total() - before.total() == 0);
    CHECK(mismatches == 0);
    // The counters work: allocations of the kinds the library uses are seen.
    const counts c0 = counts::now();
    std::vector<float> v(100);
    static void* volatile sink;  // the blocks escape: the calls cannot be elided
    sink = ::operator new[](256, std::align_val_t{64});
    ::operator delete[](sink, std::align_val_t{64});
    sink = std::aligned_alloc(64, 256);
    std::free(sink);
    const counts c1 = counts::now();
    CHECK(c1.c[k_new] > c0.c[k_new]);
    CHECK(c1.c[k_new_array_aligned] > c0.c[k_new_array_aligned]);
    CHECK(c1.c[k_aligned_alloc] > c0.c[k_aligned_alloc]);
}

xt::xarray<float> pattern(std::vector<std::size_t> shape, float scale) {
    xt::xarray<float> x = xt::zeros<float>(shape);
    for (std::size_t i = 0; i < x.size(); ++i)
        x.data()[i] = scale * float(int((i * 2654435761u) % 2001) - 1000) / 1000.f;
    return x;
}

// Every kernel family: 3x3 and 1x1 convolutions (im2col + GEMM and direct GEMM), BN, pooling,
// residual Add2, concat, reshape alias, affine, softmax.
constexpr var small_net(builder& g) {
    auto x = g.input("x", {2, 3, 33, 31});
    auto h = F::relu(PF::batch_normalization(PF::convolution(x, 16, {3, 3}, {.pad = {1, 1}, .name = "c1"}),
                                             {.batch_stat = false, .name = "bn1"}));
    h = F::max_pooling(h, {2, 2});
    auto r = PF::convolution(h, 16, {1, 1}, {.name = "c2"});
    h = F::relu(h + r);
    h = F::concatenate({h, r}, 1);
    h = F::average_pooling(h, {2, 2}, {.ignore_border = false});
    h = F::reshape(h, {2, -1});
    return F::softmax(PF::affine(h, 10, {.name = "fc"}));
}

// Layers large enough for every threaded path: 3x3 64->64 at 56x56 (GEMM 64 x 3136 x 576 channel-first,
// 3136 x 64 x 576 channel-last), 1x1 64->64 (direct GEMM), residual Add2 + ReLU, max pooling, 3x3 / 2
// 64->128, average pooling to (128, 4, 4), Affine 2048->1000 at batch 1 (small-batch kernel) and, on a
// second input, at batch 16 (GEMM 16 x 1000 x 2048).
template <bool CL>
constexpr void big_net(builder& g) {
    auto x = CL ? g.input("x", {1, 56, 56, 64}, layout::channel_last) : g.input("x", {1, 64, 56, 56});
    auto h = F::relu(PF::convolution(x, 64, {3, 3}, {.pad = {1, 1}, .channel_last = CL, .name = "c1"}));
    auto r = PF::convolution(h, 64, {1, 1}, {.channel_last = CL, .name = "c2"});
    h = F::relu(h + r);
    h = F::max_pooling(h, {2, 2}, {.channel_last = CL});
    h = F::relu(
        PF::convolution(h, 128, {3, 3}, {.pad = {1, 1}, .stride = {2, 2}, .channel_last = CL, .name = "c3"}));
    h = F::average_pooling(h, {3, 3}, {.channel_last = CL});
    g.output(PF::affine(F::reshape(h, {1, 2048}), 1000, {.name = "fc"}));
    g.output(F::softmax(PF::affine(g.input("z", {16, 2048}), 1000, {.name = "fc16"})));
}

// The net, or the net with its convolution epilogues fused (channel-last: c1 + ReLU, c2 + Add2 + ReLU,
// c3 + ReLU).
template <bool CL, bool Fuse>
using big_graph = std::conditional_t<Fuse, convert<network<big_net<CL>>, FuseConvolutionEpilogueModifier{}>,
                                     network<big_net<CL>>>;
static_assert(big_graph<true, true>::graph.count(op_kind::fused_convolution) == 3);

template <bool CL, cpu::parameter_mode Mode, bool Fuse = CL&& Mode == cpu::parameter_mode::frozen>
void check_big_net() {
    using Net = big_graph<CL, Fuse>;
    parameter_store store(11);
    create_parameters<network<big_net<CL>>>(store);
    const xt::xarray<float> x = CL ? pattern({1, 56, 56, 64}, 1.f) : pattern({1, 64, 56, 56}, 1.f);
    const xt::xarray<float> z = pattern({16, 2048}, 0.5f);
    cpu::executor<Net, Mode> run(store);
    if constexpr (Mode == cpu::parameter_mode::frozen && CL) static_assert(decltype(run)::num_prepared == 3);
    check_steady_state(run, 4, x, z);
    // Output 1 (the batch-16 GEMM) is computed again, identically.
    const xt::xarray<float> y1 = run.template output<1>();
    run(x, z);
    CHECK(xt::xarray<float>(run.template output<1>()) == y1);
}

}  // namespace

TEST_CASE("executor allocations: small every-kernel net, live executor") {
    report_environment();
    using Net = network<small_net>;
    parameter_store store(7);
    create_parameters<Net>(store);
    const xt::xarray<float> x = pattern({2, 3, 33, 31}, 1.f);
    cpu::executor<Net> run(store);
    check_steady_state(run, 20, x);
}

TEST_CASE("executor allocations: big channel-first layers, live executor") {
    report_environment();
    check_big_net<false, cpu::parameter_mode::live>();
}
TEST_CASE("executor allocations: big channel-first layers, frozen executor") {
    check_big_net<false, cpu::parameter_mode::frozen>();
}
TEST_CASE("executor allocations: big channel-last layers, live executor") {
    check_big_net<true, cpu::parameter_mode::live>();
}
TEST_CASE("executor allocations: big channel-last layers, frozen executor") {
    check_big_net<true, cpu::parameter_mode::frozen>();
}
TEST_CASE("executor allocations: big channel-last layers, fused graph on the live executor") {
    check_big_net<true, cpu::parameter_mode::live, true>();
}
TEST_CASE("executor allocations: big channel-last layers, unfused graph on the frozen executor") {
    check_big_net<true, cpu::parameter_mode::frozen, false>();
}

// Inputs that are not plain contiguous xt::xarray: a transposed view (read through its strides into
// the staging buffer) and an xt::xtensor_fixed (shape checked at compile time) allocate nothing either,
// and give the contiguous input's result.
TEST_CASE("executor allocations: transposed-view and xtensor_fixed inputs") {
    using Net = network<small_net>;
    parameter_store store(7);
    create_parameters<Net>(store);
    const xt::xarray<float> x = pattern({2, 3, 33, 31}, 1.f);
    cpu::executor<Net> run(store);
    const xt::xarray<float> want = run(x);
    const xt::xarray<float> x_t = xt::transpose(x, {3, 1, 2, 0});  // (31, 3, 33, 2), contiguous
    const auto view = xt::transpose(x_t, {3, 1, 2, 0});            // (2, 3, 33, 31), strided
    check_steady_state(run, 10, view);
    CHECK(xt::xarray<float>(run.output<0>()) == want);
    xt::xtensor_fixed<float, xt::xshape<2, 3, 33, 31>> fixed = x;
    check_steady_state(run, 10, fixed);
    CHECK(xt::xarray<float>(run.output<0>()) == want);
}

namespace {
// Runs this binary's allocation cases again in a child process with OPENBLAS_CORETYPE set to `core`
// (or removed when null); returns the child's exit status.
int rerun_with_coretype(const char* core, const char* expect) {
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e)
        if (std::strncmp(*e, "OPENBLAS_CORETYPE=", 18) != 0 && std::strncmp(*e, "KATA_ALLOC_TEST_", 16) != 0)
            env.emplace_back(*e);
    if (core) env.push_back(std::string("OPENBLAS_CORETYPE=") + core);
    if (expect) env.push_back(std::string("KATA_ALLOC_TEST_EXPECT_CORE=") + expect);
    env.push_back("KATA_ALLOC_TEST_CHILD=1");
    std::vector<char*> envp;
    for (auto& s : env) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::string exe = "/proc/self/exe", tc = "--test-case=executor allocations: *",
                tce = "--test-case-exclude=*OPENBLAS_CORETYPE*", quiet = "--no-version";
    char* argv[] = {exe.data(), tc.data(), tce.data(), quiet.data(), nullptr};
    pid_t pid = 0;
    if (posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv, envp.data()) != 0) return -1;
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
}  // namespace

TEST_CASE("executor allocations: the same with OPENBLAS_CORETYPE=Haswell and unset") {
    if (std::getenv("KATA_ALLOC_TEST_CHILD")) return;  // never recurse
    CHECK(rerun_with_coretype("Haswell", "Haswell") == 0);
    CHECK(rerun_with_coretype(nullptr, nullptr) == 0);
}
