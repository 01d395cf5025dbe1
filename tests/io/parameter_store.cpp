// Parameter store: nnabla get-or-create / scope / get_parameters semantics, .npz save/load with the
// strong guarantee, error messages, atomic writes, and the committed kata-written fixture.
#include "io_test_support.hpp"

#include <doctest/doctest.h>

#include <kata/io/parameter_store.hpp>

#include <algorithm>

#if __has_include(<unistd.h>)
#include <unistd.h>
#endif

using namespace kata_test;
using kata::initializer;
using kata::load_mode;
using kata::parameter_store;

namespace {

std::vector<std::string> names_of(const std::vector<std::pair<std::string, kata::parameter*>>& v) {
    std::vector<std::string> out;
    for (auto& p : v) out.push_back(p.first);
    return out;
}

template <class E = kata::io_error>
std::string what_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const E& e) {
        return e.what();
    }
    return "<no exception of the expected type>";
}

std::vector<std::size_t> shape_of(const kata::parameter& p) {
    return {p.data.shape().begin(), p.data.shape().end()};
}

}  // namespace

TEST_CASE("get_or_create: creates once, then returns the same parameter and ignores the initializer") {
    parameter_store s;
    auto& w = s.get_or_create("W", {2, 3}, initializer::constant(1.5f));
    CHECK(shape_of(w) == std::vector<std::size_t>{2, 3});
    CHECK(std::all_of(w.data.begin(), w.data.end(), [](float x) { return x == 1.5f; }));
    CHECK_FALSE(w.has_grad());  // allocated on first use (issue 17 point 4), reads as zeros of data's shape
    CHECK(w.grad().shape() == w.data.shape());
    CHECK(std::all_of(w.grad().begin(), w.grad().end(), [](float x) { return x == 0.f; }));
    CHECK(w.need_grad);

    auto& again = s.get_or_create("W", {2, 3}, initializer::constant(-7.f), false);
    CHECK(&again == &w);
    CHECK(w.data(0, 0) == 1.5f);  // initializer ignored (nnabla: stale parameter)
    CHECK_FALSE(w.need_grad);     // need_grad overwritten
    CHECK(s.size() == 1);

    const std::string m = what_of<kata::parameter_error>([&] { s.get_or_create("W", {3, 2}); });
    CHECK(contains(m, "'W'"));
    CHECK(contains(m, "(2, 3)"));
    CHECK(contains(m, "(3, 2)"));
    CHECK(s.size() == 1);
}

TEST_CASE("create_or_replace overwrites values and shape, keeping the listing position") {
    parameter_store s;
    s.get_or_create("a", {2}, initializer::constant(1.f));
    s.get_or_create("b", {2}, initializer::constant(2.f));
    auto& a = s.create_or_replace("a", {3, 1}, initializer::constant(9.f), false);
    CHECK(shape_of(a) == std::vector<std::size_t>{3, 1});
    CHECK(a.data(2, 0) == 9.f);
    CHECK(a.grad().shape() == a.data.shape());
    CHECK_FALSE(a.need_grad);
    CHECK(names_of(s.get_parameters(false)) == std::vector<std::string>{"a", "b"});
    s.create_or_replace("c", {1});
    CHECK(s.size() == 3);
}

