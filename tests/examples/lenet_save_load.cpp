// LeNet save/load (issue 3, point 4; examples/lenet_save_load.cpp does the same and prints): LeNet
// built with the parametric function classes (examples/models/lenet.hpp), seeded parameters, a
// forward pass, save to .npz, load into a fresh store and a fresh executor, bit-identical outputs.
// Also: the saved file is readable by kata's npz reader and holds exactly the expected names, shapes
// and dtype (float32), in creation order; an empty store loads it too (merge mode creates names).
#include <doctest/doctest.h>

#include <kata/cpu.hpp>
#include <kata/io/npz.hpp>

#include <atomic>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "../../examples/models/lenet.hpp"

namespace fs = std::filesystem;
using LeNet = kata::network<kata::models::lenet<3>>;

namespace {

struct scratch_dir {
    fs::path path;
    scratch_dir() {
        static std::atomic<int> n{0};
        path = fs::temp_directory_path() /
               ("kata_lenet_test_" + std::to_string(std::hash<std::string>{}(fs::current_path().string())) +
                "_" + std::to_string(n++));
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~scratch_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

xt::xarray<float> input() {
    xt::xarray<float> x = xt::zeros<float>({3, 1, 28, 28});
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = float(std::cos(0.031 * double(i)) * 0.7 - 0.05);
    return x;
}

bool bit_identical(const xt::xarray<float>& a, const xt::xarray<float>& b) {
    return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

const std::vector<std::pair<std::string, std::vector<std::size_t>>> expected_entries = {
    {"conv1/W", {6, 1, 5, 5}},   {"conv1/b", {6}},
    {"bn1/beta", {1, 6, 1, 1}},  {"bn1/gamma", {1, 6, 1, 1}},
    {"bn1/mean", {1, 6, 1, 1}},  {"bn1/var", {1, 6, 1, 1}},
    {"conv2/W", {16, 6, 5, 5}},  {"conv2/b", {16}},
    {"bn2/beta", {1, 16, 1, 1}}, {"bn2/gamma", {1, 16, 1, 1}},
    {"bn2/mean", {1, 16, 1, 1}}, {"bn2/var", {1, 16, 1, 1}},
    {"fc1/W", {256, 120}},       {"fc1/b", {120}},
    {"fc2/W", {120, 84}},        {"fc2/b", {84}},
    {"fc3/W", {84, 10}},         {"fc3/b", {10}},
};

}  // namespace

TEST_CASE("LeNet (parametric classes): graph structure") {
    constexpr const auto& g = LeNet::graph;
    static_assert(g.count(kata::op_kind::convolution) == 2);
    static_assert(g.count(kata::op_kind::batch_normalization) == 2);
    static_assert(g.count(kata::op_kind::affine) == 3);
    static_assert(g.nodes[g.outputs[0]].shape == kata::shape_t{3, 10});
    CHECK(g.count_leaves(kata::op_kind::parameter) == int(expected_entries.size()));
}

TEST_CASE("LeNet: save to .npz, load into a fresh store and executor, bit-identical outputs") {
    scratch_dir dir;
    const fs::path file = dir.path / "lenet.npz";
    const xt::xarray<float> x = input();

    kata::parameter_store store(2024);
    kata::create_parameters<LeNet>(store);
    xt::xarray<float> y0;
    {
        kata::cpu::executor<LeNet> run(store);
        y0 = run(x);
    }
    // Not a degenerate network: outputs differ across samples and classes.
    CHECK(y0(0, 0) != y0(1, 0));
    CHECK(y0(0, 0) != y0(0, 1));
    // bn1's eps reached the graph (the class honours it).
    for (const auto& n : LeNet::graph.nodes)
        if (n.op == kata::op_kind::batch_normalization)
            CHECK((n.name.view() == "bn1" ? n.attr.eps == 1e-3 : n.attr.eps == 1e-5));

    store.save(file);
    REQUIRE(fs::exists(file));
    // Atomic write: nothing but the file in the directory (no temporary left behind).
    CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator{}) == 1);

    SUBCASE("the file holds exactly the expected names, shapes and float32 data, readable by kata's reader") {
        const std::vector<std::byte> bytes = kata::io::read_file_bytes(file);
        const auto entries = kata::io::read_npz(bytes, file.string());
        REQUIRE(entries.size() == expected_entries.size());
        for (std::size_t i = 0; i < entries.size(); ++i) {
            INFO("entry " << i << " " << expected_entries[i].first);
            CHECK(entries[i].name == expected_entries[i].first);
            CHECK(entries[i].array.shape == expected_entries[i].second);
            CHECK(entries[i].array.dtype == kata::io::npy_dtype::f4);
            const auto a = kata::io::to_xarray<float>(entries[i].array, entries[i].name);
            CHECK(bit_identical(a, store.at(entries[i].name).data));
        }
    }
    SUBCASE("strict load into a fresh store (other seed) and a fresh executor") {
        kata::parameter_store fresh(7);
        kata::create_parameters<LeNet>(fresh);
        CHECK_FALSE(bit_identical(fresh.at("conv1/W").data, store.at("conv1/W").data));
        fresh.load(file, kata::load_mode::strict);
        kata::cpu::executor<LeNet> run(fresh);
        const xt::xarray<float> y1 = run(x);
        CHECK(bit_identical(y0, y1));
        // need_grad of existing parameters is kept by load (running statistics stay non-trainable).
        CHECK_FALSE(fresh.at("bn1/mean").need_grad);
        CHECK(fresh.at("fc1/W").need_grad);
    }
    SUBCASE("merge load into an empty store creates every parameter") {
        kata::parameter_store empty;
        empty.load(file);
        CHECK(empty.size() == expected_entries.size());
        kata::cpu::executor<LeNet> run(empty);
        CHECK(bit_identical(y0, xt::xarray<float>(run(x))));
    }
}
