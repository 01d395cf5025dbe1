// EXPECT: input \\?'x\\?' has the fixed shape \(1,28,28,2\) but the graph expects \(1,28,28,1\)
// An xt::xtensor_fixed input whose shape (part of its type) differs from the graph input's.
#include <kata/cpu.hpp>
using namespace kata;
constexpr var net(builder& g) {
    auto x = g.input("x", {1, 28, 28, 1}, layout::channel_last);
    return F::relu(x);
}
using Net = network<net>;
void run(parameter_store& store) {
    cpu::executor<Net> exec(store);
    xt::xtensor_fixed<float, xt::xshape<1, 28, 28, 2>> x{};
    exec(x);
}
