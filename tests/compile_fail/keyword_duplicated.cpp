// EXPECT: duplicated_keyword<kata::keyword_name<6>..group.., kata::pf_convolution_args>
// The same keyword twice (nnabla: "got multiple values for keyword argument"). The diagnostic names the
// keyword and the argument struct (kata/ops/keywords.hpp).
#include <kata/kata.hpp>
using namespace kata;
using namespace kata::kw;
constexpr var net(builder& g) {
    auto x = g.input("x", {1, 4, 8, 8});
    return PF::convolution(x, 8, {3, 3}, group = 2, pad = {1, 1}, group = 4);
}
using Net = network<net>;
static_assert(Net::graph.num_functions() == 1);
