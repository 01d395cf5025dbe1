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
#include <kata/monitor.hpp>
#include <kata/io/file.hpp>
#include <kata/io/npz.hpp>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
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

TEST_CASE("DataIterator::seek resumes the sequence of batches (checkpoint resume)") {
    auto it = counting_iterator(23, 5, true, 99);
    for (int b = 0; b < 11; ++b) it.next();  // 55 examples: epoch 2, position 9
    CHECK(it.epoch() == 2);
    CHECK(it.position() == 9);
    auto resumed = counting_iterator(23, 5, true, 99);
    resumed.seek(it.epoch(), it.position());
    for (int b = 0; b < 12; ++b) CHECK(indices_of(resumed.next()) == indices_of(it.next()));
    CHECK(resumed.epoch() == it.epoch());
    CHECK_THROWS_AS(resumed.seek(0, 23), std::out_of_range);
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

// --- monitors ----------------------------------------------------------------------------------------

namespace {

std::string read_text(const fs::path& p) {
    std::ifstream f(p);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

struct log_capture {
    std::ostringstream text;
    std::ostream* previous;
    log_capture() : previous(kata::monitor::detail::log_stream()) {
        kata::monitor::detail::log_stream() = &text;
    }
    ~log_capture() { kata::monitor::detail::log_stream() = previous; }
};

/// The pixels of a PNG written by kata::monitor::encode_png, checked chunk by chunk: signature, CRC-32 of
/// every chunk, IHDR, the zlib header and Adler-32, the rows' filter bytes; the deflate stream is decoded
/// by kata::data's inflater (its stored-block path is checked against Python's gzip above).
std::vector<std::uint8_t> decode_png(const std::vector<std::uint8_t>& png, std::size_t& w, std::size_t& h,
                                     int& channels) {
    const std::uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    REQUIRE(png.size() > 8);
    REQUIRE(std::memcmp(png.data(), sig, 8) == 0);
    auto be32 = [&](std::size_t p) {
        return std::uint32_t{png[p]} << 24 | std::uint32_t{png[p + 1]} << 16 |
               std::uint32_t{png[p + 2]} << 8 | png[p + 3];
    };
    std::vector<std::uint8_t> idat;
    std::vector<std::string> types;
    for (std::size_t p = 8; p < png.size();) {
        const std::uint32_t len = be32(p);
        const std::string type(png.begin() + static_cast<std::ptrdiff_t>(p + 4),
                               png.begin() + static_cast<std::ptrdiff_t>(p + 8));
        types.push_back(type);
        const auto crc = kata::io::detail::crc32_update(
            0, std::as_bytes(std::span<const std::uint8_t>(png.data() + p + 4, len + 4)));
        CHECK(crc == be32(p + 8 + len));
        if (type == "IHDR") {
            w = be32(p + 8);
            h = be32(p + 12);
            CHECK(png[p + 16] == 8);
            channels = png[p + 17] == 0 ? 1 : png[p + 17] == 2 ? 3 : -1;
        }
        if (type == "IDAT")
            idat.insert(idat.end(), png.begin() + static_cast<std::ptrdiff_t>(p + 8),
                        png.begin() + static_cast<std::ptrdiff_t>(p + 8 + len));
        p += 12 + len;
    }
    CHECK(types == std::vector<std::string>{"IHDR", "IDAT", "IEND"});
    REQUIRE(idat.size() > 6);
    CHECK((idat[0] * 256 + idat[1]) % 31 == 0);
    CHECK((idat[0] & 0x0f) == 8);
    std::vector<std::uint8_t> raw;
    kata::data::detail::inflater inf(std::span<const std::uint8_t>(idat).subspan(2), "png");
    inf.run(raw);
    const std::size_t end = 2 + inf.consumed();
    REQUIRE(idat.size() == end + 4);
    const std::uint32_t adler = std::uint32_t{idat[end]} << 24 | std::uint32_t{idat[end + 1]} << 16 |
                                std::uint32_t{idat[end + 2]} << 8 | idat[end + 3];
    CHECK(adler == kata::monitor::detail::adler32(raw));
    const std::size_t row = w * static_cast<std::size_t>(channels);
    REQUIRE(raw.size() == (row + 1) * h);
    std::vector<std::uint8_t> pixels;
    for (std::size_t y = 0; y < h; ++y) {
        CHECK(raw[y * (row + 1)] == 0);
        pixels.insert(pixels.end(), raw.begin() + static_cast<std::ptrdiff_t>(y * (row + 1) + 1),
                      raw.begin() + static_cast<std::ptrdiff_t>((y + 1) * (row + 1)));
    }
    return pixels;
}

}  // namespace

TEST_CASE("MonitorSeries: nnabla's file name, flush rule, mean over the interval, {:g} values, truncation") {
    temp_dir dir("series");
    kata::monitor::Monitor monitor(dir.path / "a" / "b");  // created with parents
    CHECK(fs::is_directory(dir.path / "a" / "b"));
    const fs::path file = dir.path / "a" / "b" / "Training-loss.series.txt";
    { std::ofstream(file) << "old content\n"; }
    log_capture log;
    {
        kata::monitor::MonitorSeries loss("Training loss", monitor, 10);
        CHECK(loss.path() == file);
        CHECK(read_text(file).empty());  // truncated at construction, as nnabla's open(..., 'w')
        for (int i = 0; i < 25; ++i) loss.add(i, 0.5 * i);
        CHECK(read_text(file) == "9 2.25\n19 7.25\n");  // written line by line, not at destruction
    }
    CHECK(log.text.str() ==
          "[kata][INFO]: iter=9 {Training loss}=2.25\n[kata][INFO]: iter=19 {Training loss}=7.25\n");

    kata::monitor::MonitorSeries err("Valid error", monitor, 3, false);
    err.add(0, 1.0);
    err.add(1, 2.0);
    err.add(2, 1234567.0 + 2.0 * 1234567.0 - 3.0);  // flush at 2 (2 - (-1) >= 3): mean of three values
    err.add(7, 0.1);                                // 7 - 2 >= 3: flush alone
    const std::vector<float> v{1.0f, 2.0f, 4.0f, 5.0f};
    err.add(8, std::span<const float>(v));  // 8 - 7 < 3: buffered
    err.add(10, 0.0);                       // 10 - 7 >= 3: mean of 1, 2, 4, 5, 0
    CHECK(read_text(dir.path / "a" / "b" / "Valid-error.series.txt") == "2 1.23457e+06\n7 0.1\n10 2.4\n");

    kata::monitor::MonitorSeries no_file("no file", nullptr, 1, false);
    no_file.add(0, 1.0);
    CHECK(no_file.path().empty());
    CHECK_THROWS_AS(kata::monitor::MonitorSeries("a/b", monitor), std::invalid_argument);
}

TEST_CASE("MonitorTimeElapsed: nnabla's .timer.txt line, Python float repr") {
    using kata::monitor::detail::python_repr;
    CHECK(python_repr(0.1 + 0.2) == "0.30000000000000004");
    CHECK(python_repr(1e-5) == "1e-05");
    CHECK(python_repr(0.0001) == "0.0001");
    CHECK(python_repr(123.0) == "123.0");
    CHECK(python_repr(1e16) == "1e+16");
    CHECK(python_repr(1234567890123456.0) == "1234567890123456.0");
    CHECK(python_repr(-2.5e-300) == "-2.5e-300");
    CHECK(python_repr(0.0) == "0.0");

    temp_dir dir("timer");
    kata::monitor::Monitor monitor(dir.path);
    double t = 100.0;
    kata::monitor::MonitorTimeElapsed timer("Training time", monitor, 2, false, [&] { return t; });
    for (int i = 0; i < 6; ++i) {
        t += 0.25;
        timer.add(i);
    }
    // flushes at 1 (1 - (-1) >= 2), 3, 5; t at those calls: 100.5, 101.0, 101.5
    CHECK(read_text(dir.path / "Training-time.timer.txt") == "1 0.5 2 0.5\n3 0.5 2 1.0\n5 0.5 2 1.5\n");
}

TEST_CASE("encode_png: a valid PNG with stored deflate blocks (CRC-32, Adler-32 check values; > 64 KiB)") {
    const char* check = "123456789";  // the standard check values of CRC-32 and Adler-32
    CHECK(kata::io::detail::crc32_update(0, std::as_bytes(std::span<const char>(check, 9))) == 0xCBF43926u);
    const std::string wiki = "Wikipedia";
    CHECK(kata::monitor::detail::adler32(std::span<const std::uint8_t>(
              reinterpret_cast<const std::uint8_t*>(wiki.data()), wiki.size())) == 0x11E60398u);
    for (auto [w, h, c] :
         {std::tuple{3, 2, 1}, std::tuple{5, 4, 3}, std::tuple{300, 80, 3}}) {  // 72 080 bytes: 2 blocks
        CAPTURE(w);
        std::vector<std::uint8_t> px(static_cast<std::size_t>(w * h * c));
        for (std::size_t i = 0; i < px.size(); ++i) px[i] = static_cast<std::uint8_t>(i * 37 + 11);
        const auto png = kata::monitor::encode_png(w, h, c, px);
        std::size_t dw = 0, dh = 0;
        int dc = 0;
        CHECK(decode_png(png, dw, dh, dc) == px);
        CHECK(dw == static_cast<std::size_t>(w));
        CHECK(dh == static_cast<std::size_t>(h));
        CHECK(dc == c);
    }
    CHECK_THROWS_AS(kata::monitor::encode_png(2, 2, 1, std::vector<std::uint8_t>(3)), std::invalid_argument);
}

TEST_CASE("MonitorImage: nnabla's interval rule, <index:06d>-<j:03d>.png, min-max normalization, channels") {
    temp_dir dir("image");
    kata::monitor::Monitor monitor(dir.path);
    kata::monitor::MonitorImage gray("Generated images", monitor, 5, false, 2);
    xt::xarray<float> x = xt::xarray<float>::from_shape({3, 1, 2, 3});
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(i) - 2.0f;  // -2 .. 15
    for (int i = 0; i < 10; ++i) gray.add(i, x);
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(dir.path / "Generated-images"))
        files.push_back(e.path().filename().string());
    std::sort(files.begin(), files.end());
    CHECK(files == std::vector<std::string>{"000000-000.png", "000000-001.png", "000004-000.png",
                                            "000004-001.png", "000009-000.png", "000009-001.png"});
    // The first 2 images (values -2 .. 9) are normalized together: (v + 2) / 11 -> round(255 * that).
    std::size_t w = 0, h = 0;
    int c = 0;
    const auto second = decode_png(file_bytes(dir.path / "Generated-images" / "000009-001.png"), w, h, c);
    CHECK(w == 3);
    CHECK(h == 2);
    CHECK(c == 1);
    std::vector<std::uint8_t> expected;
    for (int v = 4; v <= 9; ++v)
        expected.push_back(static_cast<std::uint8_t>(std::floor((v + 2) / 11.0f * 255.0f + 0.5f)));
    CHECK(second == expected);

    // C == 2: a third channel of ones; C == 4: the first three channels. Custom normalization.
    kata::monitor::MonitorImage rgb("rgb", monitor, 1, false, 16,
                                    [](const xt::xarray<float>& a) { return a; });
    xt::xarray<float> two = xt::xarray<float>::from_shape({1, 2, 1, 2});
    two.data()[0] = 0.0f, two.data()[1] = 0.5f, two.data()[2] = 1.0f, two.data()[3] = 2.0f;
    rgb.add(0, two);
    CHECK(decode_png(file_bytes(dir.path / "rgb" / "000000-000.png"), w, h, c) ==
          std::vector<std::uint8_t>{0, 255, 255, 128, 255, 255});
    xt::xarray<float> four =
        xt::zeros<float>({std::size_t{1}, std::size_t{4}, std::size_t{1}, std::size_t{1}});
    four.data()[2] = 1.0f, four.data()[3] = 1.0f;
    rgb.add(1, four);
    CHECK(decode_png(file_bytes(dir.path / "rgb" / "000001-000.png"), w, h, c) ==
          std::vector<std::uint8_t>{0, 0, 255});
}

TEST_CASE("ProgressBar: plain lines off a terminal, an in-place bar with rate and ETA on one") {
    double t = 0;
    auto clock = [&] { return t; };
    std::FILE* f = std::tmpfile();
    REQUIRE(f);
    {
        kata::monitor::ProgressBar bar(20, "train", f, kata::monitor::ProgressBar::mode::lines, clock);
        CHECK_FALSE(bar.is_terminal());
        for (int i = 0; i < 20; ++i) {
            t += 0.5;
            bar.update();
        }
    }
    std::rewind(f);
    std::string text;
    for (int ch; (ch = std::fgetc(f)) != EOF;) text += static_cast<char>(ch);
    std::fclose(f);
    CHECK(std::count(text.begin(), text.end(), '\n') == 10);
    CHECK(text.find('\r') == std::string::npos);
    CHECK(text.rfind("train: 2/20 (10%) 2.00 it/s, elapsed 00:01, ETA 00:09\n", 0) == 0);
    CHECK(text.find("train: 20/20 (100%) 2.00 it/s, elapsed 00:10, ETA 00:00\n") != std::string::npos);

    f = std::tmpfile();
    t = 0;
    {
        kata::monitor::ProgressBar bar(7200, "epoch 1", f, kata::monitor::ProgressBar::mode::terminal, clock);
        t = 1800;
        bar.update(1800);
        bar.set_postfix("loss=0.5");
    }
    std::rewind(f);
    text.clear();
    for (int ch; (ch = std::fgetc(f)) != EOF;) text += static_cast<char>(ch);
    std::fclose(f);
    CHECK(text == "\repoch 1  25%|#####               | 1800/7200 [30:00<1:30:00, 1.00it/s]"
                  "\repoch 1  25%|#####               | 1800/7200 [30:00<1:30:00, 1.00it/s] loss=0.5\n");
}