TEST_CASE("scopes nest, prefix created names, and make lookups and listings relative") {
    parameter_store s;
    CHECK(s.current_scope() == "");
    {
        auto g1 = s.scope("conv1");
        CHECK(s.current_scope() == "conv1/");
        {
            auto g2 = s.scope("conv");
            CHECK(s.current_scope() == "conv1/conv/");
            s.get_or_create("W", {4, 3, 3, 3}, initializer::glorot_uniform(3, 4, {3, 3}));
            s.get_or_create("b", {4}, initializer::constant(0.f));
            CHECK(s.contains("W"));
            CHECK(names_of(s.get_parameters()) == std::vector<std::string>{"W", "b"});
        }
        CHECK(s.current_scope() == "conv1/");
        CHECK(s.contains("conv/W"));
        CHECK_FALSE(s.contains("W"));
        CHECK(names_of(s.get_parameters()) == std::vector<std::string>{"conv/W", "conv/b"});
    }
    {
        auto g = s.scope("/fc/affine/");  // "a/b" pushes two levels; surrounding '/' stripped
        CHECK(s.current_scope() == "fc/affine/");
        s.get_or_create("W", {7, 5});
    }
    CHECK(s.current_scope() == "");
    CHECK(s.contains("conv1/conv/W"));
    CHECK(s.find("fc/affine/W") != nullptr);
    CHECK(s.find("fc/affine/X") == nullptr);
    CHECK(&s.at("conv1/conv/b") == s.find("conv1/conv/b"));
    const std::string m = what_of<kata::parameter_error>([&] { (void)s.at("nope/W"); });
    CHECK(contains(m, "'nope/W'"));
    CHECK(names_of(s.get_parameters()) ==
          std::vector<std::string>{"conv1/conv/W", "conv1/conv/b", "fc/affine/W"});
    CHECK_THROWS_AS((void)s.scope(""), std::invalid_argument);
    CHECK_THROWS_AS((void)s.scope("a//b"), std::invalid_argument);
    CHECK_THROWS_AS(s.get_or_create("a//b", {1}), std::invalid_argument);
    CHECK_THROWS_AS(s.get_or_create("", {1}), std::invalid_argument);
}

TEST_CASE("get_parameters: nnabla tree order and grad_only") {
    parameter_store s;
    s.get_or_create("a/x", {1});
    s.get_or_create("b/y", {1}, {}, false);
    s.get_or_create("a/z", {1});
    s.get_or_create("top", {1});
    s.get_or_create("a/sub/w", {1}, {}, false);
    // nested OrderedDicts: a = {x, z, sub = {w}}, b = {y}, top
    CHECK(names_of(s.get_parameters(false)) ==
          std::vector<std::string>{"a/x", "a/z", "a/sub/w", "b/y", "top"});
    CHECK(names_of(s.get_parameters(true)) == std::vector<std::string>{"a/x", "a/z", "top"});
    auto g = s.scope("a");
    CHECK(names_of(s.get_parameters(false)) == std::vector<std::string>{"x", "z", "sub/w"});
    CHECK(names_of(s.get_parameters()) == std::vector<std::string>{"x", "z"});
}

TEST_CASE("a path cannot be both a parameter and a scope, erase, clear and copies") {
    parameter_store s;
    s.get_or_create("a/b", {1});
    CHECK_THROWS_AS(s.get_or_create("a", {1}), kata::parameter_error);
    CHECK_THROWS_AS(s.get_or_create("a/b/c", {1}), kata::parameter_error);
    CHECK(s.size() == 1);
    s.get_or_create("a/c", {2});
    s.get_or_create("d", {3});

    parameter_store copy = s;
    copy.at("a/b").data(0) = 42.f;
    CHECK(s.at("a/b").data(0) != 42.f);
    CHECK(names_of(copy.get_parameters(false)) == names_of(s.get_parameters(false)));

    {
        auto g = s.scope("a");
        CHECK(s.erase("b"));
        CHECK_FALSE(s.erase("b"));
        s.clear();  // clears a/* only, like nnabla's clear_parameters inside a scope
    }
    CHECK(s.size() == 1);
    CHECK(s.contains("d"));
    s.clear();
    CHECK(s.empty());
    CHECK(copy.size() == 3);
}

TEST_CASE("load a numpy.savez file: exact values, relative to the current scope") {
    const auto exp = read_expected(fixture("params_numpy.txt"));
    parameter_store s;
    s.load(fixture("params_numpy.npz"));
    CHECK(s.size() == exp.size());
    for (auto& kv : exp) {
        const std::string& name = kv.first;
        const expected_array& e = kv.second;
        CAPTURE(name);
        const auto& p = s.at(name);
        CHECK(shape_of(p) == e.shape);
        std::size_t i = 0;
        for (float v : p.data) CHECK(static_cast<double>(v) == e.values[i++]);
        CHECK(p.need_grad);
    }
    parameter_store scoped;
    {
        auto g = scoped.scope("net");
        scoped.load(fixture("params_numpy.npz"));
    }
    CHECK(scoped.contains("net/conv1/conv/W"));
}

