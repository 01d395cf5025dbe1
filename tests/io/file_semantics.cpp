// File semantics of kata's parameter and array files (issue 15, findings 4, 7 and 8; issue 10 point 4):
// saving through symbolic links and over read-only files, keeping the target's mode, refusing
// non-regular files without blocking, refusing over-long names before writing, and the one-call
// .npy reader/writer against numpy-written fixtures (tools/fixtures/make_npz_fixtures.py).
#include "io_test_support.hpp"

#include <doctest/doctest.h>

#include <kata/io/file.hpp>
#include <kata/io/npy_file.hpp>
#include <kata/io/parameter_store.hpp>

#include <chrono>
#include <cstdint>
#include <future>

#include <xtensor/xmanipulation.hpp>

#if __has_include(<sys/stat.h>) && __has_include(<fcntl.h>)
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#define KATA_TEST_POSIX 1
#else
#define KATA_TEST_POSIX 0
#endif

using namespace kata_test;
using kata::initializer;
using kata::parameter_store;
namespace kio = kata::io;

namespace {

std::string what_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const kata::io_error& e) {
        return e.what();
    }
    return "<no io_error thrown>";
}

parameter_store store_with(float v) {
    parameter_store s;
    s.get_or_create("a/W", {2, 3}, initializer::constant(v));
    s.get_or_create("b", {4}, initializer::constant(-v));
    return s;
}

float first_value(const fs::path& p) {
    parameter_store s;
    s.load(p);
    return s.at("a/W").data(0, 0);
}

fs::perms perms_of(const fs::path& p) { return fs::status(p).permissions() & fs::perms::mask; }

}  // namespace

// ---- finding 7: symbolic links and modes --------------------------------------------------------

