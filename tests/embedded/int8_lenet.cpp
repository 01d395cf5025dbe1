// int8 networks made by kata::Int8QuantizationModifier (kata/converters/int8_quantization.hpp; QConvolution /
// QAffine, kata/ops/quantized.hpp) with values from kata/embedded/host/quantize.hpp, on the embedded kernels.
// The int8 LeNet of the embedded back end (issue #14 point 3) against two references:
//  * the independent numpy reference tools/fixtures/make_int8_fixtures.py (tests/fixtures/embedded/
//    lenet_int8_ref.npz): the int8 executor run on numpy's quantized parameters and inputs gives numpy's int8
//    logits on all 200 fixture images, code for code (integer arithmetic: no tolerance); kata's quantization
//    step (examples/models/lenet_quantize.hpp, kata/embedded/host/quantize.hpp) gives numpy's weight scales and
//    int8 weights exactly (they depend on the weights only) and its activation ranges, biases and
//    requantization multipliers to calibration rounding (float32 CPU executor vs float64 numpy);
//  * the float network (kata's CPU executor on the same weights): accuracy on the fixture's 200 test images and,
//    when Debian's dataset-fashion-mnist is installed, on the whole 10 000-image test set, within 1 percentage
//    point; dequantized logits within the bound the firmware states (0.5 + 0.05 |y|).
// A second network (tests/fixtures/embedded/int8_net2_ref.npz, same script: padding, stride 2, groups, odd
// channel counts, average pooling, a calibrated input scale) against numpy in the same two ways (codes equal
// on numpy's parameters; kata's parameters equal / within calibration rounding), and its converted structure.
#include <doctest/doctest.h>

#include <kata/embedded/backend.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "../../examples/models/lenet_int8.hpp"
#include "../../examples/models/lenet_quantize.hpp"
#include "../support/fixtures.hpp"