TEST_CASE("merge load overwrites existing values in place and keeps need_grad") {
    parameter_store s;
    auto& w = s.get_or_create("conv1/conv/W", {4, 3, 3, 3}, initializer::constant(0.f), false);
    const float* buf = w.data.data();
    s.get_or_create("other", {2}, initializer::constant(3.f));
    s.load(fixture("params_numpy.npz"));
    const auto exp = read_expected(fixture("params_numpy.txt"));
    CHECK(w.data.data() == buf);  // same buffer, new values
    CHECK(static_cast<double>(w.data(0, 0, 0, 0)) == exp.at("conv1/conv/W").values[0]);
    CHECK_FALSE(w.need_grad);
    CHECK(s.at("other").data(1) == 3.f);  // not in the file: untouched
    CHECK(s.size() == 1 + exp.size());
}

TEST_CASE("load errors name file, parameter, expected and found, and leave the store unchanged") {
    const std::string file = fixture("params_numpy.npz").string();
    auto setup = [] {
        parameter_store s;
        s.get_or_create("fc/affine/b", {5}, initializer::constant(1.f));
        s.get_or_create("extra/W", {2, 2}, initializer::constant(2.f), false);
        return s;
    };

    SUBCASE("wrong shape") {
        parameter_store s = setup();
        s.get_or_create("conv1/conv/W", {4, 3, 3}, initializer::constant(5.f));
        const auto before = snapshot(s);
        const std::string m = what_of([&] { s.load(file); });
        CHECK(contains(m, file));
        CHECK(contains(m, "'conv1/conv/W'"));
        CHECK(contains(m, "expected (4, 3, 3)"));
        CHECK(contains(m, "found (4, 3, 3, 3)"));
        CHECK(snapshot(s) == before);  // fc/affine/b not overwritten, no new names added
    }
    SUBCASE("wrong dtype") {
        parameter_store s = setup();
        const auto before = snapshot(s);
        const std::string f64 = fixture("params_f64.npz").string();
        const std::string m = what_of([&] { s.load(f64); });
        CHECK(contains(m, f64));
        CHECK(contains(m, "'conv1/conv/W'"));
        CHECK(contains(m, "expected float32, found float64"));
        CHECK(snapshot(s) == before);
    }
    SUBCASE("missing name (strict)") {
        parameter_store s = setup();
        s.get_or_create("conv1/conv/W", {4, 3, 3, 3});
        s.get_or_create("conv1/conv/b", {4});
        s.get_or_create("bn/beta", {1, 4, 1, 1});
        s.get_or_create("fc/affine/W", {7, 5});
        const auto before = snapshot(s);
        const std::string m = what_of([&] { s.load(file, load_mode::strict); });
        CHECK(contains(m, file));
        CHECK(contains(m, "'extra/W'"));
        CHECK(contains(m, "missing from the file"));
        CHECK(contains(m, "(2, 2)"));
        CHECK(snapshot(s) == before);
        s.erase("extra/W");
        s.load(file, load_mode::strict);  // now every name matches
        CHECK(s.at("fc/affine/b").data(0) != 1.f);
    }
    SUBCASE("unknown name (strict)") {
        parameter_store s = setup();
        const auto before = snapshot(s);
        const std::string m = what_of([&] { s.load(file, load_mode::strict); });
        CHECK(contains(m, file));
        CHECK(contains(m, "not in the store"));
        CHECK(snapshot(s) == before);
    }
    SUBCASE("truncated and corrupt files") {
        temp_dir d;
        const auto good = read_bytes(file);
        parameter_store s = setup();
        const auto before = snapshot(s);
        const auto cut = d.path / "cut.npz";
        write_bytes(cut,
                    std::vector<std::byte>(good.begin(), good.begin() + std::ptrdiff_t(good.size() * 2 / 3)));
        CHECK(contains(what_of([&] { s.load(cut); }), cut.string()));
        auto flipped = good;
        flipped[good.size() - 200] ^= std::byte(0x10);  // inside the central directory
        const auto flip = d.path / "flip.npz";
        write_bytes(flip, flipped);
        CHECK(contains(what_of([&] { s.load(flip); }), flip.string()));
        auto data = good;
        data[300] ^= std::byte(0x01);  // inside conv1/conv/W's values: CRC catches it
        const auto crc = d.path / "crc.npz";
        write_bytes(crc, data);
        const std::string m = what_of([&] { s.load(crc); });
        CHECK(contains(m, crc.string()));
        CHECK(contains(m, "conv1/conv/W"));
        CHECK(contains(m, "CRC-32"));
        CHECK(contains(what_of([&] { s.load(d.path / "absent.npz"); }), "absent.npz"));
        CHECK(contains(what_of([&] { s.load(fixture("params_compressed.npz")); }), "compressed npz"));
        CHECK(snapshot(s) == before);
    }
    SUBCASE("name conflicts with the store's tree") {
        parameter_store s;
        s.get_or_create("fc", {1});
        const auto before = snapshot(s);
        const std::string m = what_of([&] { s.load(file); });
        CHECK(contains(m, "'fc/affine/W'"));
        CHECK(contains(m, "conflicts with parameter 'fc'"));
        CHECK(snapshot(s) == before);
    }
}

