// EXPECT: unknown_keyword<kata::keyword_name<4>..pad.., kata::pf_affine_args>
// A keyword the function does not take: PF::affine has no pad. The diagnostic names the keyword and the
// argument struct (kata/ops/keywords.hpp).
#include <kata/kata.hpp>
using namespace kata;
using namespace kata::kw;
constexpr var net(builder& g) {
    auto x = g.input("x", {1, 3, 8, 8});
    return PF::affine(x, 10, name = "fc", pad = {1, 1});
}
using Net = network<net>;
static_assert(Net::graph.num_functions() == 1);
