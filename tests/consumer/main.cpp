// Minimal consumer of kata (installed package or add_subdirectory): builds and runs a tiny graph.
#include <kata/cpu.hpp>

#include <cstdio>
#include <cstring>

constexpr kata::var net(kata::builder& g) {
    auto x = g.input("x", {1, 2, 4, 4});
    auto h = kata::PF::convolution(x, 3, {3, 3}, {.pad = {1, 1}, .name = "c"});
    return kata::F::relu(h);
}
using Net = kata::network<net>;

int main() {
    static_assert(KATA_VERSION_MAJOR == 0 && KATA_VERSION_MINOR == 1);
    kata::parameter_store store;
    kata::create_parameters<Net>(store);
    kata::cpu::executor<Net> run(store);
    xt::xarray<float> x = xt::ones<float>({1, 2, 4, 4});
    auto y = run(x);
    std::printf("kata %s: output %zu values, min %g\n", kata::version, y.size(), double(xt::amin(y)()));
    return (y.size() == 48 && xt::amin(y)() >= 0.0f && std::strcmp(kata::version, "0.1.0") == 0) ? 0 : 1;
}
