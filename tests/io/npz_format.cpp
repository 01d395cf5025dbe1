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
std::vector<std::byte> patch_member(std::vector<std::byte> z, const std::string& from,
                                    const std::string& to) {
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
    const std::uint32_t crc =
        kio::detail::crc32_update(0, std::span<const std::byte>(z).subspan(30 + nlen, size));
    for (std::size_t off : {std::size_t(14), cd + 16})
        for (int i = 0; i < 4; ++i) z[off + i] = std::byte(std::uint8_t(crc >> (8 * i)));
    return z;
}

std::vector<std::byte> one_entry_npz(const std::string& name = "x") {
    xt::xarray<float> a = pattern({2, 3});
    std::vector<kio::npz_item> items{kio::make_npz_item(name, a)};
    return kio::write_npz(items);
}

}  // namespace

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
        CHECK(entries[i].name == order[i]);  // archive order is kept
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
    const std::string m =
        what_of([&] { (void)kio::to_xarray<float>(entry(es, "f8").array, "dtypes.npz: entry 'f8'"); });
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
    std::vector<kio::npz_item> items{kio::make_npz_item("a/b/f", f),    kio::make_npz_item("d", d),
                                     kio::make_npz_item("i", i),        kio::make_npz_item("b", b),
                                     kio::make_npz_item("s", scalar),   kio::make_npz_item("e", empty),
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
        CHECK(kio::write_npz(items, {z64}) == bytes);  // deterministic
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
    CHECK(errors > good.size());  // the vast majority of flips are detected
}

