// Shared by the backward tests: reading tests/fixtures/train/backward_<case>.npz (written by
// tools/fixtures/make_backward_fixtures.py from PyTorch autograd in float64) into a parameter store and
// inputs, and comparing kata's float32 results with the reference.
#pragma once

#include <doctest/doctest.h>

#include <kata/detail/xtensor_fix.hpp>
#include <kata/io/file.hpp>
#include <kata/io/npz.hpp>
#include <kata/io/parameter_store.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <xtensor/xarray.hpp>

namespace kata::test {

class backward_fixture {
public:
    explicit backward_fixture(const std::string& name) {
#ifdef KATA_FIXTURE_DIR
        const std::filesystem::path dir = std::filesystem::path(KATA_FIXTURE_DIR) / "train";
#else
        const std::filesystem::path dir = std::filesystem::path(__FILE__).parent_path() / "../fixtures/train";
#endif
        path_ = (dir / ("backward_" + name + ".npz")).string();
        bytes_ = io::read_file_bytes(path_);
        for (auto& e : io::read_npz(bytes_, path_)) entries_.emplace(e.name, e.array);
    }
    bool has(const std::string& key) const { return entries_.count(key) != 0; }
    xt::xarray<float> f32(const std::string& key) const {
        REQUIRE_MESSAGE(has(key), path_ << " has no " << key);
        return io::to_xarray<float>(entries_.at(key), path_ + ": " + key);
    }
    xt::xarray<std::int32_t> i32(const std::string& key) const {
        REQUIRE_MESSAGE(has(key), path_ << " has no " << key);
        return io::to_xarray<std::int32_t>(entries_.at(key), path_ + ": " + key);
    }
    // Every "param:<name>" into the store (need_grad as the graph decides; the store's flag is for
    // solvers).
    void load_parameters(parameter_store& store) const {
        for (const auto& [key, v] : entries_) {
            if (key.rfind("param:", 0) != 0) continue;
            xt::xarray<float> a = f32(key);
            std::vector<std::size_t> shape(a.shape().begin(), a.shape().end());
            store.get_or_create(key.substr(6), shape).data = a;
        }
    }
    std::vector<std::string> gradient_names() const {
        std::vector<std::string> r;
        for (const auto& [key, v] : entries_)
            if (key.rfind("grad:", 0) == 0) r.push_back(key.substr(5));
        return r;
    }

private:
    std::string path_;
    std::vector<std::byte> bytes_;
    std::map<std::string, io::npy_view> entries_;
};

// |got - want| <= 1e-4 max|want| + 1e-6 everywhere (float32 against a float64 reference).
inline void check_close(const xt::xarray<float>& got, const xt::xarray<float>& want, const std::string& what,
                        float scale = 1.0f) {
    REQUIRE_MESSAGE(
        std::equal(got.shape().begin(), got.shape().end(), want.shape().begin(), want.shape().end()),
        what << ": shapes differ");
    double ref = 0, err = 0;
    for (std::size_t i = 0; i < want.size(); ++i) {
        ref = std::max(ref, std::fabs(double(want.data()[i]) * scale));
        err = std::max(err, std::fabs(double(got.data()[i]) - double(want.data()[i]) * scale));
    }
    CHECK_MESSAGE(err <= 1e-4 * ref + 1e-6,
                  what << ": max error " << err << " (max |reference| " << ref << ")");
}

// A training step's loss (its first output) and every gradient the fixture holds ("grad:<name>") against
// the fixture: the loss within 1e-4 relative + 1e-6, the gradients with check_close.
template <class Step>
void check_step_against_fixture(Step& step, parameter_store& store, const backward_fixture& f,
                                const char* name) {
    const float loss = step.template output_data<0>()[0];
    const float want = f.f32("loss").data()[0];
    CHECK_MESSAGE(std::fabs(loss - want) <= 1e-4 * std::fabs(want) + 1e-6,
                  name << ": loss " << loss << " vs " << want);
    for (const std::string& p : f.gradient_names()) {
        const parameter* q = store.find(p);
        REQUIRE(q);
        REQUIRE_MESSAGE(q->has_grad(), name << ": no gradient for " << p);
        check_close(const_cast<parameter*>(q)->grad(), f.f32("grad:" + p), std::string(name) + " d/d" + p);
    }
}

}  // namespace kata::test
