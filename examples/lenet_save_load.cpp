// LeNet with kata's parametric function classes: create seeded parameters, run, save them to .npz,
// load them into a fresh store and a fresh executor, and get bit-identical outputs (issue 3, point 4).
//
//   lenet_save_load [path.npz]        (default: lenet_params.npz in the current directory)
//
// Exit status 0 when the outputs after loading are bit-identical to the originals, 1 otherwise.
#include <kata/cpu.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include "models/lenet.hpp"

using LeNet = kata::network<kata::models::lenet<2>>;

namespace {

void print_outputs(const char* title, const xt::xarray<float>& y) {
    std::printf("%s\n", title);
    for (std::size_t n = 0; n < y.shape()[0]; ++n) {
        std::printf("  sample %zu:", n);
        for (std::size_t k = 0; k < y.shape()[1]; ++k) std::printf(" %+.6f", double(y(n, k)));
        std::printf("\n");
    }
}

}  // namespace

int main(int argc, char** argv) {
    const std::string path = argc > 1 ? argv[1] : "lenet_params.npz";

    // A deterministic input: two smooth 28x28 "images".
    xt::xarray<float> x = xt::zeros<float>({2, 1, 28, 28});
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = float(std::sin(0.05 * double(i)) * 0.5 + 0.1);

    // 1. Parameters from the graph's initializers, drawn from a seeded generator; a forward pass.
    kata::parameter_store store(2024);
    kata::create_parameters<LeNet>(store);
    std::printf("LeNet: %zu parameters created (seed 2024)\n", store.size());
    xt::xarray<float> y0;
    {
        kata::cpu::executor<LeNet> run(store);
        y0 = run(x);  // copy: the executor's outputs are views into its arena
    }
    print_outputs("outputs (original parameters):", y0);

    // 2. Save (atomic: temporary file, then rename).
    store.save(path);
    std::printf("saved to %s\n", path.c_str());

    // 3. A fresh store (other seed, so different values) with the same names, then a strict load:
    //    every parameter must be in the file and every file entry must be a parameter.
    kata::parameter_store fresh(7);
    kata::create_parameters<LeNet>(fresh);
    fresh.load(path, kata::load_mode::strict);
    kata::cpu::executor<LeNet> run2(fresh);
    const xt::xarray<float> y1 = run2(x);
    print_outputs("outputs (parameters loaded into a fresh store and executor):", y1);

    const bool same =
        y0.shape() == y1.shape() && std::memcmp(y0.data(), y1.data(), y0.size() * sizeof(float)) == 0;
    std::printf("bit-identical: %s\n", same ? "yes" : "NO");
    return same ? 0 : 1;
}