TEST_CASE("save/load round trip keeps names, order, values, grad_only and scopes") {
    temp_dir d;
    parameter_store s(7);
    make_kata_params(s);
    s.get_or_create("rand/W", {3, 4}, initializer::normal(0.f, 1.f));
    s.save(d.path / "all.npz");
    parameter_store t;
    t.load(d.path / "all.npz");
    CHECK(snapshot(t).size() == snapshot(s).size());
    auto a = snapshot(s), b = snapshot(t);
    for (std::size_t i = 0; i < a.size(); ++i) {
        CHECK(std::get<0>(a[i]) == std::get<0>(b[i]));
        CHECK(std::get<1>(a[i]) == std::get<1>(b[i]));
        CHECK(std::get<2>(a[i]) == std::get<2>(b[i]));
    }
    s.save(d.path / "grad.npz", /*grad_only=*/true);
    parameter_store g;
    g.load(d.path / "grad.npz");
    CHECK_FALSE(g.contains("bn/mean"));
    CHECK(g.size() == s.size() - 1);
    {
        auto sc = s.scope("conv1");
        s.save(d.path / "conv1.npz");
    }
    parameter_store c;
    c.load(d.path / "conv1.npz");
    CHECK(names_of(c.get_parameters(false)) == std::vector<std::string>{"conv/W", "conv/b"});
    CHECK(d.names().size() == 3);  // no temporaries left behind
}

TEST_CASE("kata's writer is deterministic and byte-identical to the committed numpy-verified fixture") {
    parameter_store s;
    make_kata_params(s);
    temp_dir d;
    s.save(d.path / "k.npz");
    const auto mine = read_bytes(d.path / "k.npz");
    std::vector<kata::io::npz_item> items;
    for (auto& [n, p] : s.get_parameters(false)) items.push_back(kata::io::make_npz_item(n, p->data));
    const auto mine64 = kata::io::write_npz(items, {.force_zip64 = true});
    if (update_fixtures()) {
        write_bytes(fixture("params_kata.npz"), mine);
        write_bytes(fixture("params_kata_zip64.npz"), mine64);
        MESSAGE(
            "wrote params_kata*.npz; now run tools/fixtures/make_npz_fixtures.py to verify them with numpy");
    }
    CHECK(mine == read_bytes(fixture("params_kata.npz")));
    CHECK(mine64 == read_bytes(fixture("params_kata_zip64.npz")));
    parameter_store t;
    t.load(fixture("params_kata_zip64.npz"));
    CHECK(snapshot(t).size() == 6);
}

