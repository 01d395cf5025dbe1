// LeNet with its weights compiled into the program and a static arena: no heap at all (issue 10,
// point 1).
//
//     exec::executor<LeNet, cpu::backend, exec::static_arena, exec::constant_parameters<table>>
//
// * Allocation: every allocation entry point of the process is counted (tests/support/
//   allocation_counter.hpp). The one process-wide set-up that is not the executor's (kata's thread pool
//   starting its threads) is done first; from the executor's construction on (construction, binding,
//   three forward passes, OpenBLAS's first calls, reading the output as an owning xtensor_fixed) the
//   count must stay at zero. The storage size is a compile-time constant of the plan.
// * Values: the parameters and input (tests/exec/lenet_values.hpp) are the deterministic values of
//   tools/fixtures/make_exec_fixtures.py, which wrote PyTorch's float64 output to
//   tests/fixtures/exec/lenet_constant.npz; the generator's bits are checked against the fixture, the
//   output against PyTorch (rtol 1e-4, atol 1e-5: five float32 layers, sums of up to 256 products), and
//   against the same network on the heap / parameter_store executor (bit-identical: same kernels).
// * A parameter of the wrong shape in a constant table is a compile error
//   (tests/compile_fail/constant_parameter_shape.cpp).
#include <doctest/doctest.h>

#include <kata/cpu.hpp>

#include "../../examples/models/lenet.hpp"
#include "../support/allocation_counter.hpp"
#include "../support/fixtures.hpp"
#include "lenet_values.hpp"

using namespace kata;
namespace kt = kata::test;
namespace lv = lenet_values;

using LeNet = network<models::lenet<std::int64_t(lv::batch)>>;
using Static = exec::executor<LeNet, cpu::backend, exec::static_arena, lv::parameters>;
using FrozenStatic =
    exec::executor<LeNet, cpu::backend, exec::static_arena, lv::parameters, exec::parameter_mode::frozen>;

// Everything lives in the executor object: arena, scratch, input staging (no prepared parameters for
// LeNet's channel-first convolutions).
static_assert(sizeof(Static) >= Static::storage_bytes);
static_assert(Static::storage_bytes == Static::arena_bytes + Static::workspace_bytes + Static::staging_bytes);

namespace {

// kata's pool starts its threads on first use (std::thread state and the thread's TLS: 2 operator new
// and 1 calloc, once per process); that is not the executor's.
void process_setup() { (void)cpu::num_threads(); }

xt::xarray<float> to_xarray(const float* p, std::vector<std::size_t> shape) {
    xt::xarray<float> a = xt::zeros<float>(shape);
    std::copy_n(p, a.size(), a.data());
    return a;
}

}  // namespace

TEST_CASE("LeNet, constant parameters, static arena: zero heap allocations, PyTorch's output") {
    const kt::fixture fx = kt::load_fixture("exec/lenet_constant.npz");
    // The compiled-in values are the fixture script's, bit for bit.
    kt::check_equal(to_xarray(lv::x.data(), {lv::batch, 1, 28, 28}), fx["x"]);
    kt::check_equal(to_xarray(lv::conv1_W.data(), {6, 1, 5, 5}), fx["conv1_W"]);
    kt::check_equal(to_xarray(lv::bn1_var.data(), {1, 6, 1, 1}), fx["bn1_var"]);
    kt::check_equal(to_xarray(lv::fc3_b.data(), {10}), fx["fc3_b"]);

    process_setup();
    const counts before = counts::now();
    static Static run;  // binds the constant table by name; storage inside the object
    run(lv::x.data());
    run(lv::x.data());
    const xt::xtensor_fixed<float, xt::xshape<lv::batch, 1, 28, 28>> x_fixed = [] {
        xt::xtensor_fixed<float, xt::xshape<lv::batch, 1, 28, 28>> a;
        std::copy(lv::x.begin(), lv::x.end(), a.begin());
        return a;
    }();
    run.execute(x_fixed);
    const auto y = run.result<0>();  // xt::xtensor_fixed<float, xt::xshape<3, 10>>: inline storage
    const counts after = counts::now();
    INFO("allocations from construction on: " << describe(before, after));
    CHECK(after.total() - before.total() == 0);
    {  // the counter sees the allocation a heap arena makes
        exec::heap_arena<Static::storage_bytes> heap_storage;
        CHECK(counts::now().total() > after.total());
    }

    kt::check_close(y, fx["y"], 1e-4, 1e-5);

    // The same network on the heap / parameter_store executor: the same kernels, the same bits.
    parameter_store store;
    for (const exec::constant_parameter& e : lv::table) {
        std::vector<std::size_t> s;
        for (int d = 0; d < e.shape.rank; ++d) s.push_back(std::size_t(e.shape.dims[d]));
        kt::set_param(store, e.name, to_xarray(static_cast<const float*>(e.data), s));
    }
    cpu::executor<LeNet> heap(store);
    kt::check_equal(heap(x_fixed), y);
}

TEST_CASE("LeNet, constant parameters, static arena, frozen mode: the same output") {
    const kt::fixture fx = kt::load_fixture("exec/lenet_constant.npz");
    process_setup();
    const counts before = counts::now();
    static FrozenStatic run;
    run.execute(lv::x.data());
    const counts after = counts::now();
    INFO("allocations from construction on: " << describe(before, after));
    CHECK(after.total() - before.total() == 0);
    kt::check_close(run.output<0>(), fx["y"], 1e-4, 1e-5);
    static Static live;
    live.execute(lv::x.data());
    for (std::size_t i = 0; i < 3 * 10; ++i) CHECK(run.output_data<0>()[i] == live.output_data<0>()[i]);
}
