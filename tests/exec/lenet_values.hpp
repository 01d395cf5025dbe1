// LeNet's parameters and input as constants compiled into the program: the deterministic generator of
// tools/fixtures/make_exec_fixtures.py, written again here (see that script for why the two give the same
// float32 bits), and a kata::exec::constant_parameters table that an executor binds by name.
#pragma once

#include <kata/exec/constant_parameters.hpp>

#include <array>
#include <cstddef>
#include <cstdint>

namespace lenet_values {

template <std::size_t N>
constexpr std::array<float, N> values(std::uint32_t seed, double scale, double offset = 0.0) {
    std::array<float, N> a{};
    std::uint32_t h = seed * 2654435761u;
    for (std::size_t i = 0; i < N; ++i) {
        h = h * 1664525u + 1013904223u;
        const int k = int((h >> 8) % 2001u) - 1000;
        a[i] = float(offset + scale * (double(k) / 1000.0));
    }
    return a;
}

inline constexpr std::size_t batch = 3;

// name, shape, seed, scale, offset: the table of make_exec_fixtures.py
inline constexpr auto conv1_W = values<6 * 1 * 5 * 5>(1, 0.4);
inline constexpr auto conv1_b = values<6>(2, 0.1);
inline constexpr auto bn1_beta = values<6>(3, 0.2);
inline constexpr auto bn1_gamma = values<6>(4, 0.3, 1.0);
inline constexpr auto bn1_mean = values<6>(5, 0.2);
inline constexpr auto bn1_var = values<6>(6, 0.4, 0.8);
inline constexpr auto conv2_W = values<16 * 6 * 5 * 5>(7, 0.15);
inline constexpr auto conv2_b = values<16>(8, 0.1);
inline constexpr auto bn2_beta = values<16>(9, 0.2);
inline constexpr auto bn2_gamma = values<16>(10, 0.3, 1.0);
inline constexpr auto bn2_mean = values<16>(11, 0.2);
inline constexpr auto bn2_var = values<16>(12, 0.4, 0.8);
inline constexpr auto fc1_W = values<256 * 120>(13, 0.1);
inline constexpr auto fc1_b = values<120>(14, 0.05);
inline constexpr auto fc2_W = values<120 * 84>(15, 0.15);
inline constexpr auto fc2_b = values<84>(16, 0.05);
inline constexpr auto fc3_W = values<84 * 10>(17, 0.18);
inline constexpr auto fc3_b = values<10>(18, 0.05);
inline constexpr auto x = values<batch * 28 * 28>(100, 1.0);

using kata::exec::constant_parameter;
inline constexpr constant_parameter table[] = {
    {"conv1/W", conv1_W, {6, 1, 5, 5}},
    {"conv1/b", conv1_b, {6}},
    {"bn1/beta", bn1_beta, {1, 6, 1, 1}},
    {"bn1/gamma", bn1_gamma, {1, 6, 1, 1}},
    {"bn1/mean", bn1_mean, {1, 6, 1, 1}},
    {"bn1/var", bn1_var, {1, 6, 1, 1}},
    {"conv2/W", conv2_W, {16, 6, 5, 5}},
    {"conv2/b", conv2_b, {16}},
    {"bn2/beta", bn2_beta, {1, 16, 1, 1}},
    {"bn2/gamma", bn2_gamma, {1, 16, 1, 1}},
    {"bn2/mean", bn2_mean, {1, 16, 1, 1}},
    {"bn2/var", bn2_var, {1, 16, 1, 1}},
    {"fc1/W", fc1_W, {256, 120}},
    {"fc1/b", fc1_b, {120}},
    {"fc2/W", fc2_W, {120, 84}},
    {"fc2/b", fc2_b, {84}},
    {"fc3/W", fc3_W, {84, 10}},
    {"fc3/b", fc3_b, {10}},
};
using parameters = kata::exec::constant_parameters<table>;

}  // namespace lenet_values
