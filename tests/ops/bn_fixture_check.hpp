// The fixture check shared by the BatchNormalization tests (batch_normalization.cpp and
// batch_normalization_axes.cpp): both read fixtures of tools/fixtures/make_op_fixtures.py with the
// same keys (x, z, beta, gamma, mean, var, the output, mean_new / var_new) and the same tolerance.
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "../support/fixtures.hpp"

namespace kata::test {

inline constexpr double bn_rtol = 1e-5, bn_atol = 1e-5;

// Runs Net on the fixture's x (and z when the network has two inputs), compares output 0 with `yname`
// and, in batch_stat mode, the updated running statistics with mean_new / var_new (otherwise checks
// that they are untouched).
template <class Net>
void check_bn(std::string_view name, const char* yname, bool batch_stat) {
    INFO("fixture ops/" << std::string(name) << ".npz, expected '" << yname << "'");
    const fixture fx = load_fixture("ops/" + std::string(name) + ".npz");
    kata::parameter_store store;
    for (const char* p : {"beta", "gamma", "mean", "var"}) set_param(store, p, fx[p]);
    kata::cpu::executor<Net> run(store);
    const xt::xarray<float> x = fx["x"];
    if constexpr (kata::cpu::executor<Net>::num_inputs == 2) {
        const xt::xarray<float> z = fx["z"];
        check_close(run(x, z), fx[yname], bn_rtol, bn_atol);
    } else {
        check_close(run(x), fx[yname], bn_rtol, bn_atol);
    }
    if (batch_stat) {
        check_close(store.find("mean")->data, fx["mean_new"], bn_rtol, bn_atol);
        check_close(store.find("var")->data, fx["var_new"], bn_rtol, bn_atol);
    } else {
        check_equal(store.find("mean")->data, fx["mean"]);
        check_equal(store.find("var")->data, fx["var"]);
    }
}

}  // namespace kata::test
