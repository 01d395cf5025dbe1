// Shared by tests/train/trainers.cpp and tests/train/checkpoints.cpp: a tiny regression network (two
// affine layers with tanh, batch 6 or 3), deterministic batches that depend only on their index, a data
// iterator of the interface the naive trainers read, and bitwise comparison of parameter stores.
#pragma once

#include <doctest/doctest.h>

#include <kata/cpu.hpp>
#include <kata/parameters.hpp>
#include <kata/pf.hpp>
#include <kata/train.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace kata::test {

constexpr var mlp(builder& g, std::int64_t batch) {
    auto x = g.input("x", {batch, 3});
    auto h = F::tanh(PF::affine(x, 4, {.name = "fc1"}));
    return PF::affine(h, 2, {.name = "fc2"});
}
constexpr var mlp_loss6(builder& g) {
    auto y = mlp(g, 6);
    auto t = g.input("t", {6, 2});
    return F::mean(F::squared_error(y, t));
}
constexpr var mlp_loss3(builder& g) {
    auto y = mlp(g, 3);
    auto t = g.input("t", {3, 2});
    return F::mean(F::squared_error(y, t));
}
using Net6 = network<mlp_loss6>;
using Train6 = train::training_graph<Net6>;
using Train6Scaled = train::training_graph<Net6, train::loss_seed::scale>;

// Batch `i` (rows `first`..`first+rows` of it): non-trivial values that depend only on i.
inline void fill_batch(std::int64_t i, xt::xarray<float>& x, xt::xarray<float>& t, std::size_t first = 0) {
    const std::size_t rows = x.shape()[0];
    for (std::size_t r = 0; r < rows; ++r) {
        const double k = double(i) * 7.0 + double(r + first);
        for (std::size_t c = 0; c < 3; ++c) x(r, c) = float(std::sin(1.3 * k + 0.7 * double(c)) * 1.5);
        t(r, 0) = float(0.5 * x(r, 0) - x(r, 1) + 0.25);
        t(r, 1) = float(std::cos(k) * 0.3);
    }
}

// The parameters of a store without the loss-scale entry ('@loss_scale'), which only some graphs have.
inline std::vector<std::pair<std::string, parameter*>> model_parameters(parameter_store& s) {
    auto all = s.get_parameters(false);
    std::erase_if(all, [](const auto& p) { return p.first.front() == '@'; });
    return all;
}

inline bool bitwise_equal(parameter_store& a, parameter_store& b) {
    const auto pa = model_parameters(a);
    const auto pb = model_parameters(b);
    if (pa.size() != pb.size()) return false;
    for (std::size_t k = 0; k < pa.size(); ++k) {
        const auto& x = pa[k].second->data;
        const auto& y = pb[k].second->data;
        if (pa[k].first != pb[k].first || x.size() != y.size() ||
            std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) != 0)
            return false;
    }
    return true;
}

inline void copy_parameters(parameter_store& from, parameter_store& to) {
    for (const auto& [name, p] : model_parameters(from))
        to.get_or_create(name, std::vector<std::size_t>(p->data.shape().begin(), p->data.shape().end()),
                         initializer::constant(0.0f), p->need_grad)
            .data = p->data;
}

}  // namespace kata::test
