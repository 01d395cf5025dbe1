// EXPECT: ChannelLastModifier: no input of the graph is named [^ ]*image[^ ]*; its inputs: [^ ]*x[^ ]* \(1,3,8,8\), [^ ]*mask[^ ]* \(1,3,8,8\)
// LABELS: converters
// A name that matches no input used to convert nothing, silently (issue 15 point 5): now a compile error
// listing the graph's inputs with their shapes.
#include <kata/converters.hpp>
using namespace kata;
constexpr var net(builder& g) {
    auto x = g.input("x", {1, 3, 8, 8});
    auto mask = g.input("mask", {1, 3, 8, 8});
    return F::relu(F::mul2(PF::convolution(x, 3, {3, 3}, {.pad = {1, 1}, .name = "c"}), mask));
}
using Cl = convert<network<net>, ChannelLastModifier{{"x", "image"}}>;
static_assert(Cl::graph.num_functions() > 0);
