// NPY/NPZ layer: reading numpy-written files, writing files numpy reads (byte-identical to a committed
// fixture verified by tools/fixtures/make_npz_fixtures.py), and robustness against malformed input.
#include "io_test_support.hpp"

#include <doctest/doctest.h>

#include <kata/io/npy.hpp>
#include <kata/io/npz.hpp>

#include <cstring>

using namespace kata_test;
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

const kio::npz_entry& entry(const std::vector<kio::npz_entry>& es, const std::string& name) {
    for (auto& e : es)
        if (e.name == name) return e;
    throw std::runtime_error("no entry " + name);
}

template <class T>
void check_against(const kio::npz_entry& e, const expected_array& x) {
    auto a = kio::to_xarray<T>(e.array, e.name);
    REQUIRE(std::vector<std::size_t>(a.shape().begin(), a.shape().end()) == x.shape);
    REQUIRE(a.size() == x.values.size());
    std::size_t i = 0;
    for (auto v : a) CHECK(static_cast<double>(v) == x.values[i++]);
}

// Replaces `from` by `to` (same length) inside the single member of a kata-written (non-zip64)
// archive and fixes both CRC fields, so the damage reaches the NPY parser.
std::vector<std::byte> patch_member(std::vector<std::byte> z, const std::string& from, const std::string& to) {
    REQUIRE(from.size() == to.size());
    const char* base = reinterpret_cast<const char*>(z.data());
    const std::string_view sv(base, z.size());
    const auto pos = sv.find(from);
    REQUIRE(pos != std::string_view::npos);
    std::memcpy(z.data() + pos, to.data(), to.size());
    const std::size_t eocd = z.size() - 22;
    const std::size_t cd = std::size_t(kio::detail::read_le(z, eocd + 16, 4));
    const std::size_t nlen = std::size_t(kio::detail::read_le(z, 26, 2));
    const std::size_t size = std::size_t(kio::detail::read_le(z, 22, 4));
    const std::uint32_t crc = kio::detail::crc32_update(0, std::span<const std::byte>(z).subspan(30 + nlen, size));
    for (std::size_t off : {std::size_t(14), cd + 16})
        for (int i = 0; i < 4; ++i) z[off + i] = std::byte(std::uint8_t(crc >> (8 * i)));
    return z;
}

std::vector<std::byte> one_entry_npz(const std::string& name = "x") {
    xt::xarray<float> a = pattern({2, 3});
    std::vector<kio::npz_item> items{kio::make_npz_item(name, a)};
    return kio::write_npz(items);
}

} // namespace

TEST_CASE("crc32 matches the standard check value") {
    const char* s = "123456789";
    CHECK(kio::detail::crc32_update(0, std::as_bytes(std::span(s, 9))) == 0xCBF43926u);
}

TEST_CASE("npz written by numpy.savez (zip64 local extra fields) reads back exact values") {
    const auto path = fixture("params_numpy.npz");
    const auto bytes = read_bytes(path);
    const auto entries = kio::read_npz(bytes, path.string());
    std::vector<std::string> order;
    const auto exp = read_expected(fixture("params_numpy.txt"), &order);
    REQUIRE(entries.size() == exp.size());
    for (std::size_t i = 0; i < entries.size(); ++i) {
        CHECK(entries[i].name == order[i]); // archive order is kept
        check_against<float>(entries[i], exp.at(entries[i].name));
    }
}

