// EXPECT: Int8QuantizationModifier: BatchNormalization in scope .*bn.* has no int8 form .*over several axes does not fold into
// LABELS: converters
// A test-mode BN over (C, H) stays after BN folding (it scales every (c, h) separately, which the
// convolution's weights cannot absorb); the int8 rewrite then refuses it, saying why it was not folded.
#include <kata/converters.hpp>
using namespace kata;
constexpr var net(builder& g) {
    auto h = PF::convolution(g.input("x", {1, 3, 8, 8}), 4, {3, 3}, {.name = "c"});
    pf_batch_normalization_args a;
    a.axes[0] = 1;
    a.axes[1] = 2;
    a.naxes = 2;
    a.batch_stat = false;
    return F::relu(PF::batch_normalization(h, a));
}
using Int8 = convert<network<net>, Int8QuantizationModifier{}>;
static_assert(Int8::graph.num_functions() > 0);
