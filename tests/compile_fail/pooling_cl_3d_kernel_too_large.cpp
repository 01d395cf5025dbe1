// EXPECT: AveragePooling: kernel larger than the padded input: x \(2,5,3,6,4\), kernel of 3 axes \(2,6,2\), stride \(2,1,1\), pad \(0,1,0\), ignore_border, channel_last
// Channel-last 3-D pooling whose kernel (6) exceeds the padded second pooled axis (3 + 2*1).
#include <kata/kata.hpp>
using namespace kata;
constexpr var net(builder& g) {
    auto x = g.input("x", {2, 5, 3, 6, 4}, layout::channel_last);
    return F::average_pooling(x, {2, 6, 2}, {.stride = {2, 1, 1}, .pad = {0, 1, 0}, .channel_last = true});
}
using Net = network<net>;
static_assert(Net::graph.num_functions() == 1);
