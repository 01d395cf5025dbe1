// tests/data/data.cpp: kata::data (DataIterator, its sources, RandomState, the IDX / Fashion-MNIST reader)
// and kata::monitor. One TU on purpose (CI time): none of these headers include the graph machinery.
//
// References: numpy's RandomState permutations and the first Fashion-MNIST images/labels as decoded by
// Python's gzip module (tests/fixtures/data/*.npz, tools/fixtures/make_data_fixtures.py); closed forms
// (batch contents of an unshuffled iterator, the 6000/1000-per-class label histogram of Fashion-MNIST).
#include <doctest/doctest.h>

#include "../support/allocation_counter.hpp"

#include <kata/detail/xtensor_fix.hpp>
#include <kata/data.hpp>
#include <kata/io/file.hpp>
#include <kata/io/npz.hpp>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <xtensor/xarray.hpp>
#include <xtensor/xreducer.hpp>

#include <unistd.h>

namespace fs = std::filesystem;
using namespace kata::data;

namespace {

fs::path fixture_path(const std::string& rel) { return fs::path(KATA_FIXTURE_DIR) / rel; }

/// The arrays of an .npz fixture as int64 values (int64 and uint8 members).
std::map<std::string, std::vector<std::int64_t>> read_int_npz(const std::string& rel) {
    static std::map<std::string, std::vector<std::byte>> keep;  // read_npz returns views
    auto& bytes = keep[rel] = kata::io::read_file_bytes(fixture_path(rel));
    std::map<std::string, std::vector<std::int64_t>> out;
    for (const auto& e : kata::io::read_npz(bytes, rel)) {
        std::vector<std::int64_t> v(e.array.element_count());
        for (std::size_t i = 0; i < v.size(); ++i) {
            if (e.array.dtype == kata::io::npy_dtype::i8) {
                std::memcpy(&v[i], e.array.data.data() + 8 * i, 8);
            } else {
                REQUIRE(e.array.dtype == kata::io::npy_dtype::u1);
                v[i] = std::to_integer<std::int64_t>(e.array.data[i]);
            }
        }
        out[e.name] = std::move(v);
    }
    return out;
}

/// x[i] = {i + 0.5, -i} (2 floats), y[i] = 100 + i: every example identifies itself.
DataIterator<float, std::int32_t> counting_iterator(std::size_t n, std::size_t batch, bool shuffle,
                                                    std::uint32_t seed = 313) {
    xt::xarray<float> x = xt::zeros<float>({n, std::size_t{2}});
    xt::xarray<std::int32_t> y = xt::zeros<std::int32_t>({n});
    for (std::size_t i = 0; i < n; ++i) {
        x(i, 0) = static_cast<float>(i) + 0.5f;
        x(i, 1) = -static_cast<float>(i);
        y(i) = 100 + static_cast<std::int32_t>(i);
    }
    return data_iterator_memory({"x", "y"}, std::tuple{x, y}, batch, shuffle, RandomState(seed));
}

/// The source indices of the examples of a batch of counting_iterator.
std::vector<std::size_t> indices_of(const Batch<float, std::int32_t>& b) {
    std::vector<std::size_t> out;
    const auto& [x, y] = b;
    for (std::size_t k = 0; k < y.size(); ++k) {
        const std::size_t i = static_cast<std::size_t>(y(k) - 100);
        CHECK(x(k, 0) == static_cast<float>(i) + 0.5f);  // the variables stay paired
        CHECK(x(k, 1) == -static_cast<float>(i));
        out.push_back(i);
    }
    return out;
}

}  // namespace