TEST_CASE("a flipped CRC byte is reported with file and entry") {
    auto b = read_bytes(fixture("params_numpy.npz"));
    b[14] ^= std::byte(0x5A);  // local header CRC of the first member; the central one is authoritative
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
    const std::string huge =
        "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }";
    CHECK(contains(what_of([&] { (void)kio::parse_npy(hdr(huge), "m"); }), "overflows"));
    const std::string big = "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }";
    CHECK(contains(what_of([&] { (void)kio::parse_npy(hdr(big), "m"); }), "truncated NPY data"));
    const std::string digits =
        "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }";
    CHECK(contains(what_of([&] { (void)kio::parse_npy(hdr(digits), "m"); }), "overflows 64 bits"));
    auto b = hdr("{}", 2);
    b[8] = std::byte(0xFF);
    b[9] = std::byte(0xFF);
    b[10] = std::byte(0xFF);
    CHECK(contains(what_of([&] { (void)kio::parse_npy(b, "m"); }), "exceeds the data size"));
    CHECK(contains(what_of([&] {
                       (void)kio::parse_npy(
                           hdr("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': ()}"), "m");
                   }),
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
    CHECK(contains(what_of([&] { (void)kio::read_npz(renamed, "n.npz"); }),
                   "n.npz: entry 'x.npz': not an .npy array"));
}

TEST_CASE("missing or unreadable files name the path") {
    const std::string m = what_of([] { (void)kio::read_file_bytes("/nonexistent/dir/p.npz"); });
    CHECK(contains(m, "/nonexistent/dir/p.npz"));
}

// ---- issue 15, findings 6, 8 and 9: end-record counts, leading bytes, same-width dtypes, entry bounds ----

namespace {

std::vector<std::byte> three_entry_npz(bool zip64 = false) {
    static const xt::xarray<float> a = pattern({2, 3}), b = pattern({4}), c = pattern({1, 2, 2});
    std::vector<kio::npz_item> items{kio::make_npz_item("a", a), kio::make_npz_item("b", b),
                                     kio::make_npz_item("c", c)};
    return kio::write_npz(items, {zip64});
}

void put16(std::vector<std::byte>& z, std::size_t off, std::uint64_t v) {
    for (int i = 0; i < 2; ++i) z[off + i] = std::byte(std::uint8_t(v >> (8 * i)));
}
void put32(std::vector<std::byte>& z, std::size_t off, std::uint64_t v) {
    for (int i = 0; i < 4; ++i) z[off + i] = std::byte(std::uint8_t(v >> (8 * i)));
}
void put64(std::vector<std::byte>& z, std::size_t off, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) z[off + i] = std::byte(std::uint8_t(v >> (8 * i)));
}

}  // namespace

// Finding 6: main trusted the end record's count, read the first N central entries and returned
// success (merge-mode loads then silently skipped the rest).
TEST_CASE("an end record that counts fewer or more entries than the central directory holds is rejected") {
    for (const char* source : {"kata", "numpy"}) {
        CAPTURE(source);
        const auto good =
            std::string(source) == "kata" ? three_entry_npz() : read_bytes(fixture("params_numpy.npz"));
        const std::size_t eocd = good.size() - 22;
        const std::uint64_t n = kio::detail::read_le(good, eocd + 10, 2);
        REQUIRE(kio::read_npz(good, "ok.npz").size() == n);
        for (std::uint64_t forged : {n - 1, std::uint64_t(1), n + 1}) {
            CAPTURE(forged);
            auto z = good;
            put16(z, eocd + 8, forged);
            put16(z, eocd + 10, forged);
            const std::string m = what_of([&] { (void)kio::read_npz(z, "count.npz"); });
            if (forged < n) {
                CHECK(contains(m, "count.npz: the end record counts " + std::to_string(forged) +
                                      " entries but the central directory holds more"));
            } else {  // either the loop runs out of entries or the count cannot fit the directory's bytes
                const bool loop =
                    contains(m, "count.npz: the end record counts " + std::to_string(forged) +
                                    " entries but the central directory holds only " + std::to_string(n));
                const bool fit =
                    contains(m, "count.npz: central directory claims " + std::to_string(forged) + " entries");
                CHECK_MESSAGE((loop || fit), m);
            }
        }
        // Count and directory size both lowered to describe only the first entry: the directory the
        // end record describes no longer ends at the end record.
        auto z = good;
        const std::size_t cd = std::size_t(kio::detail::read_le(z, eocd + 16, 4));
        const std::size_t first = 46 + std::size_t(kio::detail::read_le(z, cd + 28, 2)) +
                                  std::size_t(kio::detail::read_le(z, cd + 30, 2));
        put16(z, eocd + 8, 1);
        put16(z, eocd + 10, 1);
        put32(z, eocd + 12, first);
        const std::string m = what_of([&] { (void)kio::read_npz(z, "cut.npz"); });
        CHECK(contains(m, "cut.npz: the end record's central directory"));
        CHECK(contains(m, "1 entries"));
    }
}

TEST_CASE("zip64: an end record count that disagrees with the central directory or the classic record is "
          "rejected") {
    const auto good = three_entry_npz(/*zip64=*/true);
    const std::size_t eocd = good.size() - 22, loc = eocd - 20;
    const std::size_t rec = std::size_t(kio::detail::read_le(good, loc + 8, 8));
    REQUIRE(kio::read_npz(good, "ok.npz").size() == 3);
    auto z = good;
    put64(z, rec + 24, 2);
    put64(z, rec + 32, 2);
    CHECK(contains(what_of([&] { (void)kio::read_npz(z, "z.npz"); }),
                   "the end record counts 2 entries but the central directory holds more"));
    z = good;
    put16(z, eocd + 8, 2);  // a classic count that is not the saturated marker must match the zip64 one
    put16(z, eocd + 10, 2);
    CHECK(contains(what_of([&] { (void)kio::read_npz(z, "z.npz"); }), "the zip64 end record counts 3"));
}

TEST_CASE("a miscounted archive leaves the parameter store unchanged (strong guarantee)") {
    temp_dir d;
    auto z = read_bytes(fixture("params_numpy.npz"));
    put16(z, z.size() - 22 + 8, 3);
    put16(z, z.size() - 22 + 10, 3);
    write_bytes(d.path / "short.npz", z);
    kata::parameter_store s;
    s.get_or_create("fc/affine/b", {5}, kata::initializer::constant(1.f));
    const auto before = snapshot(s);
    CHECK(contains(what_of([&] { s.load(d.path / "short.npz"); }), "the end record counts 3 entries"));
    CHECK(snapshot(s) == before);
}

// Finding 8: an archive with a prefix (self-extracting stub, concatenated file) was reported as
// "corrupt central directory at entry 0". Decision (kata/io/npz.hpp): refused, with a message that
// says what it is.
TEST_CASE("leading bytes before the archive are reported as such") {
    std::vector<std::byte> stub;
    for (char c : std::string("#!/bin/sh\necho self-extracting stub\nexit 0\n")) stub.push_back(std::byte(c));
    for (const char* f : {"params_numpy.npz", "params_kata_zip64.npz"}) {
        CAPTURE(f);
        auto z = stub;
        const auto body = read_bytes(fixture(f));
        z.insert(z.end(), body.begin(), body.end());
        const std::string m = what_of([&] { (void)kio::read_npz(z, "sfx.npz"); });
        CHECK(contains(m, "sfx.npz: the archive starts with " + std::to_string(stub.size()) +
                              " bytes that are not part of it"));
        CHECK(contains(m, "self-extracting"));
    }
}

// Finding 9: main's dtype checks were only ever tested with types of another width (float64 read as
// float32). A check that compared item sizes would have passed every test; these would fail it.
TEST_CASE("a same-width dtype is a dtype mismatch: int32 as float32, uint8 and bool as int8") {
    const auto path = fixture("dtypes.npz");
    const auto bytes = read_bytes(path);
    const auto es = kio::read_npz(bytes, path.string());
    auto m = what_of([&] { (void)kio::to_xarray<float>(entry(es, "i4").array, "dtypes.npz: entry 'i4'"); });
    CHECK(contains(
        m, "dtypes.npz: entry 'i4': dtype mismatch: expected float32, found int32 ('<i4', shape (1, 6))"));
    m = what_of([&] { (void)kio::to_xarray<std::int32_t>(entry(es, "f4").array, "e"); });
    CHECK(contains(m, "dtype mismatch: expected int32, found float32"));
    m = what_of([&] { (void)kio::to_xarray<std::int8_t>(entry(es, "u1").array, "e"); });
    CHECK(contains(m, "dtype mismatch: expected int8, found uint8 ('|u1'"));
    m = what_of([&] { (void)kio::to_xarray<std::int8_t>(entry(es, "b1").array, "e"); });
    CHECK(contains(m, "dtype mismatch: expected int8, found bool ('|b1'"));
    m = what_of([&] { (void)kio::to_xarray<bool>(entry(es, "u1").array, "e"); });
    CHECK(contains(m, "dtype mismatch: expected bool, found uint8"));

    // The parameter store's own check (float32 only): a numpy-written int32 entry of the right shape,
    // both onto an existing parameter (copied in place: only this check stands between the int32 bits
    // and the float buffer) and as a new one.
    const std::string f = fixture("params_i4.npz").string();
    for (bool existing : {true, false}) {
        CAPTURE(existing);
        kata::parameter_store s;
        s.get_or_create("fc/affine/b", {5}, kata::initializer::constant(1.f));
        if (existing) s.get_or_create("conv1/conv/W", {4, 3, 3, 3}, kata::initializer::constant(1.f));
        const auto before = snapshot(s);
        m = what_of([&] { s.load(f); });
        CHECK(contains(m, f + ": parameter 'conv1/conv/W': dtype mismatch: expected float32, found int32"));
        CHECK(snapshot(s) == before);
    }
}

// Finding 9: an entry whose data runs one byte into the central directory. The byte it reads is
// inside the buffer (no sanitizer or fuzzer can see it) and the CRC is made to match, so only the
// bound "data ends before the central directory" catches it.
TEST_CASE("an entry whose data runs one byte into the central directory lies outside the file") {
    auto z = one_entry_npz("x");
    REQUIRE_NOTHROW((void)kio::read_npz(z, "ok.npz"));
    const std::size_t eocd = z.size() - 22;
    const std::size_t cd = std::size_t(kio::detail::read_le(z, eocd + 16, 4));
    const std::size_t size = std::size_t(kio::detail::read_le(z, cd + 20, 4));
    const std::size_t nlen = std::size_t(kio::detail::read_le(z, 26, 2));
    REQUIRE(30 + nlen + size == cd);  // the entry's data ends exactly where the directory starts
    put32(z, cd + 20, size + 1);
    put32(z, cd + 24, size + 1);
    const auto data = std::span<const std::byte>(z).subspan(30 + nlen, size + 1);
    put32(z, cd + 16, kio::detail::crc32_update(0, data));  // the CRC field is not in the covered byte
    REQUIRE(kio::detail::crc32_update(0, std::span<const std::byte>(z).subspan(30 + nlen, size + 1)) ==
            kio::detail::read_le(z, cd + 16, 4));
    const std::string m = what_of([&] { (void)kio::read_npz(z, "over.npz"); });
    CHECK(contains(m, "over.npz: entry 'x.npy': entry data (offset " + std::to_string(30 + nlen) + ", size " +
                          std::to_string(size + 1) + ") lies outside the file"));
}