TEST_CASE("every supported dtype reads into its own element type, others are dtype errors") {
    const auto path = fixture("dtypes.npz");
    const auto bytes = read_bytes(path);
    const auto es = kio::read_npz(bytes, path.string());
    const auto exp = read_expected(fixture("dtypes.txt"));
    check_against<float>(entry(es, "f4"), exp.at("f4"));
    check_against<double>(entry(es, "f8"), exp.at("f8"));
    check_against<std::int8_t>(entry(es, "i1"), exp.at("i1"));
    check_against<std::int32_t>(entry(es, "i4"), exp.at("i4"));
    check_against<std::int64_t>(entry(es, "i8"), exp.at("i8"));
    check_against<std::uint8_t>(entry(es, "u1"), exp.at("u1"));
    check_against<bool>(entry(es, "b1"), exp.at("b1"));
    const auto& f2 = entry(es, "f2");
    CHECK(f2.array.dtype == kio::npy_dtype::f2);
    CHECK(f2.array.shape == std::vector<std::size_t>{2, 3});
    CHECK(f2.array.data.size() == 12);
    const std::string m = what_of([&] { (void)kio::to_xarray<float>(entry(es, "f8").array, "dtypes.npz: entry 'f8'"); });
    CHECK(contains(m, "dtypes.npz: entry 'f8'"));
    CHECK(contains(m, "expected float32, found float64"));
}

TEST_CASE("NPY versions 1.0, 2.0 and 3.0 are read") {
    const auto path = fixture("npy_versions.npz");
    const auto bytes = read_bytes(path);
    const auto es = kio::read_npz(bytes, path.string());
    const auto exp = read_expected(fixture("params_numpy.txt"));
    REQUIRE(es.size() == 3);
    CHECK(es[0].array.version_major == 1);
    CHECK(es[1].array.version_major == 2);
    CHECK(es[2].array.version_major == 3);
    for (auto& e : es) check_against<float>(e, exp.at("fc/affine/W"));
}

TEST_CASE("unsupported inputs give clear errors naming file and entry") {
    auto msg = [](const std::string& f) {
        return what_of([&] {
            const auto b = read_bytes(fixture(f));
            (void)kio::read_npz(b, fixture(f).string());
        });
    };
    const std::string c = msg("params_compressed.npz");
    CHECK(contains(c, "params_compressed.npz"));
    CHECK(contains(c, "conv1/conv/W.npy"));
    CHECK(contains(c, "compressed npz"));
    CHECK(contains(c, "not supported"));
    const std::string f = msg("fortran.npz");
    CHECK(contains(f, "fortran.npz: entry 'w'"));
    CHECK(contains(f, "fortran_order"));
    const std::string be = msg("bigendian.npz");
    CHECK(contains(be, "bigendian.npz: entry 'w'"));
    CHECK(contains(be, "big-endian"));
}

TEST_CASE("NPY writer emits numpy's exact header layout") {
    xt::xarray<float> a = pattern({4, 3, 3, 3});
    const auto npy = kio::write_npy(a);
    const std::string_view s(reinterpret_cast<const char*>(npy.data()), npy.size());
    const std::size_t header = 10 + std::size_t(kio::detail::read_le(npy, 8, 2));
    CHECK(header % 64 == 0);
    CHECK(s.substr(header - 1, 1) == "\n");
    CHECK(s.substr(10).starts_with("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 3, 3, 3), }"));
    const auto v = kio::parse_npy(npy, "mem");
    CHECK(v.shape == std::vector<std::size_t>{4, 3, 3, 3});
    CHECK(kio::to_xarray<float>(v, "mem") == a);
    CHECK(kio::shape_repr(std::vector<std::size_t>{}) == "()");
    CHECK(kio::shape_repr(std::vector<std::size_t>{5}) == "(5,)");
}