namespace {

using LeNet = kata::network<kata::models::lenet<1>>;
using LeNetInt8 = kata::models::lenet_int8<1>;

// A parameter source over .npz arrays of any dtype kata has (kata::store_parameters is float-only).
struct array_source {
    struct array {
        std::string name;
        kata::dtype type;
        kata::shape_t shape;
        const void* data;
    };
    const std::vector<array>* arrays;
    using handle = const array*;
    static constexpr std::string_view description = "the .npz arrays";
    handle find(std::string_view name) const {
        for (const array& a : *arrays)
            if (a.name == name) return &a;
        return nullptr;
    }
    static kata::exec::parameter_view view(handle h) {
        return {const_cast<void*>(h->data), h->type, h->shape, h->shape.rank};
    }
    static void* data(handle h) { return const_cast<void*>(h->data); }
};

kata::dtype dtype_of(kata::io::npy_dtype t) {
    switch (t) {
    case kata::io::npy_dtype::i1: return kata::dtype::i8;
    case kata::io::npy_dtype::i4: return kata::dtype::i32;
    case kata::io::npy_dtype::u1: return kata::dtype::u8;
    default: return kata::dtype::f32;
    }
}

std::vector<array_source::array> arrays_of(std::span<const kata::io::npz_item> items) {
    std::vector<array_source::array> v;
    for (const auto& i : items) {
        kata::shape_t s;
        for (std::size_t d : i.shape) s.push_back(std::int64_t(d));
        v.push_back({i.name, dtype_of(i.dtype), s, i.data.data()});
    }
    return v;
}

struct npz_file {
    std::vector<std::byte> bytes;
    std::vector<kata::io::npz_entry> entries;
    explicit npz_file(const std::string& relative) {
        const auto path = kata::test::fixture_dir() / relative;
        bytes = kata::io::read_file_bytes(path);
        entries = kata::io::read_npz(bytes, path.string());
    }
    const kata::io::npy_view& operator[](std::string_view name) const {
        for (const auto& e : entries)
            if (e.name == name) return e.array;
        throw std::out_of_range("no array '" + std::string(name) + "'");
    }
    template <class T>
    const T* data(std::string_view name) const {
        return reinterpret_cast<const T*>((*this)[name].data.data());
    }
    std::vector<kata::io::npz_item> items() const {
        std::vector<kata::io::npz_item> v;
        for (const auto& e : entries) v.push_back({e.name, e.array.dtype, e.array.shape, e.array.data});
        return v;
    }
};

using int8_executor =
    kata::exec::executor<LeNetInt8, kata::embedded::backend, kata::exec::heap_arena, array_source>;

kata::parameter_store float_store(const npz_file& f) {
    kata::parameter_store store;
    for (const auto& e : f.entries)
        if (e.name.find('/') != std::string::npos && e.array.dtype == kata::io::npy_dtype::f4)
            kata::test::set_param(store, e.name, kata::io::to_xarray<float>(e.array, e.name));
    return store;
}

xt::xarray<float> images(const kata::io::npy_view& v) {
    xt::xarray<float> x = xt::zeros<float>(v.shape);
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = float(std::uint8_t(v.data[i])) / 255.0f;
    return x;
}

int argmax(const float* y) {
    int best = 0;
    for (int k = 1; k < 10; ++k)
        if (y[k] > y[best]) best = k;
    return best;
}
int argmax(const std::int8_t* y) {
    int best = 0;
    for (int k = 1; k < 10; ++k)
        if (y[k] > y[best]) best = k;
    return best;
}

// Reads a gzip-compressed IDX file of dataset-fashion-mnist through the system's gzip (kata links no zlib;
// this host-only test is the one reader of the data set).
std::vector<std::uint8_t> read_idx_gz(const std::string& path) {
    std::vector<std::uint8_t> out;
    FILE* p = popen(("gzip -dc '" + path + "'").c_str(), "r");
    if (!p) return out;
    std::uint8_t buf[65536];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.insert(out.end(), buf, buf + n);
    pclose(p);
    return out;
}

// The second network of tools/fixtures/make_int8_fixtures.py (its comment gives the shapes): padding,
// stride 2, groups, odd channel counts, signed inputs, a layer measured without a ReLU, int8 average
// pooling with padding (including_pad = false).
template <std::int64_t B>
constexpr kata::var net2(kata::builder& g) {
    using namespace kata;
    Conv2d ca(3, 5, {3, 3}, {.name = "ca", .pad = {1, 1}, .stride = {2, 2}});
    BatchNorm2d bna(5, {.name = "bna"});
    Conv2d cb(5, 10, {3, 3}, {.name = "cb", .pad = {1, 1}, .group = 5});
    Conv2d cc(10, 7, {2, 2}, {.name = "cc"});
    Linear fc(63, 3, {.name = "fc"});
    auto x = g.input("x", {B, 3, 13, 11});
    auto h = F::relu(bna(ca(x), true));
    h = F::max_pooling(F::relu(cb(h)), {2, 2});
    h = F::average_pooling(cc(h), {2, 2}, {.stride = {1, 1}, .pad = {1, 1}, .including_pad = false});
    return fc(h);
}
template <std::int64_t B>
struct net2_types {
    using int8 = kata::convert<kata::network<net2<B>>, kata::Int8QuantizationModifier{}>;
    using calibration = kata::convert<kata::network<net2<B>>, kata::Int8CalibrationModifier{}>;
};

}  // namespace

TEST_CASE("int8 LeNet on the embedded kernels equals the numpy reference code for code (200 images)") {
    const npz_file ref("embedded/lenet_int8_ref.npz");
    const auto items = ref.items();
    const std::vector<array_source::array> arrays = arrays_of(items);
    int8_executor run(array_source{&arrays});
    const std::int8_t* xq = ref.data<std::int8_t>("test_xq");
    const std::int8_t* expected = ref.data<std::int8_t>("test_logits_q");
    REQUIRE(ref["test_xq"].shape == std::vector<std::size_t>{200, 1, 28, 28});
    int differing = 0, nonzero = 0;
    for (int i = 0; i < 200; ++i) {
        run.execute(xq + i * 784);
        const std::int8_t* y = run.output_data<0>();
        for (int k = 0; k < 10; ++k) {
            differing += y[k] != expected[i * 10 + k];
            nonzero += y[k] != 0;
        }
    }
    CHECK(differing == 0);
    CHECK(nonzero > 1000);  // the logits are not trivially 0
}

