// EXPECT: Deconvolution: invalid spatial arguments on axis 2 \(pad 1, stride 2, dilation 1, output_padding 2\): output_padding must be smaller than stride or dilation: x \(1,3,4,5,6\), W \(6,2,3,2,2\)
// Channel-last 3-D deconvolution whose output_padding on the last spatial axis equals its stride.
#include <kata/kata.hpp>
using namespace kata;
constexpr var net(builder& g) {
    auto x = g.input("x", {1, 3, 4, 5, 6}, layout::channel_last);
    return F::deconvolution(x, g.parameter("W", {6, 2, 3, 2, 2}),
                            {.pad = {1, 0, 1},
                             .stride = {2, 1, 2},
                             .group = 3,
                             .channel_last = true,
                             .output_padding = {1, 0, 2}});
}
using Net = network<net>;
static_assert(Net::graph.num_functions() == 1);
