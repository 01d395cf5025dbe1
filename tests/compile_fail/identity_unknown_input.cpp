// EXPECT: IdentityModifier: no input of the graph is named [^ ]*input[^ ]*; its inputs: [^ ]*x[^ ]* \(2,5\)\\000
// LABELS: converters
// IdentityModifier substitutes inputs by name: a name that matches no input used to substitute nothing,
// silently (issue 15 point 5); now a compile error listing the graph's inputs.
#include <kata/converters.hpp>
using namespace kata;
constexpr var net(builder& g) {
    auto x = g.input("x", {2, 5});
    return F::relu(x);
}
using Batch8 = convert<network<net>, IdentityModifier{.inputs = {{"input", {8, 5}}}}>;
static_assert(Batch8::graph.num_functions() > 0);
