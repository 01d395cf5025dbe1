// ResNet-50 before and after conversion, drawn with kata::SimpleGraph (seed 002's "see the resnet
// architecture", before and after the graph converters).
//
//   draw_resnet50 [output directory]     (default: the current directory)
//
// Writes, for three graphs (as written; BN folded; BN folded + channel-last):
//   resnet50*.svg                 the whole network (174 / 121 / 121 functions): zoom in a browser
//   resnet50_stage1*.png          the stem and the first bottleneck (layer1/0, with its projection
//                                 shortcut), readable at a small size: the pictures in the README
// The conversions are the demo's (examples/resnet50_demo.cpp):
//   Folded   = convert<ResNet50, BatchNormalizationFoldingModifier{}>
//   FoldedCl = convert<ResNet50, BatchNormalizationFoldingModifier{}, ChannelLastModifier{}>
// Colours: convolutions blue, batch normalizations orange, the image input green. Verbose mode is
// used for the stage-1 pictures so that the shapes (NCHW vs NHWC) and arguments show.
// Without GraphViz's `dot` on PATH it writes the DOT sources only and says so (exit status 0).
#include <kata/converters.hpp>
#include <kata/viewer/simple_graph.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "../models/resnet50.hpp"

using namespace kata;

namespace {

// The stem and the first bottleneck of ResNet-50, with ResNet-50's own layer code and names.
constexpr var resnet50_stage1(builder& g) {
    var x = g.input("x", {1, 3, 224, 224});
    var h = models::detail::conv_bn<false>(x, 64, 7, 2, "conv1");
    h = F::max_pooling(h, {3, 3}, {.stride = {2, 2}, .pad = {1, 1}});
    auto ls = g.scope("layer1");
    auto bs = g.scope("0");
    return models::detail::bottleneck<false>(h, 64, 1, true, true);
}

using ResNet50 = network<models::resnet50_net<1>>;
using Stage1 = network<resnet50_stage1>;
template <class Net>
using Folded = convert<Net, BatchNormalizationFoldingModifier{}>;
template <class Net>
using FoldedCl = convert<Net, BatchNormalizationFoldingModifier{}, ChannelLastModifier{}>;

// dot's default layout of a 174-function chain is very tall; these attributes keep the PNGs small.
std::string with_graph_attributes(std::string dot, const char* attrs) {
    const auto p = dot.find('{');
    if (p != std::string::npos) dot.insert(p + 1, std::string("\n    ") + attrs);
    return dot;
}

}  // namespace

int main(int argc, char** argv) {
    const std::filesystem::path dir = argc > 1 ? argv[1] : ".";
    std::filesystem::create_directories(dir);
    const SimpleGraph::color_map fcolors{{"Convolution", "lightblue"}, {"BatchNormalization", "orange"}};
    const SimpleGraph::color_map vcolors{{"x", "palegreen"}};
    const SimpleGraph whole("svg", false, fcolors, vcolors);
    const SimpleGraph detail("png", true, fcolors, vcolors);

    struct picture {
        const char* name;
        std::string whole_dot, stage1_dot;
        int functions, bns;
    };
    const picture pictures[] = {
        {"resnet50", whole.create_graphviz_digraph(ResNet50::graph), detail.create_graphviz_digraph(Stage1::graph),
         ResNet50::graph.num_functions(), ResNet50::graph.count(op_kind::batch_normalization)},
        {"resnet50_bn_folded", whole.create_graphviz_digraph(Folded<ResNet50>::graph),
         detail.create_graphviz_digraph(Folded<Stage1>::graph), Folded<ResNet50>::graph.num_functions(),
         Folded<ResNet50>::graph.count(op_kind::batch_normalization)},
        {"resnet50_bn_folded_nhwc", whole.create_graphviz_digraph(FoldedCl<ResNet50>::graph),
         detail.create_graphviz_digraph(FoldedCl<Stage1>::graph), FoldedCl<ResNet50>::graph.num_functions(),
         FoldedCl<ResNet50>::graph.count(op_kind::batch_normalization)},
    };
    for (const picture& p : pictures) {
        std::printf("%-24s %3d functions, %2d batch normalizations\n", p.name, p.functions, p.bns);
        const std::string stage1 = std::string(p.name).replace(0, 8, "resnet50_stage1");
        try {
            std::printf("  wrote %s\n", whole.render(p.whole_dot, dir / p.name, {}, true).c_str());
            std::printf("  wrote %s\n",
                        detail.render(with_graph_attributes(p.stage1_dot, "graph [dpi=48];"), dir / stage1, {}, true)
                            .c_str());
        } catch (const std::runtime_error& e) {
            // Typically: GraphViz is not installed. The DOT text can still be rendered elsewhere.
            std::fprintf(stderr, "%s\n", e.what());
            std::ofstream(dir / (std::string(p.name) + ".gv")) << p.whole_dot;
            std::ofstream(dir / (stage1 + ".gv")) << p.stage1_dot;
            std::printf("  wrote %s.gv and %s.gv (DOT sources only)\n", p.name, stage1.c_str());
        }
    }
    return 0;
}