TEST_CASE("kata's quantization step agrees with the numpy reference") {
    const npz_file fx("embedded/lenet_fashion.npz");
    const npz_file ref("embedded/lenet_int8_ref.npz");
    kata::parameter_store store = float_store(fx);
    const kata::models::lenet_int8_parameters q = kata::models::quantize_lenet(store, images(fx["calib_x"]));
    const double* tap_max = ref.data<double>("tap_max");
    const char* layers[] = {"conv1", "conv2", "fc1", "fc2", "fc3"};
    REQUIRE(q.values.layers.size() == 5);
    for (std::size_t l = 0; l < 5; ++l) {
        const std::string name = layers[l];
        INFO("layer " << name);
        REQUIRE(q.values.layer_scopes[l] == name);
        CHECK(q.values.layer_max[l] == doctest::Approx(tap_max[l]).epsilon(1e-5));
        const auto& L = q.values.layers[l];
        const std::size_t O = L.b.size();
        REQUIRE(ref[name + "/weight_scale"].element_count() == O);
        REQUIRE(ref[name + "/W_q"].element_count() == L.W.size());
        // Weight scales and codes depend on the (BN-folded) weights alone: equal.
        CHECK(std::memcmp(L.weight_scale.data(), ref.data<float>(name + "/weight_scale"), O * 4) == 0);
        CHECK(std::memcmp(L.W.data(), ref.data<std::int8_t>(name + "/W_q"), L.W.size()) == 0);
        // Biases and multipliers follow the calibrated scales (float32 vs float64 activations).
        const std::int32_t* b = ref.data<std::int32_t>(name + "/b_q");
        const std::int32_t* rq = ref.data<std::int32_t>(name + "/requant");
        for (std::size_t o = 0; o < O; ++o) {
            CHECK(std::abs(double(L.b[o]) - double(b[o])) <= 1 + 1e-5 * std::abs(double(b[o])));
            const double mine = std::ldexp(double(L.requant[o]), -L.requant[O + o]);
            const double theirs = std::ldexp(double(rq[o]), -rq[O + o]);
            CHECK(mine == doctest::Approx(theirs).epsilon(1e-5));
        }
    }
}