TEST_CASE("npz round trip, plain and forced zip64, every dtype and a 0-d array") {
    xt::xarray<float> f = pattern({3, 4});
    xt::xarray<double> d = {1.5, -2.25};
    xt::xarray<std::int64_t> i = {{1, -2}, {3, 4}};
    xt::xarray<bool> b = {true, false, true};
    xt::xarray<float> scalar = pattern({});
    xt::xarray<float> empty = xt::zeros<float>({0, 3});
    std::vector<kio::npz_item> items{kio::make_npz_item("a/b/f", f), kio::make_npz_item("d", d),
                                     kio::make_npz_item("i", i),     kio::make_npz_item("b", b),
                                     kio::make_npz_item("s", scalar), kio::make_npz_item("e", empty),
                                     kio::make_npz_item("ünïcode/ß", f)};
    for (bool z64 : {false, true}) {
        CAPTURE(z64);
        const auto bytes = kio::write_npz(items, {z64});
        const auto es = kio::read_npz(bytes, "mem.npz");
        REQUIRE(es.size() == items.size());
        CHECK(es[0].name == "a/b/f");
        CHECK(kio::to_xarray<float>(es[0].array, "") == f);
        CHECK(kio::to_xarray<double>(es[1].array, "") == d);
        CHECK(kio::to_xarray<std::int64_t>(es[2].array, "") == i);
        CHECK(kio::to_xarray<bool>(es[3].array, "") == b);
        CHECK(es[4].array.shape.empty());
        CHECK(kio::to_xarray<float>(es[4].array, "")() == scalar());
        CHECK(es[5].array.shape == std::vector<std::size_t>{0, 3});
        CHECK(es[6].name == "ünïcode/ß");
        CHECK(kio::write_npz(items, {z64}) == bytes); // deterministic
    }
}

TEST_CASE("writer rejects programming errors") {
    xt::xarray<float> f = pattern({3});
    std::vector<kio::npz_item> dup{kio::make_npz_item("a", f), kio::make_npz_item("a", f)};
    CHECK_THROWS_AS(kio::write_npz(dup), std::invalid_argument);
    std::vector<kio::npz_item> bad{kio::make_npz_item("a", f)};
    bad[0].shape = {4};
    CHECK_THROWS_AS(kio::write_npz(bad), std::invalid_argument);
}

TEST_CASE("every truncation of a numpy file throws io_error naming the file") {
    const auto bytes = read_bytes(fixture("params_numpy.npz"));
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        const std::span<const std::byte> part(bytes.data(), n);
        const std::string m = what_of([&] { (void)kio::read_npz(part, "cut.npz"); });
        if (!contains(m, "cut.npz: ")) FAIL_CHECK("length " << n << ": " << m);
    }
}

TEST_CASE("every single-byte corruption either throws io_error or parses consistently") {
    // Fields kata does not interpret (timestamps, versions, attributes) may change without error;
    // everything else must be caught (CRC, structure) -- and nothing may crash.
    const auto good = read_bytes(fixture("params_numpy.npz"));
    std::size_t errors = 0;
    for (std::size_t i = 0; i < good.size(); ++i) {
        for (std::uint8_t x : {std::uint8_t(0x01), std::uint8_t(0x80), std::uint8_t(0xFF)}) {
            auto b = good;
            b[i] ^= std::byte(x);
            try {
                const auto es = kio::read_npz(b, "flip.npz");
                for (auto& e : es)
                    if (e.array.dtype == kio::npy_dtype::f4) (void)kio::to_xarray<float>(e.array, e.name);
            } catch (const kata::io_error& e) {
                ++errors;
                if (!contains(e.what(), "flip.npz: ")) FAIL_CHECK(e.what());
            }
        }
    }
    CHECK(errors > good.size()); // the vast majority of flips are detected
}

TEST_CASE("a flipped CRC byte is reported with file and entry") {
    auto b = read_bytes(fixture("params_numpy.npz"));
    b[14] ^= std::byte(0x5A); // local header CRC of the first member; the central one is authoritative
    CHECK_NOTHROW((void)kio::read_npz(b, "x.npz"));
    const std::size_t cd = std::size_t(kio::detail::read_le(b, b.size() - 22 + 16, 4));
    b[cd + 16] ^= std::byte(0x5A);
    const std::string m = what_of([&] { (void)kio::read_npz(b, "x.npz"); });
    CHECK(contains(m, "x.npz: entry 'conv1/conv/W.npy': CRC-32 mismatch"));
}

