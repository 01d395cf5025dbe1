// EXPECT: kernels do not run Convolution in scope \\?'c/conv\\?' on its input 0 \\?'x\\?' of dtype int32: the CPU kernels run float32 tensors
// An int32 image fed straight into a convolution: the CPU kernels read float32, so the executor rejects the
// node instead of reading the integers' bit patterns as floats (kata/cpu/backend.hpp, runs_dtype).
#include <kata/cpu.hpp>
using namespace kata;
constexpr var net(builder& g) {
    var x = g.input("x", {1, 3, 8, 8}, layout::none, dtype::i32);
    return F::relu(PF::convolution(x, 4, {3, 3}, {.name = "c"}));
}
using Net = network<net>;
void run(parameter_store& store) {
    cpu::executor<Net> ex(store);
    xt::xarray<std::int32_t> x = xt::ones<std::int32_t>({1, 3, 8, 8});
    ex(x);
}
