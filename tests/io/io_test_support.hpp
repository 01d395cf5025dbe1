// Shared helpers of the tests in tests/io (not a test itself: only *.cpp files are picked up).
#pragma once

#include <kata/io/npz.hpp>
#include <kata/io/parameter_store.hpp>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#if __has_include(<unistd.h>)
#include <unistd.h>
#endif

namespace kata_test {

namespace fs = std::filesystem;

/// tests/fixtures/io, located from this file (CMake passes absolute source paths; by hand, run
/// from the repository root).
inline fs::path fixture_dir() {
#ifdef KATA_FIXTURE_DIR
    return fs::path(KATA_FIXTURE_DIR) / "io";
#else
    return fs::path(__FILE__).parent_path().parent_path() / "fixtures" / "io";
#endif
}
inline fs::path fixture(const std::string& name) { return fixture_dir() / name; }

inline std::vector<std::byte> read_bytes(const fs::path& p) { return kata::io::read_file_bytes(p); }

inline void write_bytes(const fs::path& p, const std::vector<std::byte>& b) {
    std::ofstream o(p, std::ios::binary | std::ios::trunc);
    o.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

/// A fresh empty directory, removed when the object dies.
struct temp_dir {
    fs::path path;
    temp_dir() {
        static std::atomic<int> n{0};
#if __has_include(<unistd.h>)
        const long pid = static_cast<long>(::getpid());
#else
        const long pid = 0;
#endif
        path =
            fs::temp_directory_path() / ("kata_io_test_" + std::to_string(pid) + "_" + std::to_string(n++));
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~temp_dir() {
        std::error_code ec;
        fs::permissions(path, fs::perms::owner_all, fs::perm_options::add, ec);
        fs::remove_all(path, ec);
    }
    std::vector<std::string> names() const {
        std::vector<std::string> v;
        for (auto& e : fs::directory_iterator(path)) v.push_back(e.path().filename().string());
        return v;
    }
};

/// One line of a fixture .txt written by tools/fixtures/make_npz_fixtures.py:
/// name \t descr \t ndim dims... \t values...
struct expected_array {
    std::string descr;
    std::vector<std::size_t> shape;
    std::vector<double> values;  // exact: floats are written with repr(float(x)); ints fit doubles here
};

inline std::map<std::string, expected_array> read_expected(const fs::path& p,
                                                           std::vector<std::string>* order = nullptr) {
    std::ifstream in(p);
    if (!in) throw std::runtime_error("cannot open fixture " + p.string());
    std::map<std::string, expected_array> m;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        std::istringstream ls(line);
        std::string name, descr, dims, vals;
        std::getline(ls, name, '\t');
        std::getline(ls, descr, '\t');
        std::getline(ls, dims, '\t');
        std::getline(ls, vals);
        expected_array e;
        e.descr = descr;
        std::istringstream ds(dims);
        std::size_t nd = 0;
        ds >> nd;
        for (std::size_t i = 0; i < nd; ++i) {
            std::size_t d;
            ds >> d;
            e.shape.push_back(d);
        }
        std::istringstream vs(vals);
        std::string tok;
        while (vs >> tok) e.values.push_back(std::strtod(tok.c_str(), nullptr));
        if (order) order->push_back(name);
        m.emplace(name, std::move(e));
    }
    return m;
}

/// Everything observable about a store, for "the store is unchanged" checks.
using snapshot_t = std::vector<std::tuple<std::string, std::vector<std::size_t>, std::vector<float>, bool>>;
inline snapshot_t snapshot(const kata::parameter_store& s) {
    snapshot_t out;
    for (auto& [name, p] : s.get_parameters(false))
        out.emplace_back(name, std::vector<std::size_t>(p->data.shape().begin(), p->data.shape().end()),
                         std::vector<float>(p->data.begin(), p->data.end()), p->need_grad);
    return out;
}

/// Values i -> (i % 17) * 0.25 - 2 (exact in float32); mirrored by kata_expected() in the script.
inline xt::xarray<float> pattern(const std::vector<std::size_t>& shape) {
    xt::xarray<float> a = xt::empty<float>(xt::xarray<float>::shape_type(shape.begin(), shape.end()));
    std::size_t i = 0;
    for (auto& x : a) x = static_cast<float>(i++ % 17) * 0.25f - 2.0f;
    return a;
}

/// The parameters of tests/fixtures/io/params_kata*.npz (order and need_grad matter).
inline void make_kata_params(kata::parameter_store& s) {
    using kata::initializer;
    auto add = [&](const char* n, std::vector<std::size_t> shape, bool need_grad = true) {
        s.get_or_create(n, shape, initializer::from_array(pattern(shape)), need_grad);
    };
    add("conv1/conv/W", {2, 3, 3, 3});
    add("conv1/conv/b", {2});
    add("fc/affine/W", {4, 5});
    add("fc/affine/b", {5});
    add("bn/mean", {1, 2, 1, 1}, false);
    add("scalar", {});
}

inline bool update_fixtures() {
    const char* e = std::getenv("KATA_UPDATE_FIXTURES");
    return e && *e && std::string(e) != "0";
}

inline bool contains(const std::string& hay, const std::string& needle) {
    return hay.find(needle) != std::string::npos;
}

}  // namespace kata_test