TEST_CASE("atomic save: failures leave an existing file intact and no temporary behind") {
    temp_dir d;
    const auto target = d.path / "p.npz";
    parameter_store old;
    old.get_or_create("old", {3}, initializer::constant(1.f));
    old.save(target);
    const auto old_bytes = read_bytes(target);

    parameter_store s;
    make_kata_params(s);

    SUBCASE("unwritable location") {
        const auto bad = d.path / "no" / "such" / "dir" / "p.npz";
        const std::string m = what_of([&] { s.save(bad); });
        CHECK(contains(m, bad.string()));
        CHECK_FALSE(std::filesystem::exists(d.path / "no"));
    }
    SUBCASE("injected failure after writing and before the rename") {
        for (const char* stage : {"written", "before_rename"}) {
            CAPTURE(stage);
            static std::string fail_at;
            fail_at = stage;
            kata::io::detail::atomic_write_fault_hook = [](std::string_view st) {
                if (st == fail_at) throw kata::io_error("injected failure at " + std::string(st));
            };
            const std::string m = what_of([&] { s.save(target); });
            kata::io::detail::atomic_write_fault_hook = nullptr;
            CHECK(contains(m, "injected failure"));
            CHECK(read_bytes(target) == old_bytes);
            CHECK(d.names() == std::vector<std::string>{"p.npz"});
        }
    }
    SUBCASE("target is a directory") {
        const auto dir = d.path / "adir";
        std::filesystem::create_directory(dir);
        CHECK(contains(what_of([&] { s.save(dir); }), dir.string()));
        CHECK(std::filesystem::is_directory(dir));
        CHECK(d.names().size() == 2);
    }
#if __has_include(<unistd.h>)
    SUBCASE("read-only directory (skipped as root, who may write anyway)") {
        if (::geteuid() != 0) {
            std::filesystem::permissions(d.path, std::filesystem::perms::owner_read |
                                                     std::filesystem::perms::owner_exec);
            CHECK(contains(what_of([&] { s.save(target); }), target.string()));
            std::filesystem::permissions(d.path, std::filesystem::perms::owner_all);
            CHECK(read_bytes(target) == old_bytes);
            CHECK(d.names() == std::vector<std::string>{"p.npz"});
        }
    }
#endif
    SUBCASE("success replaces the file") {
        s.save(target);
        CHECK(read_bytes(target) != old_bytes);
        CHECK(d.names() == std::vector<std::string>{"p.npz"});
    }
}

// Issue 17 point 4 (one copy of the weights): gradients are allocated on first use, so a store that
// only feeds inference (created, loaded, converted) holds no second, all-zero copy of every weight.
TEST_CASE("parameter gradients are allocated on first use and read as zeros of data's shape") {
    parameter_store s;
    auto& w = s.get_or_create("W", {3, 4}, initializer::constant(2.f));
    s.load(fixture("params_numpy.npz"));
    s.create_or_replace("R", {2}, initializer::constant(1.f));
    for (auto& [name, p] : s.get_parameters(false)) {
        CAPTURE(name);
        CHECK_FALSE(p->has_grad());
    }
    xt::xarray<float>& g = w.grad();
    CHECK(w.has_grad());
    CHECK(g.shape() == w.data.shape());
    CHECK(std::all_of(g.begin(), g.end(), [](float x) { return x == 0.f; }));
    g(1, 2) = 5.f;
    CHECK(&w.grad() == &g);  // the same buffer on every call
    CHECK(w.grad()(1, 2) == 5.f);
    parameter_store copy = s;  // copies keep an allocated gradient (and only that one)
    CHECK(copy.at("W").has_grad());
    CHECK(copy.at("W").grad()(1, 2) == 5.f);
    CHECK_FALSE(copy.at("R").has_grad());
    // A replacement with another shape drops the gradient; it reads as zeros of the new shape.
    auto& r = s.create_or_replace("W", {5}, initializer::constant(0.f));
    CHECK_FALSE(r.has_grad());
    CHECK(r.grad().dimension() == 1);
    CHECK(r.grad().size() == 5);
    CHECK(r.grad()(4) == 0.f);
    r.release_grad();
    CHECK_FALSE(r.has_grad());
    CHECK(r.grad()(0) == 0.f);
}
