// kata_weights_header (kata/embedded/host/weights_header.hpp, tools/weights_header.cpp): the header of
// constant arrays and the constant parameter table that embedded builds compile into flash.
//  * lenet_weights.hpp, generated at build time from tests/fixtures/embedded/lenet.npz by the tool itself
//    (cmake/kata_embedded.cmake), is compiled into this test: every array is bit-identical to the .npz
//    (read at run time with kata's npz reader), the table's names, dtypes and shapes match, and the
//    table is usable during compilation (exec::constant_parameters' find and compile-time check);
//    LeNet bound to it on the embedded kernels (kata::embedded::executor) agrees with the CPU executor on the fixture's parameters.
//  * text of special values (-0, subnormals, extremes, inf, nan), int32 (incl. INT32_MIN), int8, uint8,
//    identifiers for awkward names, a rank-0 and an empty array;
//  * refused inputs (float64, rank > 8, data size not matching the shape) name the array;
//  * writing is atomic and leaves an identical file untouched; a parameter store can be written too.
#include <doctest/doctest.h>

#include <kata/embedded/host/weights_header.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "../../examples/models/lenet.hpp"
#include "../support/embedded_check.hpp"
#include "lenet_weights.hpp"  // generated at build time by kata_weights_header

namespace fs = std::filesystem;
namespace host = kata::embedded::host;
using kata::io::npy_dtype;