TEST_CASE("RandomState.permutation equals numpy.random.RandomState(seed).permutation") {
    auto fx = read_int_npz("data/permutations.npz");
    auto as_size = [](const std::vector<std::int64_t>& v) {
        return std::vector<std::size_t>(v.begin(), v.end());
    };
    RandomState r(313);
    for (int e = 0; e < 3; ++e) CHECK(r.permutation(10) == as_size(fx["perm_313_10_e" + std::to_string(e)]));
    CHECK(RandomState(7).permutation(1000) == as_size(fx["perm_7_1000"]));
    const auto big = RandomState(5).permutation(70000);
    CHECK(std::vector<std::size_t>(big.begin(), big.begin() + 64) == as_size(fx["perm_5_70000_head"]));
    CHECK(std::vector<std::size_t>(big.end() - 64, big.end()) == as_size(fx["perm_5_70000_tail"]));
}

TEST_CASE(
    "DataIterator without shuffle: batches in order, the last partial batch completed from the next epoch") {
    auto it = counting_iterator(10, 4, false);
    CHECK(it.size() == 10);
    CHECK(it.batch_size() == 4);
    CHECK(it.variables() == std::vector<std::string>{"x", "y"});
    CHECK(it.epoch() == 0);
    CHECK(it.position() == 0);
    auto [x, y] = it.next();
    CHECK(x.shape() == std::vector<std::size_t>{4, 2});
    CHECK(y.shape() == std::vector<std::size_t>{4});
    CHECK(y == xt::xarray<std::int32_t>{100, 101, 102, 103});
    CHECK(it.epoch() == 0);
    CHECK(it.position() == 4);
    CHECK(indices_of(it.next()) == std::vector<std::size_t>{4, 5, 6, 7});
    CHECK(indices_of(it.next()) == std::vector<std::size_t>{8, 9, 0, 1});
    CHECK(it.epoch() == 1);
    CHECK(it.position() == 2);
    CHECK(indices_of(it.next()) == std::vector<std::size_t>{2, 3, 4, 5});
}

TEST_CASE("DataIterator: a batch that ends an epoch already reports the next epoch (nnabla's rule)") {
    auto it = counting_iterator(10, 5, false);
    std::vector<int> ends, begins;
    it.register_epoch_end_callback([&](int e) { ends.push_back(e); });
    it.register_epoch_begin_callback([&](int e) { begins.push_back(e); });
    it.next();
    CHECK(it.epoch() == 0);
    CHECK(it.position() == 5);
    it.next();
    CHECK(it.epoch() == 1);
    CHECK(it.position() == 0);
    CHECK(ends == std::vector<int>{0});
    CHECK(begins == std::vector<int>{1});
    // batch larger than the data set: wraps several times within one batch
    auto big = counting_iterator(3, 7, false);
    CHECK(indices_of(big.next()) == std::vector<std::size_t>{0, 1, 2, 0, 1, 2, 0});
    CHECK(big.epoch() == 2);
    CHECK(big.position() == 1);
}

TEST_CASE(
    "DataIterator with shuffle: epoch e uses numpy's (e+1)-th permutation; same seed, same batches; reset") {
    auto fx = read_int_npz("data/permutations.npz");
    std::vector<std::size_t> expected;  // three epochs of 10 examples, seed 313
    for (int e = 0; e < 3; ++e)
        for (auto v : fx["perm_313_10_e" + std::to_string(e)])
            expected.push_back(static_cast<std::size_t>(v));
    auto it = counting_iterator(10, 3, true, 313);
    std::vector<std::size_t> seen;
    for (int b = 0; b < 10; ++b) {  // 30 examples = 3 epochs exactly
        const auto idx = indices_of(it.next());
        seen.insert(seen.end(), idx.begin(), idx.end());
    }
    CHECK(seen == expected);
    CHECK(it.epoch() == 3);

    it.reset();
    CHECK(it.epoch() == 0);
    CHECK(it.position() == 0);
    CHECK(indices_of(it.next()) == std::vector<std::size_t>(expected.begin(), expected.begin() + 3));

    auto other = counting_iterator(10, 3, true, 313);
    auto third = counting_iterator(10, 3, true, 314);
    CHECK(indices_of(other.next()) == std::vector<std::size_t>(expected.begin(), expected.begin() + 3));
    bool differs = false;
    for (int b = 0; b < 4; ++b) differs |= indices_of(third.next()) != indices_of(other.next());
    CHECK(differs);
}

