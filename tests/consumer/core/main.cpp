// A kata::core program: a graph, a structural conversion (batch-normalization folding, then channel-last)
// and the viewer's DOT text, without xtensor, OpenBLAS or any run-time value. Built by the consumer_core
// test against an installed kata with xtensor, xtl, xsimd and BLAS headers poisoned
// (tests/consumer/core/CMakeLists.txt), so it also shows that these headers reach none of them.
#include <kata/converters.hpp>
#include <kata/kata.hpp>
#include <kata/viewer/simple_graph.hpp>

#include <cstdio>
#include <string>

constexpr kata::var net(kata::builder& g) {
    auto x = g.input("x", {1, 3, 9, 7});
    auto h = kata::PF::convolution(x, 5, {3, 3}, {.pad = {1, 1}, .name = "conv"});
    h = kata::PF::batch_normalization(h, {.batch_stat = false, .name = "bn"});
    return kata::F::relu(h);
}
using Net = kata::network<net>;
using Converted = kata::convert<Net, kata::BatchNormalizationFoldingModifier{}, kata::ChannelLastModifier{}>;

static_assert(Net::graph.count(kata::op_kind::batch_normalization) == 1);
static_assert(Converted::graph.count(kata::op_kind::batch_normalization) == 0);
static_assert(Converted::derivations.size() == 3);  // w-folded, b-folded, w-folded_cl

int main() {
    const std::string dot = kata::SimpleGraph().create_graphviz_digraph(Converted::graph);
    const std::string before = kata::SimpleGraph().create_graphviz_digraph(Net::graph);
    std::printf("%s", dot.c_str());
    const bool ok = dot.starts_with("digraph") && dot.find("Convolution") != std::string::npos &&
                    dot.find("BatchNormalization") == std::string::npos &&
                    before.find("BatchNormalization") != std::string::npos;
    std::printf("kata::core consumer: %s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