namespace {

template <class T>
host::weights_entry entry(std::string name, npy_dtype t, std::vector<std::size_t> shape,
                          const std::vector<T>& v) {
    return {std::move(name), t, std::move(shape), std::as_bytes(std::span<const T>(v))};
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

constexpr auto& table = kata_lenet::parameters;
constexpr kata::exec::constant_parameters<table> source{};
static_assert(source.find("conv2/W") == &table[6]);
static_assert(source.find("nope") == nullptr);
static_assert(table[6].shape == kata::shape_t{16, 6, 5, 5} && table[6].type == kata::dtype::f32);
static_assert(table[6].count == 16 * 6 * 5 * 5);
static_assert([] {
    std::int64_t n = 0;
    for (const auto& e : table) n += e.count;
    return n;
}() == 44514 + 784 + 10);  // parameters + x + y

}  // namespace

TEST_CASE("the generated lenet_weights.hpp holds the .npz's arrays bit for bit") {
    const auto fx_path = kata::test::fixture_dir() / "embedded" / "lenet.npz";
    const std::vector<std::byte> bytes = kata::io::read_file_bytes(fx_path);
    const auto npz = kata::io::read_npz(bytes, fx_path.string());
    REQUIRE(npz.size() == std::size(table));
    for (std::size_t k = 0; k < npz.size(); ++k) {
        INFO("array " << npz[k].name);
        CHECK(std::string(table[k].name) == npz[k].name);
        CHECK(table[k].type == kata::dtype::f32);
        CHECK(std::size_t(table[k].shape.rank) == npz[k].array.shape.size());
        for (int d = 0; d < table[k].shape.rank; ++d)
            CHECK(std::size_t(table[k].shape.dims[d]) == npz[k].array.shape[std::size_t(d)]);
        REQUIRE(std::size_t(table[k].shape.numel()) * 4 == npz[k].array.data.size());
        CHECK(std::memcmp(table[k].data, npz[k].array.data.data(), npz[k].array.data.size()) == 0);
    }
}

TEST_CASE(
    "LeNet bound to the constant table at compile time runs on the embedded kernels like the CPU executor") {
    using LeNet = kata::network<kata::models::lenet<1>>;
    static kata::embedded::executor<LeNet, table> run;  // static: the arena is part of the object
    run.execute(kata_lenet::x);
    const auto fx = kata::test::load_fixture("embedded/lenet.npz");
    kata::parameter_store store;
    for (const auto& [name, a] : fx.arrays)
        if (name != "x" && name != "y") kata::test::set_param(store, name, a);
    const auto cpu = kata::test::run_cpu<LeNet>({fx["x"]}, store);
    const xt::xarray<float> y =
        xt::adapt(run.output_data<0>(), 10, xt::no_ownership(), std::vector<std::size_t>{1, 10});
    kata::test::check_close(y, cpu[0], 1e-5, 1e-6);
    kata::test::check_close(y, fx["y"], 1e-5, 1e-6);  // PyTorch float64
}

TEST_CASE("header text: exact float literals, integer types, identifiers, rank 0 and empty arrays") {
    const float denorm = std::numeric_limits<float>::denorm_min();
    const std::vector<float> f = {-0.0f,
                                  1.0f,
                                  0.1f,
                                  denorm,
                                  std::numeric_limits<float>::max(),
                                  -std::numeric_limits<float>::infinity(),
                                  std::numeric_limits<float>::quiet_NaN(),
                                  1e20f};
    const std::vector<std::int32_t> i32 = {std::numeric_limits<std::int32_t>::min(), -1, 7};
    const std::vector<std::int8_t> i8 = {-128, 127};
    const std::vector<std::uint8_t> u8 = {0, 255};
    const std::vector<float> scalar = {2.5f}, none;
    const std::vector<host::weights_entry> entries = {
        entry("layer 1/W", npy_dtype::f4, {2, 4}, f), entry("7up", npy_dtype::i4, {3}, i32),
        entry("layer_1/W", npy_dtype::i1, {2}, i8),   entry("q", npy_dtype::u1, {1, 2}, u8),
        entry("s", npy_dtype::f4, {}, scalar),        entry("e", npy_dtype::f4, {0, 3}, none)};
    const std::string text =
        host::make_weights_header(entries, {.namespace_name = "a::b", .table_name = "t"});
    CHECK(contains(text, "namespace a::b {"));
    CHECK(contains(text,
                   "inline constexpr float layer_1_W[8] = {\n    -0.0f, 1.0f, 0.1f, 1e-45f, 3.4028235e+38f, "
                   "-__builtin_inff(), __builtin_nanf(\"\"), 1e+20f};"));
    CHECK(contains(text, "inline constexpr std::int32_t p7up[3] = {\n    (-2147483647 - 1), -1, 7};"));
    CHECK(contains(text, "inline constexpr std::int8_t layer_1_W_2[2] = {\n    -128, 127};"));
    CHECK(contains(text, "inline constexpr std::uint8_t q[2] = {\n    0, 255};"));
    CHECK(contains(text, "inline constexpr float s[1] = {\n    2.5f};"));
    CHECK(contains(text, "{\"layer 1/W\", layer_1_W, kata::shape_t{2, 4}},"));
    CHECK(contains(text, "{\"7up\", p7up, kata::shape_t{3}},"));
    CHECK(contains(text, "{\"s\", s, kata::shape_t{}},"));
    CHECK(contains(text, "kata::exec::constant_parameter::unsized(\"e\", static_cast<const float*>(nullptr), "
                         "kata::shape_t{0, 3}),"));
    CHECK_FALSE(contains(text, " \n"));  // no trailing blanks
}

TEST_CASE("refused inputs name the array") {
    const std::vector<double> d = {1.0};
    const std::vector<float> f = {1.0f, 2.0f};
    auto message = [](const std::vector<host::weights_entry>& e) {
        try {
            host::make_weights_header(e, {});
        } catch (const host::weights_header_error& err) {
            return std::string(err.what());
        }
        return std::string("no error");
    };
    CHECK(contains(message({entry("conv/W", npy_dtype::f8, {1}, d)}), "array 'conv/W' is float64"));
    CHECK(
        contains(message({entry("big", npy_dtype::f4, {1, 1, 1, 1, 1, 1, 1, 1, 2}, f)}), "'big' has rank 9"));
    CHECK(contains(message({entry("short", npy_dtype::f4, {3}, f)}),
                   "'short' has 8 bytes of data for shape (3,)"));
}

TEST_CASE("writing: atomic, an identical file is left untouched, parameter stores too") {
    const fs::path dir =
        fs::temp_directory_path() / ("kata_weights_header_test_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const fs::path out = dir / "w.hpp";
    kata::parameter_store store;
    xt::xarray<float> w = {{1.5f, -2.0f}, {0.25f, 3.0f}};
    kata::test::set_param(store, "fc/W", w);
    CHECK(host::write_weights_header(out, store, {.namespace_name = "w"}));
    CHECK_FALSE(host::write_weights_header(out, store, {.namespace_name = "w"}));  // same content: untouched
    const std::vector<std::byte> b = kata::io::read_file_bytes(out);
    const std::string text(reinterpret_cast<const char*>(b.data()), b.size());
    CHECK(contains(text, "inline constexpr float fc_W[4] = {\n    1.5f, -2.0f, 0.25f, 3.0f};"));
    CHECK(contains(text, "{\"fc/W\", fc_W, kata::shape_t{2, 2}},"));
    std::size_t files = 0;
    for (const auto& e : fs::directory_iterator(dir)) files += e.is_regular_file();
    CHECK(files == 1);  // no temporary left behind
    fs::remove_all(dir);
}
