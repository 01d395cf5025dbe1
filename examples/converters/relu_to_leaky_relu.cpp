// A user-written graph converter: every ReLU of a small residual network becomes a LeakyReLU, at
// compile time; then both graphs run on the CPU with the same parameters.
//
//     using Leaky = kata::convert<Net, ReLUToLeakyReLUModifier{}>;
#include <cstdio>

#include <kata/converters.hpp>
#include <kata/cpu.hpp>

#include "../models/synthetic_weights.hpp"
#include "relu_to_leaky_relu.hpp"

constexpr kata::var net(kata::builder& g) {
    using namespace kata;
    var x = g.input("x", {1, 3, 16, 16});
    var h = F::relu(PF::convolution(x, 8, {3, 3}, {.pad = {1, 1}, .name = "conv1"}));
    h = F::relu(PF::convolution(h, 8, {3, 3}, {.pad = {1, 1}, .name = "conv2"}) + h);
    return PF::affine(h, 10, {.name = "fc"});
}

using Net = kata::network<net>;
using Leaky = kata::convert<Net, ReLUToLeakyReLUModifier{}>;
static_assert(Leaky::graph.count(kata::op_kind::relu) == 0);
static_assert(Leaky::graph.count(kata::op_kind::leaky_relu) == 2);

int main() {
    kata::parameter_store store;
    kata::models::synthetic_parameters<Net>(store);
    kata::apply_conversion<Leaky>(store);  // nothing to derive here; shown for the general pattern
    xt::xarray<float> x(std::vector<std::size_t>{1, 3, 16, 16});
    kata::models::synthetic_input("x", x.data(), x.size());
    kata::cpu::executor<Net> original(store);
    kata::cpu::executor<Leaky> leaky(store);
    auto y0 = original(x);
    auto y1 = leaky(x);
    std::printf("functions: %d -> %d (ReLU %d -> %d, LeakyReLU %d)\n", Net::graph.num_functions(),
                Leaky::graph.num_functions(), Net::graph.count(kata::op_kind::relu),
                Leaky::graph.count(kata::op_kind::relu), Leaky::graph.count(kata::op_kind::leaky_relu));
    for (std::size_t i = 0; i < 3; ++i) std::printf("y[%zu]: relu %+.5f  leaky %+.5f\n", i, y0(0, i), y1(0, i));
    return 0;
}