TEST_CASE("int8 LeNet vs the float network: logits within the stated bound, accuracy within 1 point") {
    const npz_file fx("embedded/lenet_fashion.npz");
    kata::parameter_store store = float_store(fx);
    const kata::models::lenet_int8_parameters q = kata::models::quantize_lenet(store, images(fx["calib_x"]));
    kata::exec::executor<LeNetInt8, kata::embedded::backend, kata::exec::heap_arena,
                         kata::embedded::host::int8_source>
        qrun(kata::embedded::host::int8_source{&q.values});
    kata::cpu::executor<LeNet> frun(store);
    const double scale = q.output_scale();

    // worst: the largest |int8 - float| logit error relative to the bound; over: images with an error above it.
    auto evaluate = [&](const std::uint8_t* pixels, const std::uint8_t* labels, std::size_t n, double& worst,
                        int& over) {
        int correct_f = 0, correct_q = 0;
        xt::xarray<float> x = xt::zeros<float>({1, 1, 28, 28});
        std::int8_t xq[784];
        for (std::size_t i = 0; i < n; ++i) {
            for (int j = 0; j < 784; ++j) {
                x.data()[j] = float(pixels[i * 784 + std::size_t(j)]) / 255.0f;
                xq[j] = kata::embedded::host::quantize_input(x.data()[j], q.input_scale());
            }
            frun.execute(x);
            qrun.execute(xq);
            const float* yf = frun.output_data<0>();
            const std::int8_t* yq = qrun.output_data<0>();
            double image_worst = 0;
            for (int k = 0; k < 10; ++k)
                image_worst = std::max(image_worst, std::fabs(double(yq[k]) * scale - yf[k]) /
                                                        (0.5 + 0.05 * std::fabs(yf[k])));
            worst = std::max(worst, image_worst);
            over += image_worst > 1.0;
            correct_f += argmax(yf) == labels[i];
            correct_q += argmax(yq) == labels[i];
        }
        return std::pair{double(correct_f) / double(n), double(correct_q) / double(n)};
    };

    // The fixture's 200 test images (always available).
    std::vector<std::uint8_t> labels(200);
    const std::int32_t* l32 = fx.data<std::int32_t>("test_labels");
    for (int i = 0; i < 200; ++i) labels[std::size_t(i)] = std::uint8_t(l32[i]);
    double worst = 0;
    int over = 0;
    const auto [af, aq] = evaluate(reinterpret_cast<const std::uint8_t*>(fx["test_x"].data.data()),
                                   labels.data(), 200, worst, over);
    MESSAGE("200 fixture images: float accuracy " << af << ", int8 accuracy " << aq
                                                  << "; worst |int8 - float| logit / (0.5 + 0.05 |float|) "
                                                  << worst);
    CHECK(af > 0.8);
    CHECK(std::fabs(af - aq) <=
          0.02 + 1e-12);  // 200 images: 1 point = 2 images; the full set below is the 1-point test
    CHECK(worst <= 1.0);

    const std::string dir = "/usr/share/datasets/fashion-mnist/";
    if (!std::filesystem::exists(dir + "t10k-images-idx3-ubyte.gz")) {
        MESSAGE("dataset-fashion-mnist not installed: the 10 000-image accuracy check is skipped");
        return;
    }
    const std::vector<std::uint8_t> img = read_idx_gz(dir + "t10k-images-idx3-ubyte.gz");
    const std::vector<std::uint8_t> lab = read_idx_gz(dir + "t10k-labels-idx1-ubyte.gz");
    REQUIRE(img.size() == 16 + 10000u * 784u);
    REQUIRE(lab.size() == 8 + 10000u);
    double worst_full = 0;
    int over_full = 0;
    const auto [ff, fq] = evaluate(img.data() + 16, lab.data() + 8, 10000, worst_full, over_full);
    MESSAGE("10000 test images: float accuracy " << ff << ", int8 accuracy " << fq
                                                 << "; worst logit error / bound " << worst_full
                                                 << ", images above the bound " << over_full);
    CHECK(std::fabs(ff - fq) <= 0.01);
    // The logit bound is not a guarantee on unseen images (activations beyond the 64 calibration images'
    // range saturate): measured 34 of 10 000 above it; the claim checked is "at most 1 %".
    CHECK(over_full <= 100);
    const npz_file ref("embedded/lenet_int8_ref.npz");
    CHECK(ff == doctest::Approx(*ref.data<double>("full_float_accuracy")).epsilon(0.002));
    CHECK(fq == doctest::Approx(*ref.data<double>("full_int8_accuracy")).epsilon(0.002));
}