TEST_CASE("bad NPY headers inside a valid zip are reported") {
    const auto z = one_entry_npz("p/q");
    CHECK_NOTHROW((void)kio::read_npz(z, "h.npz"));
    struct c {
        const char *from, *to, *expect;
    } cases[] = {
        {"'descr'", "'dascr'", "unexpected key 'dascr'"},
        {"'<f4'", "'<c8'", "unsupported dtype '<c8'"},
        {"False", "Frlse", "must be True or False"},
        {"(2, 3)", "(2, 4)", "truncated NPY data: shape (2, 4)"},
        {"(2, 3)", "(2, 2)", "trailing bytes"},
        {"(2, 3)", "(2,-3)", "non-negative integers"},
        {"NUMPY", "NUMPZ", "bad magic"},
    };
    for (auto& k : cases) {
        CAPTURE(k.from);
        const auto bad = patch_member(z, k.from, k.to);
        const std::string m = what_of([&] { (void)kio::read_npz(bad, "h.npz"); });
        CHECK(contains(m, "h.npz: entry 'p/q'"));
        CHECK(contains(m, k.expect));
    }
}

TEST_CASE("forged sizes never allocate: shape overflow and huge counts are errors") {
    auto hdr = [](const std::string& dict, int major = 1) {
        std::vector<std::byte> b;
        for (char ch : std::string("\x93NUMPY")) b.push_back(std::byte(ch));
        b.push_back(std::byte(major));
        b.push_back(std::byte(0));
        kio::detail::put_le(b, dict.size(), major == 1 ? 2 : 4);
        kio::detail::put_str(b, dict);
        return b;
    };
    const std::string huge = "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }";
    CHECK(contains(what_of([&] { (void)kio::parse_npy(hdr(huge), "m"); }), "overflows"));
    const std::string big = "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }";
    CHECK(contains(what_of([&] { (void)kio::parse_npy(hdr(big), "m"); }), "truncated NPY data"));
    const std::string digits = "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }";
    CHECK(contains(what_of([&] { (void)kio::parse_npy(hdr(digits), "m"); }), "overflows 64 bits"));
    auto b = hdr("{}", 2);
    b[8] = std::byte(0xFF);
    b[9] = std::byte(0xFF);
    b[10] = std::byte(0xFF);
    CHECK(contains(what_of([&] { (void)kio::parse_npy(b, "m"); }), "exceeds the data size"));
    CHECK(contains(what_of([&] { (void)kio::parse_npy(hdr("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': ()}"), "m"); }),
                   "structured"));

    // A central directory that claims 65535 entries in a 22-byte file.
    std::vector<std::byte> z;
    kio::detail::put_le(z, kio::detail::sig_eocd, 4);
    kio::detail::put_le(z, 0, 4);
    kio::detail::put_le(z, 0xFFFE, 2);
    kio::detail::put_le(z, 0xFFFE, 2);
    kio::detail::put_le(z, 0, 4);
    kio::detail::put_le(z, 0, 4);
    kio::detail::put_le(z, 0, 2);
    CHECK(contains(what_of([&] { (void)kio::read_npz(z, "e.npz"); }), "claims 65534 entries"));
    // An empty archive is valid.
    std::vector<kio::npz_item> none;
    CHECK(kio::read_npz(kio::write_npz(none), "empty.npz").empty());
}

TEST_CASE("non-.npy members and duplicate keys are errors, directory entries are skipped") {
    auto z = one_entry_npz("x");
    auto renamed = z;
    // Rename "x.npy" to "x.npz" in both headers (CRC covers data only).
    for (std::size_t i = 0; i + 5 <= renamed.size(); ++i)
        if (std::memcmp(renamed.data() + i, "x.npy", 5) == 0) renamed[i + 4] = std::byte('z');
    CHECK(contains(what_of([&] { (void)kio::read_npz(renamed, "n.npz"); }), "n.npz: entry 'x.npz': not an .npy array"));
}

TEST_CASE("missing or unreadable files name the path") {
    const std::string m = what_of([] { (void)kio::read_file_bytes("/nonexistent/dir/p.npz"); });
    CHECK(contains(m, "/nonexistent/dir/p.npz"));
}
