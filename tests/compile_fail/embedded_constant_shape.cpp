// EXPECT: kata::exec::constant_parameters: parameter \\?'fc/affine/W\\?' has shape \(4,3\) but the graph expects \(3,4\)
// LABELS: embedded
// The embedded executor: a constant parameter whose shape differs from the graph's parameter does not
// bind, and the diagnostic names the parameter and both shapes.
#include <kata/embedded/backend.hpp>
#include <kata/kata.hpp>
using namespace kata;
constexpr var net(builder& g) {
    return PF::affine(g.input("x", {2, 3}), 4, {.with_bias = false, .name = "fc"});
}
using Net = network<net>;
inline constexpr float W[12] = {};
inline constexpr exec::constant_parameter table[] = {{"fc/affine/W", W, shape_t{4, 3}}};
embedded::executor<Net, table> run;
