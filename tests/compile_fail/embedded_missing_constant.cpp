// EXPECT: kata::exec::constant_parameters: parameter \\?'fc/affine/b\\?' with shape \(4,\) is not in the constant parameter table
// LABELS: embedded
// The embedded executor: binding a graph to a constant parameter table that lacks one of its parameters
// does not compile, and the diagnostic names the parameter.
#include <kata/embedded/backend.hpp>
#include <kata/kata.hpp>
using namespace kata;
constexpr var net(builder& g) { return PF::affine(g.input("x", {2, 3}), 4, {.name = "fc"}); }
using Net = network<net>;
inline constexpr float W[12] = {};
inline constexpr exec::constant_parameter table[] = {{"fc/affine/W", W, shape_t{3, 4}}};
embedded::executor<Net, table> run;
