// EXPECT: constant_parameter_mismatch<kata::fixed_string<96>\{"fc/affine/W
// LABELS: embedded
// A constant parameter whose shape differs from the graph's parameter does not bind.
#include <kata/kata.hpp>

#include "../../embedded/firmware/temporary_runner.hpp"
using namespace kata;
constexpr var net(builder& g) {
    return PF::affine(g.input("x", {2, 3}), 4, {.with_bias = false, .name = "fc"});
}
using Net = network<net>;
inline constexpr float W[12] = {};
inline constexpr embedded::constant_parameter table[] = {{"fc/affine/W", W, dtype::f32, shape_t{4, 3}}};
void bind(std::byte* storage) {
    embedded::temporary_runner<Net> run(storage);
    run.bind_constants<table>();
}