TEST_CASE("Batch: structured bindings, get<I>, named access with a type check") {
    auto it = counting_iterator(5, 2, false);
    const auto& b = it.next();
    CHECK(std::tuple_size_v<std::remove_cvref_t<decltype(b)>> == 2);
    CHECK(&get<0>(b) == &b.variable<float>("x"));
    CHECK(&b.get<1>() == &b.variable<std::int32_t>("y"));
    CHECK(b.index_of("y") == 1);
    CHECK_THROWS_WITH_AS(b.variable<float>("label"),
                         doctest::Contains("no variable 'label' (variables: x, y)"), std::out_of_range);
    CHECK_THROWS_AS(b.variable<float>("y"), std::invalid_argument);
}

TEST_CASE("data_iterator_simple: nnabla's load_func source, variables x0, x1, shape checks") {
    auto load = [](std::size_t i) {
        xt::xarray<float> img = xt::zeros<float>({std::size_t{1}, std::size_t{2}, std::size_t{3}});
        img.fill(static_cast<float>(i));
        xt::xarray<std::int32_t> label = {static_cast<std::int32_t>(i % 3)};
        return std::tuple{img, label};
    };
    auto it = data_iterator_simple(load, 7, 4, true, RandomState(1));
    static_assert(std::is_same_v<decltype(it), DataIterator<float, std::int32_t>>);
    CHECK(it.variables() == std::vector<std::string>{"x0", "x1"});
    auto [x, t] = it.next();
    CHECK(x.shape() == std::vector<std::size_t>{4, 1, 2, 3});
    CHECK(t.shape() == std::vector<std::size_t>{4, 1});
    const auto order = RandomState(1).permutation(7);
    for (std::size_t k = 0; k < 4; ++k) {
        CHECK(x(k, 0, 1, 2) == static_cast<float>(order[k]));
        CHECK(t(k, 0) == static_cast<std::int32_t>(order[k] % 3));
    }

    auto bad = [](std::size_t i) {
        xt::xarray<float> v = xt::zeros<float>({i == 3 ? std::size_t{2} : std::size_t{1}});
        return std::tuple{v};
    };
    auto it2 = data_iterator_simple(bad, 5, 5);
    CHECK_THROWS_WITH_AS(
        it2.next(), doctest::Contains("load_func(3) returned x0 of shape (2,), load_func(0) returned (1,)"),
        std::runtime_error);
    CHECK_THROWS_AS(data_iterator_simple(load, 0, 4), std::invalid_argument);
    CHECK_THROWS_AS(data_iterator_simple(load, 7, 0), std::invalid_argument);
}

TEST_CASE("MemoryDataSource: mismatched example counts name the variables") {
    xt::xarray<float> x = xt::zeros<float>({std::size_t{4}, std::size_t{3}});
    xt::xarray<std::int32_t> y = xt::zeros<std::int32_t>({std::size_t{5}});
    CHECK_THROWS_WITH_AS(data_iterator_memory({"x", "y"}, std::tuple{x, y}, 2),
                         doctest::Contains("variable 'y' has 5 examples, 'x' has 4"), std::invalid_argument);
}

TEST_CASE("DataIterator::next allocates nothing in steady state (memory source, shuffle, epoch wraps)") {
    auto it = counting_iterator(50, 8, true);
    it.next();
    const auto before = counts::now();
    for (int b = 0; b < 40; ++b) it.next();  // 320 examples: six reshuffles
    const auto after = counts::now();
    CHECK_MESSAGE(after.total() == before.total(), describe(before, after));
}

// --- IDX, gzip, Fashion-MNIST ------------------------------------------------------------------------

