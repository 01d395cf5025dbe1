// Drawing kata graphs with kata::SimpleGraph (nnabla's experimental SimpleGraph viewer).
//
//   draw_resnet [output directory]     (default: the current directory)
//
// Draws a small residual network (stem, two basic blocks, one with a projection shortcut, head) and
// writes, in the output directory:
//   small_resnet.png / small_resnet.svg     the default picture (GraphViz DOT source kept next to them)
//   small_resnet_verbose.svg                verbose mode: shapes, need_grad, function arguments
// Without GraphViz's `dot` on PATH it writes the DOT sources only and says so (exit status 0); any
// other failure (a file that cannot be written, dot failing) exits 1.
//
// Drawing any other graph is the same call on its graph value, e.g. a converter's output;
// examples/viewer/draw_resnet50.cpp draws ResNet-50 before and after BN folding and channel-last
// conversion:
//
//     using ResNet50 = kata::network<kata::models::resnet50_net<1>>;
//     using Folded = kata::convert<ResNet50, kata::BatchNormalizationFoldingModifier{}>;
//     kata::SimpleGraph viewer("svg");
//     viewer.save(ResNet50::graph, dir / "resnet50");
//     viewer.save(Folded::graph, dir / "resnet50_bn_folded");
#include <kata/kata.hpp>
#include <kata/viewer/simple_graph.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>

using namespace kata;

namespace {

// A basic residual block: conv-BN-ReLU-conv-BN + shortcut, then ReLU. With `stride` 2 or a change of
// width, the shortcut is a 1x1 convolution + BN (a projection).
constexpr var basic_block(var x, std::int64_t planes, std::int64_t stride, std::string_view name) {
    builder& g = *x.g;
    auto s = g.scope(name);
    auto h = PF::convolution(
        x, planes, {3, 3}, {.pad = {1, 1}, .stride = {stride, stride}, .with_bias = false, .name = "conv1"});
    h = F::relu(PF::batch_normalization(h, {.batch_stat = false, .name = "bn1"}));
    h = PF::convolution(h, planes, {3, 3}, {.pad = {1, 1}, .with_bias = false, .name = "conv2"});
    h = PF::batch_normalization(h, {.batch_stat = false, .name = "bn2"});
    var shortcut = x;
    if (stride != 1 || x.shape()[1] != planes) {
        shortcut = PF::convolution(x, planes, {1, 1},
                                   {.stride = {stride, stride}, .with_bias = false, .name = "proj"});
        shortcut = PF::batch_normalization(shortcut, {.batch_stat = false, .name = "proj_bn"});
    }
    return F::relu(h + shortcut);
}

constexpr var small_resnet(builder& g) {
    auto x = g.input("x", {1, 3, 32, 32});
    auto h = PF::convolution(x, 16, {3, 3}, {.pad = {1, 1}, .with_bias = false, .name = "stem"});
    h = F::relu(PF::batch_normalization(h, {.batch_stat = false, .name = "stem_bn"}));
    h = basic_block(h, 16, 1, "block1");
    h = basic_block(h, 32, 2, "block2");
    h = F::global_average_pooling(h);
    return PF::affine(h, 10, {.name = "fc"});
}

}  // namespace

using SmallResNet = network<small_resnet>;

int main(int argc, char** argv) {
    const std::filesystem::path dir = argc > 1 ? argv[1] : ".";
    std::filesystem::create_directories(dir);
    constexpr const auto& g = SmallResNet::graph;
    std::printf("small ResNet: %d functions (%d convolutions, %d batch normalizations)\n", g.num_functions(),
                g.count(op_kind::convolution), g.count(op_kind::batch_normalization));

    SimpleGraph viewer;                // png, not verbose
    SimpleGraph verbose("svg", true);  // shapes and arguments
    if (!SimpleGraph::dot_available()) {
        // Only a missing GraphViz is tolerated: the DOT text can still be rendered elsewhere.
        std::fprintf(stderr, "draw_resnet: GraphViz's dot is not on PATH; writing the DOT sources only\n");
        for (auto [v, name] :
             {std::pair{&viewer, "small_resnet.gv"}, std::pair{&verbose, "small_resnet_verbose.gv"}}) {
            std::ofstream f(dir / name);
            f << v->create_graphviz_digraph(g);
            if (!f.flush()) {
                std::fprintf(stderr, "draw_resnet: cannot write %s\n", (dir / name).c_str());
                return 1;
            }
            std::printf("wrote %s (DOT source only)\n", (dir / name).c_str());
        }
        return 0;
    }
    try {
        std::printf("wrote %s\n", viewer.save(g, dir / "small_resnet").c_str());
        std::printf("wrote %s\n", viewer.save(g, dir / "small_resnet", "svg").c_str());
        std::printf("wrote %s\n", verbose.save(g, dir / "small_resnet_verbose").c_str());
    } catch (const std::runtime_error& e) {
        std::fprintf(stderr, "draw_resnet: %s\n", e.what());
        return 1;
    }
    return 0;
}
