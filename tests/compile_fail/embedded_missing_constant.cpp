// EXPECT: missing_constant_parameter<kata::fixed_string<96>\{"fc/affine/b
// LABELS: embedded
// Binding a graph to a constant parameter table that lacks one of its parameters does not compile, and
// the diagnostic names the parameter.
#include <kata/kata.hpp>

#include "../../embedded/firmware/temporary_runner.hpp"
using namespace kata;
constexpr var net(builder& g) { return PF::affine(g.input("x", {2, 3}), 4, {.name = "fc"}); }
using Net = network<net>;
inline constexpr float W[12] = {};
inline constexpr embedded::constant_parameter table[] = {{"fc/affine/W", W, dtype::f32, shape_t{3, 4}}};
void bind(std::byte* storage) {
    embedded::temporary_runner<Net> run(storage);
    run.bind_constants<table>();
}
