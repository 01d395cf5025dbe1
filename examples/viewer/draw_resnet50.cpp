// ResNet-50 before and after conversion, drawn with kata::SimpleGraph (the "see the ResNet
// architecture" use case of nnabla's viewer documentation, before and after the graph converters).
//
//   draw_resnet50 [output directory]     (default: the current directory)
//
// Draws three graphs: as written; BN folded; BN folded + channel-last (the demo's conversions,
// examples/resnet50_demo.cpp):
//   Folded   = convert<Net, BatchNormalizationFoldingModifier{}>
//   FoldedCl = convert<Net, BatchNormalizationFoldingModifier{}, ChannelLastModifier{}>
// and writes, for each of them (suffixes "", "_bn_folded", "_bn_folded_nhwc"):
//   resnet50<suffix>.svg          the whole network (174 / 121 / 121 functions, ~30000 pt tall):
//                                 zoom in a browser
//   resnet50_stage1<suffix>.svg   the stem and the first bottleneck (layer1/0, with its projection
//                                 shortcut), verbose
//   resnet50_stem<suffix>.png     the stem (conv1, its BN, ReLU, max pooling), verbose, at 72 dpi
//                                 with an 11 pt font so that it is legible at its natural size: the
//                                 pictures in the README (docs/images/)
// Verbose mode shows the shapes (NCHW vs NHWC) and the arguments ("channel_last": true after the
// conversion). Colours are SimpleGraph's defaults (convolutions blue, normalizations orange, ReLU
// green, pooling lightblue2, Add2 purple, parameters pink, other variables lightgray); the image
// input is drawn palegreen through vname_color_map.
//
// Checks, so that the pictures show what they claim: the converted graphs have no BatchNormalization
// (and the channel-last ones no Transpose) at compile time, and the DOT texts drawn have no such node.
// Without GraphViz's `dot` on PATH it writes the DOT sources (*.gv) instead and exits 0; any other
// failure (a check, a file that cannot be written, dot failing) exits 1.
#include <kata/converters.hpp>
#include <kata/viewer/simple_graph.hpp>

#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "../models/resnet50.hpp"

using namespace kata;

