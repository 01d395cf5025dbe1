// kata with clang: network construction, a converter pipeline and an executor instantiation must
// compile (and be constant-evaluated) with clang too, not only with g++ (ctest clang_smoke, label
// graph; run by tests/compat/clang_smoke.sh with -fsyntax-only, which instantiates every template).
#include <kata/converters.hpp>
#include <kata/converters/apply_conversion.hpp>
#include <kata/cpu.hpp>

#include "../converters/ref_nets_layout.hpp"

using namespace kata;

using Net = network<ref::small_bn_resnet<2, true, false>>;
using Inference = convert<Net, BatchNormalizationFoldingModifier{}, ChannelLastModifier{}>;
static_assert(Net::graph.count(op_kind::batch_normalization) == 5);
static_assert(Inference::graph.count(op_kind::batch_normalization) == 0);
static_assert(Inference::graph.count(op_kind::transpose) == 0);
static_assert(Inference::graph.nodes[std::size_t(Inference::graph.find(op_kind::input, "x"))].shape ==
              shape_t{1, 32, 32, 3});

int main() {
    parameter_store store;
    create_parameters<Net>(store);
    apply_conversion<Inference>(store);
    cpu::executor<Inference> run(store);
    xt::xarray<float> x = xt::zeros<float>({1, 32, 32, 3});
    return run(x).size() == 10 ? 0 : 1;
}