TEST_CASE(
    "saving through a symbolic link writes the link's target and keeps the link and the target's mode") {
    temp_dir d;
    const auto target = d.path / "weights.npz";
    store_with(1.f).save(target);
    fs::permissions(target, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
    fs::create_symlink("weights.npz", d.path / "link.npz");  // relative link
    store_with(2.f).save(d.path / "link.npz");
    CHECK(fs::is_symlink(fs::symlink_status(d.path / "link.npz")));
    CHECK(fs::read_symlink(d.path / "link.npz") == "weights.npz");
    CHECK(first_value(target) == 2.f);  // main replaced the link by a file and left this at 1
    CHECK(perms_of(target) == (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read));
    auto names = d.names();
    std::sort(names.begin(), names.end());
    CHECK(names == std::vector<std::string>{"link.npz", "weights.npz"});  // no temporary left

    SUBCASE("a chain of links into another directory: the temporary is made next to the final target") {
        temp_dir other;
        const auto real = other.path / "real.npz";
        store_with(3.f).save(real);
        fs::create_symlink(real, d.path / "abs.npz");         // absolute
        fs::create_symlink("abs.npz", d.path / "chain.npz");  // relative, to a link
        store_with(4.f).save(d.path / "chain.npz");
        CHECK(first_value(real) == 4.f);
        CHECK(fs::is_symlink(fs::symlink_status(d.path / "chain.npz")));
        CHECK(fs::is_symlink(fs::symlink_status(d.path / "abs.npz")));
        CHECK(other.names() == std::vector<std::string>{"real.npz"});
    }
    SUBCASE("a dangling link: the target is created, the link stays") {
        fs::create_symlink("new.npz", d.path / "dangling.npz");
        store_with(5.f).save(d.path / "dangling.npz");
        CHECK(fs::is_symlink(fs::symlink_status(d.path / "dangling.npz")));
        CHECK(fs::is_regular_file(d.path / "new.npz"));
        CHECK(first_value(d.path / "new.npz") == 5.f);
    }
    SUBCASE("a link loop is an error naming the path") {
        fs::create_symlink("loop2.npz", d.path / "loop1.npz");
        fs::create_symlink("loop1.npz", d.path / "loop2.npz");
        const std::string m = what_of([&] { store_with(6.f).save(d.path / "loop1.npz"); });
        CHECK(contains(m, (d.path / "loop1.npz").string()));
        CHECK(contains(m, "symbolic links"));
    }
}

TEST_CASE("saving over an existing file keeps its permission bits") {
    temp_dir d;
    const auto target = d.path / "p.npz";
    store_with(1.f).save(target);
    fs::permissions(target, fs::perms::owner_read | fs::perms::owner_write);  // 0600: main reset it to 0644
    store_with(2.f).save(target);
    CHECK(perms_of(target) == (fs::perms::owner_read | fs::perms::owner_write));
    CHECK(first_value(target) == 2.f);
}

TEST_CASE("saving over a read-only file is refused and leaves the file as it was (numpy: PermissionError)") {
    temp_dir d;
    const auto target = d.path / "frozen.npz";
    store_with(1.f).save(target);
    const auto before = read_bytes(target);
    const auto ro = fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read;
    fs::permissions(target, ro);
    for (const fs::path& via : {target, d.path / "to_frozen.npz"}) {
        CAPTURE(via);
        if (via != target) fs::create_symlink("frozen.npz", via);
        const std::string m = what_of([&] { store_with(2.f).save(via); });
        CHECK(contains(m, via.string()));
        CHECK(contains(m, "read-only"));
        CHECK(contains(m, "0444"));
        CHECK(read_bytes(target) == before);
        CHECK(perms_of(target) == ro);
    }
    CHECK(d.names().size() == 2);  // the file and the link, no temporary
    // Made writable again, it is replaced as usual.
    fs::permissions(target, fs::perms::owner_write, fs::perm_options::add);
    store_with(3.f).save(target);
    CHECK(first_value(target) == 3.f);
}

// ---- finding 8: non-regular files ---------------------------------------------------------------

#if KATA_TEST_POSIX
TEST_CASE("loading a FIFO is refused at once instead of blocking for a writer") {
    temp_dir d;
    const auto fifo = d.path / "weights.npz";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    auto attempt = [&](const std::function<void()>& f) {
        auto fut = std::async(std::launch::async, [&] { return what_of(f); });
        if (fut.wait_for(std::chrono::seconds(10)) == std::future_status::ready) return fut.get();
        // Still blocked (main's std::ifstream waits in open()): release it with a writer that
        // closes at once, so that the test fails instead of hanging.
        const int w = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
        if (w >= 0) ::close(w);
        (void)fut.get();
        return std::string("<blocked on the FIFO>");
    };
    parameter_store s = store_with(1.f);
    const auto before = snapshot(s);
    std::string m = attempt([&] { s.load(fifo); });
    CHECK(contains(m, fifo.string()));
    CHECK(contains(m, "FIFO"));
    CHECK(contains(m, "not a regular file"));
    CHECK(snapshot(s) == before);
    m = attempt([&] { (void)kio::load_npy(fifo); });
    CHECK(contains(m, "FIFO"));
}

TEST_CASE("loading a directory or a device is refused naming what it is") {
    temp_dir d;
    std::string m = what_of([&] { (void)kio::read_file_bytes(d.path); });
    CHECK(contains(m, d.path.string()));
    CHECK(contains(m, "a directory, not a regular file"));
    if (fs::exists("/dev/null")) {
        parameter_store s;
        m = what_of([&] { s.load("/dev/null"); });  // main: "not a zip/npz file (only 0 bytes)"
        CHECK(contains(m, "/dev/null: cannot read: a character device, not a regular file"));
    }
}
#endif

// ---- finding 4: names that do not fit a ZIP member name -----------------------------------------

TEST_CASE("save refuses a parameter name too long for an .npz member, before writing, naming it") {
    temp_dir d;
    const auto target = d.path / "p.npz";
    store_with(1.f).save(target);
    const auto before = read_bytes(target);
    // 65532 + ".npy" = 65536 bytes: one more than the 16-bit ZIP name length holds.
    for (std::size_t len : {std::size_t(65532), std::size_t(65536), std::size_t(70000)}) {
        CAPTURE(len);
        parameter_store s = store_with(2.f);
        const std::string name = "x" + std::string(len - 1, 'n');
        s.get_or_create(name, {1});
        const std::string m = what_of([&] { s.save(target); });
        CHECK(contains(m, target.string() + ": parameter 'x" + std::string(63, 'n') + "...'"));
        CHECK(contains(m, "(a " + std::to_string(len) + "-byte name): too long for an .npz member name"));
        CHECK(m.size() < 500);  // the message does not carry the whole name
        CHECK(read_bytes(target) == before);
        CHECK(d.names() == std::vector<std::string>{"p.npz"});
        std::vector<kio::npz_item> items{kio::make_npz_item(name, s.at(name).data)};
        CHECK_THROWS_AS((void)kio::write_npz(items), std::invalid_argument);
    }
    // The longest name that fits (65531 + ".npy" = 65535) is written and read back, also under a scope
    // (the saved key is relative to the scope).
    parameter_store s;
    const std::string longest(kio::npz_max_key_bytes, 'k');
    {
        auto g = s.scope("outer");
        s.get_or_create(longest, {3}, initializer::constant(7.f));
        s.save(target);
    }
    parameter_store t;
    t.load(target);
    REQUIRE(t.contains(longest));
    CHECK(t.at(longest).data(2) == 7.f);
}

// ---- issue 10 point 4: one-call .npy reader and writer ----------------------------------------------

namespace {

template <class T>
void check_npy(const std::string& stem, const std::map<std::string, expected_array>& exp) {
    CAPTURE(stem);
    const auto path = fixture("arrays/" + stem + ".npy");
    const xt::xarray<T> a = kio::load_npy<T>(path);
    const expected_array& x = exp.at(stem);
    CHECK(std::vector<std::size_t>(a.shape().begin(), a.shape().end()) == x.shape);
    REQUIRE(a.size() == x.values.size());
    std::size_t i = 0;
    for (auto v : a) CHECK(static_cast<double>(v) == x.values[i++]);
    // Written back: numpy 1.24's exact bytes.
    temp_dir d;
    kio::save_npy(d.path / "out.npy", a);
    CHECK(read_bytes(d.path / "out.npy") == read_bytes(path));
}

}  // namespace

TEST_CASE("load_npy / save_npy: numpy-written arrays of every element type, read exactly and written "
          "byte-identically") {
    const auto exp = read_expected(fixture("npy_arrays.txt"));
    check_npy<float>("f4_3x5x2", exp);
    check_npy<double>("f8_4", exp);
    check_npy<std::int32_t>("i4_2x3", exp);
    check_npy<std::int64_t>("i8_5", exp);
    check_npy<std::uint8_t>("u1_7", exp);
    check_npy<bool>("b1_2x2", exp);
    check_npy<float>("f4_scalar", exp);
    xt::xarray<float> a = kio::load_npy(fixture("arrays/f4_3x5x2.npy"));  // float by default
    CHECK(a.shape(2) == 2);
}

TEST_CASE("load_npy errors name the file, the dtypes and the shape") {
    const auto f8 = fixture("arrays/f8_4.npy");
    std::string m = what_of([&] { (void)kio::load_npy(f8); });
    CHECK(contains(m, f8.string() + ": dtype mismatch: expected float32, found float64 ('<f8', shape (4,))"));
    m = what_of([&] { (void)kio::load_npy<std::int32_t>(fixture("arrays/f4_3x5x2.npy")); });
    CHECK(contains(m, "expected int32, found float32 ('<f4', shape (3, 5, 2))"));
    const auto fortran = fixture("arrays/f4_fortran.npy");
    m = what_of([&] { (void)kio::load_npy(fortran); });
    CHECK(contains(m, fortran.string() + ": fortran_order=True"));
    m = what_of([&] { (void)kio::load_npy("/nonexistent/x.npy"); });
    CHECK(contains(m, "/nonexistent/x.npy"));
    temp_dir d;
    const auto whole = read_bytes(f8);
    write_bytes(d.path / "cut.npy", std::vector<std::byte>(whole.begin(), whole.begin() + 140));
    m = what_of([&] { (void)kio::load_npy<double>(d.path / "cut.npy"); });
    CHECK(contains(m, (d.path / "cut.npy").string() + ": truncated NPY data: shape (4,) of float64"));
}

TEST_CASE("save_npy writes expressions in their logical order, atomically, with the file semantics of save") {
    temp_dir d;
    const xt::xarray<float> a = kio::load_npy(fixture("arrays/f4_3x5x2.npy"));
    // A transposed view and a column-major copy: numpy must read the logical values back.
    kio::save_npy(d.path / "t.npy", xt::transpose(a, {2, 0, 1}));
    const xt::xarray<float> t = kio::load_npy(d.path / "t.npy");
    CHECK(t == xt::xarray<float>(xt::transpose(a, {2, 0, 1})));
    xt::xarray<float, xt::layout_type::column_major> cm = a;
    kio::save_npy(d.path / "cm.npy", cm);
    CHECK(read_bytes(d.path / "cm.npy") == read_bytes(fixture("arrays/f4_3x5x2.npy")));
    // Read-only target: refused, unchanged.
    fs::permissions(d.path / "cm.npy", fs::perms::owner_read);
    const std::string m = what_of([&] { kio::save_npy(d.path / "cm.npy", t); });
    CHECK(contains(m, "read-only"));
    CHECK(read_bytes(d.path / "cm.npy") == read_bytes(fixture("arrays/f4_3x5x2.npy")));
    auto names = d.names();
    CHECK(names.size() == 2);
}

TEST_CASE(
    "release_pages gives back only the whole pages inside the range and a load that used it reads right") {
    // A 5-page buffer of 1s; releasing [100, 3 pages + 50) frees pages 1 and 2 only (they read as 0),
    // the partial first and last pages keep their values.
    const std::size_t page = 4096;
    std::vector<std::byte> buf(5 * page + page, std::byte{1});
    // start on a page boundary inside the vector
    const auto base = (reinterpret_cast<std::uintptr_t>(buf.data()) + page - 1) / page * page;
    std::byte* p = reinterpret_cast<std::byte*>(base);
    const std::size_t got = kata::io::release_pages(std::span<const std::byte>(p + 100, 3 * page - 50));
#if KATA_TEST_POSIX && defined(__linux__)
    if (::sysconf(_SC_PAGESIZE) == long(page)) {
        CHECK(got == 2 * page);
        CHECK(p[page] == std::byte{0});
        CHECK(p[3 * page - 1] == std::byte{0});
        CHECK(p[99] == std::byte{1});
        CHECK(p[page - 1] == std::byte{1});
        CHECK(p[3 * page] == std::byte{1});
    }
#endif
    CHECK(kata::io::release_pages(std::span<const std::byte>(p + 1, page - 2)) == 0);  // no whole page
    CHECK(kata::io::release_pages({}) == 0);
    // A file with arrays spanning many pages loads the same values into an empty store and into one
    // that has the parameters (each array's pages are released after its copy).
    temp_dir dir;
    kata::parameter_store src;
    auto& a = src.create_or_replace("a", {3, 5000}, kata::initializer::constant(0));
    for (std::size_t i = 0; i < a.data.size(); ++i) a.data.data()[i] = float(i % 977) * 0.5f;
    auto& b = src.create_or_replace("b", {7, 1111}, kata::initializer::constant(0));
    for (std::size_t i = 0; i < b.data.size(); ++i) b.data.data()[i] = float(i % 13) - 6.f;
    src.save(dir.path / "w.npz");
    kata::parameter_store fresh, existing;
    fresh.load(dir.path / "w.npz");
    existing.create_or_replace("a", {3, 5000}, kata::initializer::constant(1));
    existing.create_or_replace("b", {7, 1111}, kata::initializer::constant(1));
    existing.load(dir.path / "w.npz", kata::load_mode::strict);
    for (auto* s : {&fresh, &existing}) {
        CHECK(s->at("a").data == a.data);
        CHECK(s->at("b").data == b.data);
    }
}
