// Solver state in and out: save_states -> load_states -> continue equals the uninterrupted run bit for
// bit (every solver), get_states/set_states, the file layout, atomic writes, the errors (naming file,
// parameter, state and shapes; nothing changes on error), and set_parameters' reset / retain_state rules
// (as nnabla 1.39 behaves, checked by hand against it: docs/solvers.md).
#include "solver_support.hpp"

#include <kata/io/npz.hpp>

#include <cstdio>
#include <fstream>
#include <string_view>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using kata::parameter;
using kata::parameter_store;
using kata::train::solver;

/// A fresh directory under the system's temp directory, removed at the end of the test.
struct temp_dir {
    fs::path path;
    temp_dir() {
        static int counter = 0;
        path = fs::temp_directory_path() /
               ("kata_solver_states_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
        fs::create_directories(path);
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    std::vector<std::string> files() const {
        std::vector<std::string> out;
        for (const auto& e : fs::directory_iterator(path)) out.push_back(e.path().filename().string());
        std::sort(out.begin(), out.end());
        return out;
    }
};

std::vector<std::byte> bytes_of(const fs::path& p) { return kata::io::read_file_bytes(p); }

/// Parameters of odd shapes with non-trivial values (the store's seeded generator: same values each time).
void make_params(parameter_store& store) {
    store.create_or_replace("conv/W", {3, 5}, kata::initializer::normal(0.1f, 0.5f));
    store.create_or_replace("conv/b", {7}, kata::initializer::uniform(-1, 1));
    store.create_or_replace("block/x/W", {2, 3, 4}, kata::initializer::normal(-0.2f, 0.7f));
}

/// Step k's gradients: deterministic, different per step and parameter.
void set_grads(parameter_store& store, int k) {
    int j = 0;
    for (auto& [name, p] : store.get_parameters()) {
        for (std::size_t i = 0; i < p->grad().size(); ++i)
            p->grad().data()[i] =
                0.3f * std::sin(0.7f * float(i) + 1.3f * float(k) + 2.1f * float(j)) + 0.05f * float(k - 2);
        ++j;
    }
}

/// One training step as a trainer would run it, with the optional calls on some steps.
void step(solver& s, parameter_store& store, int k) {
    if (k == 2) s.set_learning_rate(s.learning_rate() * 0.5f);
    s.zero_grad();
    set_grads(store, k);
    if (k % 2 == 1) s.weight_decay(0.01f);
    if (k == 3) s.clip_grad_by_norm(0.5f);
    if (k == 4) s.scale_grad(0.75f);
    s.update();
}

void check_bitwise_equal(const xt::xarray<float>& a, const xt::xarray<float>& b, const std::string& what) {
    INFO(what);
    REQUIRE(a.shape() == b.shape());
    CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

void check_states_bitwise_equal(const kata::train::solver_states& a, const kata::train::solver_states& b) {
    REQUIRE(a.size() == b.size());
    for (const auto& [name, st] : a) {
        const auto& other = b.at(name);
        CHECK(st.t == other.t);
        REQUIRE(st.pstate.size() == other.pstate.size());
        for (const auto& [sn, arr] : st.pstate)
            check_bitwise_equal(arr, other.pstate.at(sn), name + "/" + sn);
    }
}

TEST_CASE(
    "save_states -> load_states -> continue equals the uninterrupted run, bit for bit, for every solver") {
    for (const char* stem : kata::test::solver_stems) {
        INFO("solver " << stem);
        const kata::test::npz_fixture fx(stem);
        temp_dir dir;
        // Uninterrupted: 6 steps.
        parameter_store a;
        make_params(a);
        auto sa = kata::test::make_solver(stem, fx, "custom");
        sa->set_parameters(a);
        for (int k = 0; k < 3; ++k) step(*sa, a, k);
        a.save(dir.path / "params.npz");
        sa->save_states(dir.path / "states.npz");
        const float lr = sa->learning_rate();  // the learning rate is not part of the state (nnabla neither)
        for (int k = 3; k < 6; ++k) step(*sa, a, k);

        // Interrupted: a new process would load the parameters and the states, then continue.
        parameter_store b;
        b.load(dir.path / "params.npz");
        auto sb = kata::test::make_solver(stem, fx, "custom");
        sb->set_parameters(b);
        sb->load_states(dir.path / "states.npz");
        sb->set_learning_rate(lr);
        for (int k = 3; k < 6; ++k) step(*sb, b, k);

        for (auto& [name, p] : a.get_parameters()) check_bitwise_equal(p->data, b.at(name).data, name);
        check_states_bitwise_equal(sa->get_states(), sb->get_states());
        // The counters went on from where they were saved.
        CHECK(sb->get_states().at("conv/W").t == 6);
    }
}

TEST_CASE("get_states / set_states copy the state, continuing from a copy is bitwise equal") {
    const kata::test::npz_fixture fx("amsgrad");
    parameter_store a, b;
    make_params(a);
    make_params(b);
    auto sa = kata::test::make_solver("amsgrad", fx, "custom");
    auto sb = kata::test::make_solver("amsgrad", fx, "custom");
    sa->set_parameters(a);
    sb->set_parameters(b);
    for (int k = 0; k < 3; ++k) step(*sa, a, k);
    for (auto& [name, p] : a.get_parameters()) b.at(name).data = p->data;
    kata::train::solver_states st = sa->get_states();
    sb->set_states(st);
    sb->set_learning_rate(sa->learning_rate());
    // A copy: changing it afterwards changes neither solver.
    st.at("conv/W").pstate.at("m").fill(123.0f);
    st.at("conv/W").t = 99;
    CHECK(sb->get_states().at("conv/W").t == 3);
    CHECK(sb->get_states().at("conv/W").pstate.at("m")(0, 0) != 123.0f);
    for (int k = 3; k < 6; ++k) {
        step(*sa, a, k);
        step(*sb, b, k);
    }
    for (auto& [name, p] : a.get_parameters()) check_bitwise_equal(p->data, b.at(name).data, name);
    check_states_bitwise_equal(sa->get_states(), sb->get_states());
}

TEST_CASE("the state file holds '<parameter>/<state>' float32 arrays and an int64 '<parameter>/t', in "
          "registration order") {
    temp_dir dir;
    parameter_store store;
    make_params(store);
    kata::S::Adam adam;
    adam.set_parameters(store);
    step(adam, store, 0);
    step(adam, store, 1);
    adam.save_states(dir.path / "adam.npz");
    const auto bytes = bytes_of(dir.path / "adam.npz");
    const auto entries = kata::io::read_npz(bytes, "adam.npz");
    std::vector<std::string> names;
    for (const auto& e : entries) names.push_back(e.name);
    CHECK(names == std::vector<std::string>{"conv/W/mean", "conv/W/var", "conv/W/t", "conv/b/mean",
                                            "conv/b/var", "conv/b/t", "block/x/W/mean", "block/x/W/var",
                                            "block/x/W/t"});
    for (const auto& e : entries) {
        INFO(e.name);
        if (e.name.ends_with("/t")) {
            CHECK(e.array.dtype == kata::io::npy_dtype::i8);
            CHECK(e.array.shape.empty());
            CHECK(kata::io::to_xarray<std::int64_t>(e.array, e.name)() == 2);
        } else {
            CHECK(e.array.dtype == kata::io::npy_dtype::f4);
        }
    }
    CHECK(entries[0].array.shape == std::vector<std::size_t>{3, 5});
    CHECK(entries[6].array.shape == std::vector<std::size_t>{2, 3, 4});
    // Same states, same bytes (deterministic file).
    adam.save_states(dir.path / "again.npz");
    CHECK(bytes_of(dir.path / "again.npz") == bytes);
    // Sgd has only counters.
    kata::S::Sgd sgd;
    sgd.set_parameters(store);
    sgd.save_states(dir.path / "sgd.npz");
    const auto sgd_bytes = bytes_of(dir.path / "sgd.npz");
    const auto sgd_entries = kata::io::read_npz(sgd_bytes, "sgd.npz");
    REQUIRE(sgd_entries.size() == 3);
    CHECK(sgd_entries[2].name == "block/x/W/t");
}

TEST_CASE("save_states is atomic: a failing write leaves the previous file and no temporary") {
    temp_dir dir;
    parameter_store store;
    make_params(store);
    kata::S::Momentum s(0.1f);
    s.set_parameters(store);
    step(s, store, 0);
    const fs::path file = dir.path / "states.npz";
    s.save_states(file);
    const auto before = bytes_of(file);
    step(s, store, 1);  // the state changes: a completed save would change the file
    for (const char* stage : {"written", "before_rename"}) {
        INFO("failure at " << stage);
        static std::string fail_at;
        fail_at = stage;
        kata::io::detail::atomic_write_fault_hook = [](std::string_view st) {
            if (st == fail_at) throw kata::io_error("simulated failure at " + std::string(st));
        };
        CHECK_THROWS_WITH_AS(s.save_states(file), doctest::Contains("simulated failure"), kata::io_error);
        kata::io::detail::atomic_write_fault_hook = nullptr;
        CHECK(bytes_of(file) == before);
        CHECK(dir.files() == std::vector<std::string>{"states.npz"});
    }
    // An unwritable target: the error names the file.
    CHECK_THROWS_WITH_AS(s.save_states(dir.path / "no_such_dir" / "s.npz"), doctest::Contains("no_such_dir"),
                         kata::io_error);
    s.save_states(file);
    CHECK(bytes_of(file) != before);
}

TEST_CASE("load_states errors name the file, the parameter, the state and the shapes, and change nothing") {
    temp_dir dir;
    parameter_store store;
    make_params(store);
    kata::S::Adam adam;
    adam.set_parameters(store);
    step(adam, store, 0);
    const auto before = adam.get_states();
    auto unchanged = [&] { check_states_bitwise_equal(adam.get_states(), before); };

    // A state of a different shape: conv/W saved as (5, 3).
    {
        parameter_store other;
        other.create_or_replace("conv/W", {5, 3}, kata::initializer::constant(1));
        other.create_or_replace("conv/b", {7}, kata::initializer::constant(1));
        kata::S::Adam o;
        o.set_parameters(other);
        o.save_states(dir.path / "shape.npz");
        const std::string file = (dir.path / "shape.npz").string();
        CHECK_THROWS_WITH_AS(
            adam.load_states(file),
            (file + ": parameter 'conv/W': state 'mean' has shape (5, 3) in the file, expected (3, 5) "
                    "(the parameter's shape)")
                .c_str(),
            kata::io_error);
        unchanged();
    }
    // A parameter the solver does not know.
    {
        parameter_store other;
        other.create_or_replace("conv/b", {7}, kata::initializer::constant(1));
        other.create_or_replace("head/W", {2, 2}, kata::initializer::constant(1));
        kata::S::Adam o;
        o.set_parameters(other);
        step(o, other, 0);
        o.save_states(dir.path / "unknown.npz");
        CHECK_THROWS_WITH_AS(adam.load_states(dir.path / "unknown.npz"),
                             doctest::Contains("parameter 'head/W' is not registered in the solver"),
                             kata::io_error);
        unchanged();  // conv/b (valid, earlier in the file) was not loaded either
    }
    // Another solver's file: Adam's states into Momentum.
    {
        kata::S::Momentum m;
        m.set_parameters(store);
        adam.save_states(dir.path / "adam.npz");
        CHECK_THROWS_WITH_AS(
            m.load_states(dir.path / "adam.npz"),
            doctest::Contains("parameter 'conv/W': 'mean' is not a state of Momentum (its states: 'm')"),
            kata::io_error);
    }
    // Missing state, missing counter, wrong dtype, bad counter.
    {
        xt::xarray<float> w = xt::zeros<float>({3, 5});
        xt::xarray<double> w64 = xt::zeros<double>({3, 5});
        std::int64_t t = 1, bad_t = -1;
        auto t_item = [](std::string name, const std::int64_t& v) {
            return kata::io::npz_item{std::move(name),
                                      kata::io::npy_dtype::i8,
                                      {},
                                      std::as_bytes(std::span<const std::int64_t>(&v, 1))};
        };
        const std::vector<kata::io::npz_item> missing_var{kata::io::make_npz_item("conv/W/mean", w),
                                                          t_item("conv/W/t", t)};
        kata::io::save_npz(dir.path / "missing.npz", missing_var);
        CHECK_THROWS_WITH_AS(adam.load_states(dir.path / "missing.npz"),
                             doctest::Contains("parameter 'conv/W': state 'var' missing from the file"),
                             kata::io_error);
        const std::vector<kata::io::npz_item> missing_t{kata::io::make_npz_item("conv/W/mean", w),
                                                        kata::io::make_npz_item("conv/W/var", w)};
        kata::io::save_npz(dir.path / "missing_t.npz", missing_t);
        CHECK_THROWS_WITH_AS(adam.load_states(dir.path / "missing_t.npz"),
                             doctest::Contains("parameter 'conv/W': counter 't' missing from the file"),
                             kata::io_error);
        const std::vector<kata::io::npz_item> f64{kata::io::make_npz_item("conv/W/mean", w64),
                                                  kata::io::make_npz_item("conv/W/var", w),
                                                  t_item("conv/W/t", t)};
        kata::io::save_npz(dir.path / "f64.npz", f64);
        CHECK_THROWS_WITH_AS(
            adam.load_states(dir.path / "f64.npz"),
            doctest::Contains("state 'mean': dtype mismatch: expected float32, found float64"),
            kata::io_error);
        const std::vector<kata::io::npz_item> neg{kata::io::make_npz_item("conv/W/mean", w),
                                                  kata::io::make_npz_item("conv/W/var", w),
                                                  t_item("conv/W/t", bad_t)};
        kata::io::save_npz(dir.path / "neg.npz", neg);
        CHECK_THROWS_WITH_AS(adam.load_states(dir.path / "neg.npz"),
                             doctest::Contains("counter 't' = -1 is out of range"), kata::io_error);
        const std::vector<kata::io::npz_item> flat{kata::io::make_npz_item("x", w)};
        kata::io::save_npz(dir.path / "flat.npz", flat);
        CHECK_THROWS_WITH_AS(adam.load_states(dir.path / "flat.npz"),
                             doctest::Contains("entry 'x' is not '<parameter>/<state>'"), kata::io_error);
        CHECK_THROWS_WITH_AS(adam.load_states(dir.path / "absent.npz"), doctest::Contains("absent.npz"),
                             kata::io_error);
        unchanged();
    }
    // A partial file (nnabla's rule): registered parameters absent from the file keep their state.
    {
        parameter_store only_b;
        only_b.create_or_replace("conv/b", {7}, kata::initializer::constant(1));
        kata::S::Adam o;
        o.set_parameters(only_b);
        o.save_states(dir.path / "only_b.npz");
        adam.load_states(dir.path / "only_b.npz");
        const auto after = adam.get_states();
        CHECK(after.at("conv/b").t == 0);
        CHECK(xt::all(xt::equal(after.at("conv/b").pstate.at("mean"), 0.0f)));
        check_bitwise_equal(after.at("conv/W").pstate.at("mean"), before.at("conv/W").pstate.at("mean"),
                            "conv/W mean");
        CHECK(after.at("conv/W").t == 1);
    }
}

TEST_CASE("set_states errors name the parameter, the state and the shapes, and change nothing") {
    parameter_store store;
    make_params(store);
    kata::S::Adam adam;
    adam.set_parameters(store);
    step(adam, store, 0);
    const auto before = adam.get_states();

    auto wrong_shape = before;
    wrong_shape.at("conv/b").t = 50;
    wrong_shape.at("conv/W").pstate.at("var") = xt::zeros<float>({5, 3});
    CHECK_THROWS_WITH_AS(
        adam.set_states(wrong_shape),
        "kata::train::Adam::set_states: parameter 'conv/W': state 'var' has shape (5, 3), expected (3, 5)",
        kata::parameter_error);
    auto unknown = before;
    unknown.emplace("fc/W", before.at("conv/b"));
    CHECK_THROWS_WITH_AS(adam.set_states(unknown),
                         doctest::Contains("parameter 'fc/W' is not registered in the solver"),
                         kata::parameter_error);
    auto extra = before;
    extra.at("conv/b").pstate.emplace("m", xt::zeros<float>({7}));
    CHECK_THROWS_WITH_AS(adam.set_states(extra),
                         doctest::Contains("'m' is not a state of Adam (its states: 'mean' 'var')"),
                         kata::parameter_error);
    auto missing = before;
    missing.at("conv/b").pstate.erase("var");
    CHECK_THROWS_WITH_AS(adam.set_states(missing),
                         doctest::Contains("parameter 'conv/b': state 'var' missing"), kata::parameter_error);
    check_states_bitwise_equal(adam.get_states(), before);
}

TEST_CASE("update after a parameter changed shape throws, naming it and both shapes, and updates nothing") {
    parameter_store store;
    make_params(store);
    kata::S::Momentum m(0.1f);
    m.set_parameters(store);
    step(m, store, 0);
    const xt::xarray<float> b_before = store.at("conv/b").data;
    store.create_or_replace("conv/W", {5, 3}, kata::initializer::constant(1));  // same node, new shape
    set_grads(store, 1);
    CHECK_THROWS_WITH_AS(
        m.update(),
        doctest::Contains("parameter 'conv/W' has shape (5, 3) but its solver state has shape (3, 5)"),
        kata::parameter_error);
    CHECK(store.at("conv/b").data ==
          b_before);          // conv/b comes after conv/W: validated first, nothing updated
    m.set_parameters(store);  // registering again fixes it
    m.update();
}

TEST_CASE("set_parameters: reset, retain_state and the store's scope behave as nnabla's") {
    parameter_store store;
    make_params(store);
    store.create_or_replace("frozen", {4}, kata::initializer::constant(2), /*need_grad=*/false);
    kata::S::Momentum m(1.0f, 0.5f);

    // From the store: need_grad parameters of the current scope, relative names (nn.get_parameters()).
    m.set_parameters(store);
    auto names = [&] {
        std::vector<std::string> out;
        for (auto& [n, p] : m.get_parameters()) out.push_back(n);
        return out;
    };
    CHECK(names() == std::vector<std::string>{"conv/W", "conv/b", "block/x/W"});
    {
        auto g = store.scope("block");
        kata::S::Sgd inner;
        inner.set_parameters(store);
        CHECK(inner.get_parameters().size() == 1);
        CHECK(inner.get_parameters()[0].first == "x/W");
        CHECK(inner.get_parameters()[0].second == &store.at("x/W"));
    }
    step(m, store, 0);
    const auto after_one = m.get_states();
    CHECK(after_one.at("conv/b").t == 1);

    // reset=false, retain_state=true: the state (and t) stays.
    m.set_parameters({{"conv/b", &store.at("conv/b")}}, {.reset = false, .retain_state = true});
    CHECK(names() == std::vector<std::string>{"conv/W", "conv/b", "block/x/W"});
    check_states_bitwise_equal(m.get_states(), after_one);
    // reset=false, retain_state=false: that parameter's state restarts; the others keep theirs.
    m.set_parameters({{"conv/b", &store.at("conv/b")}}, {.reset = false});
    CHECK(m.get_states().at("conv/b").t == 0);
    CHECK(xt::all(xt::equal(m.get_states().at("conv/b").pstate.at("m"), 0.0f)));
    CHECK(m.get_states().at("conv/W").t == 1);
    // reset=false adds new names at the end.
    m.set_parameters({{"frozen", &store.at("frozen")}}, {.reset = false});
    CHECK(names() == std::vector<std::string>{"conv/W", "conv/b", "block/x/W", "frozen"});
    // retain_state with a different shape is an error (nnabla: "Could not retain state"), nothing changes.
    parameter other;
    other.data = xt::ones<float>({5});
    CHECK_THROWS_WITH_AS(
        m.set_parameters({{"conv/b", &other}}, {.reset = false, .retain_state = true}),
        "kata::train::Momentum::set_parameters: cannot retain the state of parameter 'conv/b': its shape "
        "changed from (7,) to (5,)",
        kata::parameter_error);
    CHECK(m.get_parameters()[1].second == &store.at("conv/b"));
    // ... while without retain_state the parameter is replaced and its state restarts with the new shape.
    m.set_parameters({{"conv/b", &other}}, {.reset = false});
    CHECK(m.get_states().at("conv/b").pstate.at("m").size() == 5);
    CHECK(other.has_grad());  // the missing gradient was allocated (zeros)
    // Errors: null parameter, a name given twice.
    CHECK_THROWS_AS(m.set_parameters({{"x", nullptr}}), std::invalid_argument);
    CHECK_THROWS_AS(m.set_parameters({{"x", &other}, {"x", &other}}), std::invalid_argument);
    CHECK(m.get_parameters().size() == 4);
    // remove_parameters (unknown names ignored) and clear_parameters.
    m.remove_parameters({"conv/W", "nope"});
    CHECK(names() == std::vector<std::string>{"conv/b", "block/x/W", "frozen"});
    CHECK(m.get_states().count("conv/W") == 0);
    // reset=true (the default) forgets everything else.
    m.set_parameters({{"conv/W", &store.at("conv/W")}});
    CHECK(names() == std::vector<std::string>{"conv/W"});
    CHECK(m.get_states().at("conv/W").t == 0);
    m.clear_parameters();
    CHECK(m.get_parameters().empty());
    m.update();  // nothing registered: nothing to do
}

}  // namespace