namespace {

// The stem of ResNet-50, with ResNet-50's own layer code and names.
constexpr var resnet50_stem(builder& g) {
    var x = g.input("x", {1, 3, 224, 224});
    var h = models::detail::conv_bn<false>(x, 64, 7, 2, "conv1");
    return F::max_pooling(h, {3, 3}, {.stride = {2, 2}, .pad = {1, 1}});
}

// The stem and the first bottleneck.
constexpr var resnet50_stage1(builder& g) {
    var h = resnet50_stem(g);
    auto ls = g.scope("layer1");
    auto bs = g.scope("0");
    return models::detail::bottleneck<false>(h, 64, 1, true, true);
}

using ResNet50 = network<models::resnet50_net<1>>;
using Stage1 = network<resnet50_stage1>;
using Stem = network<resnet50_stem>;
template <class Net>
using Folded = convert<Net, BatchNormalizationFoldingModifier{}>;
template <class Net>
using FoldedCl = convert<Net, BatchNormalizationFoldingModifier{}, ChannelLastModifier{}>;

template <class Net>
constexpr int bns = Net::graph.count(op_kind::batch_normalization);
template <class Net>
constexpr int transposes = Net::graph.count(op_kind::transpose);
static_assert(bns<ResNet50> == 53 && bns<Stage1> == 5 && bns<Stem> == 1);
static_assert(bns<Folded<ResNet50>> == 0 && bns<Folded<Stage1>> == 0 && bns<Folded<Stem>> == 0);
static_assert(bns<FoldedCl<ResNet50>> == 0 && bns<FoldedCl<Stage1>> == 0 && bns<FoldedCl<Stem>> == 0);
static_assert(transposes<FoldedCl<ResNet50>> == 0 && transposes<FoldedCl<Stage1>> == 0 &&
              transposes<FoldedCl<Stem>> == 0);

// Graph-wide GraphViz attributes for the README pictures, inserted before SimpleGraph's own
// `node [style=filled]` (dot's defaults, 96 dpi and 14 pt, make the stem 1000+ px wide).
constexpr const char* readme_attributes = "\tgraph [dpi=72 nodesep=0.15 ranksep=0.25 pad=0.05]\n"
                                          "\tnode [fontsize=11 margin=\"0.06,0.02\" height=0.3]\n"
                                          "\tedge [arrowsize=0.6]\n";

std::string with_attributes(std::string dot, const char* attrs) {
    const auto p = dot.find('\n');
    if (p == std::string::npos) throw std::logic_error("draw_resnet50: unexpected DOT text");
    return dot.insert(p + 1, attrs);
}

struct picture {
    std::string file;  // without extension
    std::string dot;
    const SimpleGraph* viewer;
    bool converted, channel_last;
};

void check_drawn(const picture& p) {
    auto has = [&](const char* id) { return p.dot.find(id) != std::string::npos; };
    if (p.converted && has("\"BatchNormalization-1\""))
        throw std::runtime_error(p.file + ": a BatchNormalization is drawn after folding");
    if (!p.converted && !has("\"BatchNormalization-1\""))
        throw std::runtime_error(p.file + ": no BatchNormalization drawn before folding");
    // The channel-last graphs read the NHWC weights (verbose: and show "channel_last": true).
    if (p.channel_last && (has("\"Transpose-1\"") || !has("w-folded_cl")))
        throw std::runtime_error(p.file + ": the channel-last picture has a Transpose or no NHWC weight");
}

int run(const std::filesystem::path& dir) {
    std::filesystem::create_directories(dir);
    const SimpleGraph::color_map vcolors{{"x", "palegreen"}};
    const SimpleGraph whole("svg", false, {}, vcolors);
    const SimpleGraph stage1("svg", true, {}, vcolors);
    const SimpleGraph stem("png", true, {}, vcolors);

    std::printf("resnet50                 %3d functions, %2d batch normalizations\n",
                ResNet50::graph.num_functions(), bns<ResNet50>);
    std::printf("resnet50_bn_folded       %3d functions, %2d batch normalizations\n",
                Folded<ResNet50>::graph.num_functions(), bns<Folded<ResNet50>>);
    std::printf("resnet50_bn_folded_nhwc  %3d functions, %2d batch normalizations, %d transposes\n",
                FoldedCl<ResNet50>::graph.num_functions(), bns<FoldedCl<ResNet50>>,
                transposes<FoldedCl<ResNet50>>);

    const std::vector<picture> pictures{
        {"resnet50", whole.create_graphviz_digraph(ResNet50::graph), &whole, false, false},
        {"resnet50_bn_folded", whole.create_graphviz_digraph(Folded<ResNet50>::graph), &whole, true, false},
        {"resnet50_bn_folded_nhwc", whole.create_graphviz_digraph(FoldedCl<ResNet50>::graph), &whole, true,
         true},
        {"resnet50_stage1", stage1.create_graphviz_digraph(Stage1::graph), &stage1, false, false},
        {"resnet50_stage1_bn_folded", stage1.create_graphviz_digraph(Folded<Stage1>::graph), &stage1, true,
         false},
        {"resnet50_stage1_bn_folded_nhwc", stage1.create_graphviz_digraph(FoldedCl<Stage1>::graph), &stage1,
         true, true},
        {"resnet50_stem", with_attributes(stem.create_graphviz_digraph(Stem::graph), readme_attributes),
         &stem, false, false},
        {"resnet50_stem_bn_folded",
         with_attributes(stem.create_graphviz_digraph(Folded<Stem>::graph), readme_attributes), &stem, true,
         false},
        {"resnet50_stem_bn_folded_nhwc",
         with_attributes(stem.create_graphviz_digraph(FoldedCl<Stem>::graph), readme_attributes), &stem, true,
         true},
    };
    for (const picture& p : pictures) check_drawn(p);

    if (!SimpleGraph::dot_available()) {
        // Only a missing GraphViz is tolerated: the DOT sources can be rendered elsewhere.
        std::fprintf(stderr, "draw_resnet50: GraphViz's dot is not on PATH; writing the DOT sources only\n");
        for (const picture& p : pictures) {
            const auto path = dir / (p.file + ".gv");
            std::ofstream f(path);
            if (!(f << p.dot) || !(f.close(), f))
                throw std::runtime_error("draw_resnet50: cannot write '" + path.string() + "'");
            std::printf("  wrote %s (DOT source only)\n", path.c_str());
        }
        return 0;
    }
    for (const picture& p : pictures) {
        const auto out = p.viewer->render(p.dot, dir / p.file, {}, /*cleanup=*/true);
        std::printf("  wrote %s (%ju bytes)\n", out.c_str(), std::uintmax_t(std::filesystem::file_size(out)));
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc > 1 ? argv[1] : ".");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "draw_resnet50: %s\n", e.what());
        return 1;
    }
}
