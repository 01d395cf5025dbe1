// A user-written graph converter: every ReLU of a small residual network becomes a LeakyReLU, at
// compile time; then both graphs run on the CPU with the same parameters.
//
//     using Leaky = kata::convert<Net, ReLUToLeakyReLUModifier{}>;
//
// The example checks itself (ctest example_relu_to_leaky_relu): the converted network must compute
// exactly what the same network written with F::leaky_relu computes (identical functions on identical
// parameters, so the outputs are bit-identical), and it must differ from the ReLU network (some
// pre-activations are negative). It exits non-zero when either check fails.
#include <cmath>
#include <cstdio>

#include <kata/converters.hpp>
#include <kata/converters/apply_conversion.hpp>
#include <kata/cpu.hpp>

#include "../models/synthetic_weights.hpp"
#include "relu_to_leaky_relu.hpp"

template <bool Leaky>
constexpr kata::var net(kata::builder& g) {
    using namespace kata;
    auto act = [](var v) { return Leaky ? F::leaky_relu(v, 0.1) : F::relu(v); };
    var x = g.input("x", {1, 3, 16, 16});
    var h = act(PF::convolution(x, 8, {3, 3}, {.pad = {1, 1}, .name = "conv1"}));
    h = act(PF::convolution(h, 8, {3, 3}, {.pad = {1, 1}, .name = "conv2"}) + h);
    return PF::affine(h, 10, {.name = "fc"});
}

using Net = kata::network<net<false>>;
using Reference = kata::network<net<true>>;  // written by hand with LeakyReLU(0.1)
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
    kata::cpu::executor<Reference> reference(store);
    auto y0 = original(x);
    auto y1 = leaky(x);
    auto yr = reference(x);
    std::printf("functions: %d -> %d (ReLU %d -> %d, LeakyReLU %d)\n", Net::graph.num_functions(),
                Leaky::graph.num_functions(), Net::graph.count(kata::op_kind::relu),
                Leaky::graph.count(kata::op_kind::relu), Leaky::graph.count(kata::op_kind::leaky_relu));
    for (std::size_t i = 0; i < 3; ++i)
        std::printf("y[%zu]: relu %+.5f  leaky %+.5f\n", i, y0(0, i), y1(0, i));
    double vs_reference = 0, vs_original = 0;
    for (std::size_t i = 0; i < 10; ++i) {
        vs_reference = std::fmax(vs_reference, std::fabs(double(y1(0, i)) - double(yr(0, i))));
        vs_original = std::fmax(vs_original, std::fabs(double(y1(0, i)) - double(y0(0, i))));
    }
    std::printf("max |leaky - hand-written LeakyReLU net| = %g, max |leaky - ReLU net| = %g\n", vs_reference,
                vs_original);
    if (vs_reference != 0.0) {
        std::printf("FAILED: the converted network differs from the hand-written LeakyReLU network\n");
        return 1;
    }
    if (!(vs_original > 0.0)) {
        std::printf("FAILED: the conversion changed nothing\n");
        return 1;
    }
    std::printf("OK\n");
    return 0;
}