namespace {

struct temp_dir {
    fs::path path;
    explicit temp_dir(const std::string& tag) {
        path = fs::temp_directory_path() / ("kata_data_test_" + tag + "_" + std::to_string(::getpid()));
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

std::vector<std::uint8_t> idx_bytes(std::vector<std::uint32_t> dims, std::size_t data_bytes,
                                    std::uint8_t fill = 3) {
    std::vector<std::uint8_t> b{0, 0, 0x08, static_cast<std::uint8_t>(dims.size())};
    for (auto d : dims)
        for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::uint8_t>(d >> s));
    for (std::size_t i = 0; i < data_bytes; ++i) b.push_back(static_cast<std::uint8_t>((i * 13 + fill) % 10));
    return b;
}

void write_bytes(const fs::path& p, const std::vector<std::uint8_t>& b) {
    kata::io::atomic_write_file(p, std::as_bytes(std::span<const std::uint8_t>(b)));
}

doctest::Contains contains(const std::string& s) { return doctest::Contains(doctest::String(s.c_str())); }

std::vector<std::uint8_t> file_bytes(const fs::path& p) {
    const auto raw = kata::io::read_file_bytes(p);
    std::vector<std::uint8_t> b(raw.size());
    std::memcpy(b.data(), raw.data(), raw.size());
    return b;
}

}  // namespace

TEST_CASE("gunzip: fixed-Huffman and stored deflate blocks (Python's gzip), CRC and truncation checks") {
    std::vector<std::uint8_t> expected = idx_bytes({300}, 0);
    for (int i = 0; i < 300; ++i) expected.push_back(static_cast<std::uint8_t>((i * 7) % 10));
    for (const char* f : {"data/labels_l9.idx1.gz", "data/labels_l0.idx1.gz"}) {
        CAPTURE(f);
        const auto gz = file_bytes(fixture_path(f));
        CHECK(gunzip(gz, f) == expected);
        const idx_array a = read_idx(fixture_path(f));
        CHECK(a.shape == std::vector<std::size_t>{300});
        CHECK(a.data == std::vector<std::uint8_t>(expected.begin() + 8, expected.end()));

        auto cut = gz;
        cut.resize(cut.size() - 12);
        CHECK_THROWS_WITH_AS(gunzip(cut, "cut.gz"), doctest::Contains("cut.gz: truncated gzip data"),
                             kata::io_error);
        auto flipped = gz;
        flipped[flipped.size() - 8] ^= 0x01;  // the stored CRC
        CHECK_THROWS_WITH_AS(gunzip(flipped, "crc.gz"), doctest::Contains("crc.gz: gzip CRC-32 mismatch"),
                             kata::io_error);
    }
}

TEST_CASE("read_idx and load_fashion_mnist: clear errors naming the file") {
    temp_dir dir("idx");
    const fs::path images = dir.path / "train-images-idx3-ubyte",
                   labels = dir.path / "train-labels-idx1-ubyte";

    CHECK_THROWS_WITH_AS(read_idx(dir.path / "absent.idx"), doctest::Contains("absent.idx: no such file"),
                         kata::io_error);
    CHECK_THROWS_WITH_AS(load_fashion_mnist(true, dir.path),
                         contains((dir.path / "train-images-idx3-ubyte.gz").string() + ": no such file"),
                         kata::io_error);

    write_bytes(images, idx_bytes({3, 28, 28}, 3 * 784 - 100));
    CHECK_THROWS_WITH_AS(read_idx(images),
                         contains(images.string() + ": truncated IDX file: the dimensions need 2352 bytes "
                                                    "of data, the file has 2252"),
                         kata::io_error);

    auto bad_magic = idx_bytes({3, 28, 28}, 3 * 784);
    bad_magic[0] = 0x1f;
    write_bytes(images, bad_magic);
    CHECK_THROWS_WITH_AS(read_idx(images),
                         contains(images.string() + ": not an IDX file (wrong magic number)"),
                         kata::io_error);
    auto bad_type = idx_bytes({3, 28, 28}, 3 * 784);
    bad_type[2] = 0x0d;  // float
    write_bytes(images, bad_type);
    CHECK_THROWS_WITH_AS(read_idx(images), doctest::Contains("IDX element type 0x0d is not supported"),
                         kata::io_error);
    write_bytes(images, idx_bytes({3, 28, 28}, 3 * 784 + 5));
    CHECK_THROWS_WITH_AS(read_idx(images), doctest::Contains("5 trailing bytes"), kata::io_error);

    write_bytes(images, idx_bytes({3, 28, 28}, 3 * 784));
    write_bytes(labels, idx_bytes({2}, 2));
    CHECK_THROWS_WITH_AS(load_fashion_mnist(true, dir.path),
                         contains(images.string() + " has 3 images but " + labels.string() + " has 2 labels"),
                         kata::io_error);
    write_bytes(images, idx_bytes({3, 28, 27}, 3 * 28 * 27));
    CHECK_THROWS_WITH_AS(load_fashion_mnist(true, dir.path),
                         doctest::Contains("expected images of shape (N, 28, 28), found (3, 28, 27)"),
                         kata::io_error);
    write_bytes(images, idx_bytes({3, 28, 28}, 3 * 784));
    auto bad_label = idx_bytes({3}, 3);
    bad_label.back() = 10;
    write_bytes(labels, bad_label);
    CHECK_THROWS_WITH_AS(load_fashion_mnist(true, dir.path),
                         contains(labels.string() + ": label 10 at index 2 is not a class 0..9"),
                         kata::io_error);

    // A valid plain (not gzip-compressed) pair works through the iterator.
    write_bytes(labels, idx_bytes({3}, 3));
    auto it = data_iterator_fashion_mnist(2, true, RandomState{}, false, dir.path);
    CHECK(it.size() == 3);
    CHECK(it.variables() == std::vector<std::string>{"x", "y"});
    auto [x, y] = it.next();
    CHECK(x.shape() == std::vector<std::size_t>{2, 1, 28, 28});
    CHECK(y.shape() == std::vector<std::size_t>{2, 1});
    const auto img = idx_bytes({3, 28, 28}, 3 * 784);
    CHECK(x(1, 0, 2, 5) == doctest::Approx(img[16 + 784 + 2 * 28 + 5] / 255.0f));
    CHECK(y(1, 0) == idx_bytes({3}, 3)[8 + 1]);
}

TEST_CASE("Fashion-MNIST from Debian's dataset-fashion-mnist: first images/labels as numpy reads them, "
          "6000/1000 per class") {
    if (!fs::exists(fashion_mnist_default_dir() / "t10k-images-idx3-ubyte.gz")) {
        MESSAGE("dataset-fashion-mnist not installed (tools/deps.sh installs it): skipped");
        return;
    }
    auto fx = read_int_npz("data/fashion_mnist_head.npz");
    for (bool train : {true, false}) {
        CAPTURE(train);
        const fashion_mnist_set s = load_fashion_mnist(train);
        const std::size_t n = train ? 60000 : 10000;
        CHECK(s.images.shape == std::vector<std::size_t>{n, 28, 28});
        std::array<std::size_t, 10> histogram{};
        for (auto l : s.labels.data) ++histogram[l];
        for (auto h : histogram) CHECK(h == n / 10);
        const auto& head = fx[train ? "train_labels_0_31" : "test_labels_0_31"];
        CHECK(std::vector<std::int64_t>(s.labels.data.begin(), s.labels.data.begin() + 32) == head);
        if (train) {
            const auto& img = fx["train_images_0_2"];
            CHECK(std::vector<std::int64_t>(s.images.data.begin(), s.images.data.begin() + 3 * 784) == img);
        } else {
            const auto& img = fx["test_images_9999"];
            CHECK(std::vector<std::int64_t>(s.images.data.end() - 784, s.images.data.end()) == img);
        }
    }
    auto it = data_iterator_fashion_mnist(5, false, RandomState{}, false);
    const auto& [x, y] = it.next();
    const auto& labels = fx["test_labels_0_31"];
    for (std::size_t k = 0; k < 5; ++k) CHECK(y(k, 0) == labels[k]);
    CHECK(xt::amax(x)() <= 1.0f);
}
