// EXPECT: kernels do not run Add2 on its input 1 \\?'t\\?' of dtype int32: the CPU kernels run float32 tensors; int32 only as Embed
// An int32 operand of Add2 (the output is float32, the first operand's dtype): rejected by the CPU backend's
// dtype rule like any float32 kernel reading an integer tensor.
#include <kata/cpu.hpp>
using namespace kata;
constexpr void net(builder& g) {
    var x = g.input("x", {2, 5});
    var t = g.input("t", {2, 5}, layout::none, dtype::i32);
    g.output(F::add2(x, t));
}
using Net = network<net>;
void run(parameter_store& store) { cpu::executor<Net> ex(store); }
