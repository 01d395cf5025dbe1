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
using LeNetInt8 = kata::network<kata::models::lenet_int8<1>>;

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
        if (e.name.find('/') != std::string::npos)
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
    for (int l = 0; l < 5; ++l) {
        const std::string name = kata::models::lenet_int8_layers[l];
        INFO("layer " << name);
        CHECK(q.tap_max[std::size_t(l)] == doctest::Approx(tap_max[l]).epsilon(1e-5));
        const auto& L = q.layers[std::size_t(l)];
        const std::size_t O = L.b.size();
        REQUIRE(ref[name + "/weight_scale"].element_count() == O);
        REQUIRE(ref[name + "/W"].element_count() == L.W.size());
        // Weight scales and codes depend on the weights alone: equal.
        CHECK(std::memcmp(L.weight_scale.data(), ref.data<float>(name + "/weight_scale"), O * 4) == 0);
        CHECK(std::memcmp(L.W.data(), ref.data<std::int8_t>(name + "/W"), L.W.size()) == 0);
        // Biases and multipliers follow the calibrated scales (float32 vs float64 activations).
        const std::int32_t* b = ref.data<std::int32_t>(name + "/b");
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
    const auto items = kata::models::lenet_int8_items(q);
    const std::vector<array_source::array> arrays = arrays_of(items);
    int8_executor qrun(array_source{&arrays});
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
                xq[j] = kata::embedded::host::quantize_input(x.data()[j], q.input_scale);
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
