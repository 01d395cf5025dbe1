// EXPECT: kata::exec::constant_parameters: parameter \\?'W\\?' has shape \(3,4\) but the graph expects \(4,3\)
// A constant parameter table whose entry has the wrong shape: a compile error naming the parameter.
// LABELS: exec
#include <kata/cpu.hpp>
using namespace kata;
constexpr var net(builder& g) { return F::affine(g.input("x", {2, 4}), g.parameter("W", {4, 3})); }
using Net = network<net>;
constexpr float w[12] = {};
constexpr exec::constant_parameter table[] = {{"W", w, {3, 4}}};
using Exec = exec::executor<Net, cpu::backend, exec::static_arena, exec::constant_parameters<table>>;
Exec* make() { return new Exec; }