TEST_CASE("int8 second network (pad, stride 2, groups, odd channels, average pooling): converter, numpy "
          "reference") {
    using Int8 = net2_types<1>::int8;
    using Calib = net2_types<16>::calibration;
    // Structure: BN folded, three QConvolutions with the float layers' arguments, one QAffine, int8 everywhere.
    int qconv = 0, qaffine = 0, bn = 0;
    for (std::size_t i = 0; i < Int8::graph.size(); ++i) {
        const kata::node& n = Int8::graph.nodes[i];
        qconv += n.op == kata::op_kind::qconvolution;
        qaffine += n.op == kata::op_kind::qaffine;
        bn += n.op == kata::op_kind::batch_normalization;
        if (kata::is_function(n.op)) CHECK(n.type == kata::dtype::i8);
        if (n.op == kata::op_kind::qconvolution && n.name.view() == "ca") {
            CHECK(n.attr.pad[0] == 1);
            CHECK(n.attr.stride[0] == 2);
        }
        if (n.op == kata::op_kind::qconvolution && n.name.view() == "cb") CHECK(n.attr.group == 5);
    }
    CHECK(qconv == 3);
    CHECK(qaffine == 1);
    CHECK(bn == 0);
    CHECK(Calib::graph.outputs.size() == 5);  // 4 scale points + the logits

    const npz_file ref("embedded/int8_net2_ref.npz");
    constexpr std::size_t per_image = 3 * 13 * 11;
    // (a) the int8 executor on numpy's quantized parameters gives numpy's codes (integer arithmetic: equal).
    {
        const auto items = ref.items();
        const std::vector<array_source::array> arrays = arrays_of(items);
        kata::exec::executor<Int8, kata::embedded::backend, kata::exec::heap_arena, array_source> run(
            array_source{&arrays});
        const std::int8_t* xq = ref.data<std::int8_t>("test_xq");
        const std::int8_t* expected = ref.data<std::int8_t>("test_logits_q");
        REQUIRE(ref["test_xq"].shape == std::vector<std::size_t>{12, 3, 13, 11});
        int differing = 0, nonzero = 0;
        for (std::size_t i = 0; i < 12; ++i) {
            run.execute(xq + i * per_image);
            const std::int8_t* y = run.output_data<0>();
            for (std::size_t k = 0; k < 3; ++k) {
                differing += y[k] != expected[i * 3 + k];
                nonzero += y[k] != 0;
            }
        }
        CHECK(differing == 0);
        CHECK(nonzero > 24);
    }
    // (b) kata's quantization (converter + calibration on the CPU executor + value side) vs numpy's.
    kata::parameter_store store = float_store(ref);
    kata::apply_conversion<Calib>(store);
    const kata::io::npy_view& cx = ref["calib_x"];
    xt::xarray<float> calib = kata::io::to_xarray<float>(cx, "calib_x");
    const kata::embedded::host::calibration cal = kata::embedded::host::calibrate<Calib>(store, calib);
    const kata::embedded::host::int8_values q = kata::embedded::host::quantize_int8<Int8, Calib>(store, cal);
    CHECK(q.input_scale == doctest::Approx(*ref.data<double>("input_scale")).epsilon(1e-12));
    CHECK(q.output_scales.at(0) == doctest::Approx(*ref.data<double>("output_scale")).epsilon(1e-5));
    const double* tap_max = ref.data<double>("tap_max");
    const char* layers[] = {"ca", "cb", "cc", "fc"};
    REQUIRE(q.layers.size() == 4);
    for (std::size_t l = 0; l < 4; ++l) {
        const std::string name = layers[l];
        INFO("layer " << name);
        REQUIRE(q.layer_scopes[l] == name);
        CHECK(q.layer_max[l] == doctest::Approx(tap_max[l]).epsilon(1e-5));
        const auto& L = q.layers[l];
        const std::size_t O = L.b.size();
        REQUIRE(ref[name + "/W_q"].element_count() == L.W.size());
        CHECK(std::memcmp(L.weight_scale.data(), ref.data<float>(name + "/weight_scale"), O * 4) == 0);
        CHECK(std::memcmp(L.W.data(), ref.data<std::int8_t>(name + "/W_q"), L.W.size()) == 0);
        const std::int32_t* b = ref.data<std::int32_t>(name + "/b_q");
        const std::int32_t* rq = ref.data<std::int32_t>(name + "/requant");
        for (std::size_t o = 0; o < O; ++o) {
            CHECK(std::abs(double(L.b[o]) - double(b[o])) <= 1 + 1e-5 * std::abs(double(b[o])));
            CHECK(std::ldexp(double(L.requant[o]), -L.requant[O + o]) ==
                  doctest::Approx(std::ldexp(double(rq[o]), -rq[O + o])).epsilon(1e-5));
        }
    }
}
